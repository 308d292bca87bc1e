"""What can be checked of docker/ without a Docker engine: the files the
Dockerfile copies exist, and the GeNN / mlGeNN releases and the Python it
pins are those README.md and setup.py state."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"


def _instructions():
    """Dockerfile instructions with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _arg(name):
    for line in _instructions():
        match = re.fullmatch(rf"ARG\s+{name}=(\S+)", line)
        if match:
            return match.group(1)
    pytest.fail(f"docker/Dockerfile has no ARG {name}=...")


def test_dockerfile_copies_files_that_exist():
    copies = [line.split()[1:] for line in _instructions()
              if line.startswith("COPY ")]
    assert copies, "the Dockerfile copies nothing"
    for args in copies:
        assert not any(a.startswith("--from") for a in args)
        *sources, destination = args
        assert destination.startswith("/opt/ml_genn_spatial")
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing"
    copied = {s.rstrip("/") for args in copies for s in args[:-1]}
    # Everything `pip install -e` and the tests need
    assert {"setup.py", "README.md", "pytest.ini", "ml_genn_spatial",
            "snippets", "examples", "tests"} <= copied


def test_pinned_releases_match_readme_and_setup():
    readme = (ROOT / "README.md").read_text()
    genn = re.search(r"github\.com/genn-team/genn\s+\(release\s+([\w.]+)\)",
                     readme)
    ml_genn = re.search(
        r"github\.com/genn-team/ml_genn\s+\(release\s+(\w+)\)", readme)
    assert genn and ml_genn, "README.md no longer names the releases"

    image = _arg("GENN_IMAGE")
    assert image.startswith("gennteam/genn:"), image
    assert image.split(":", 1)[1] == genn.group(1)
    assert _arg("GENN_VERSION") == genn.group(1)
    assert _arg("ML_GENN_TAG") == ml_genn.group(1)
    text = DOCKERFILE.read_text()
    assert "github.com/genn-team/ml_genn.git" in text
    assert "/opt/ml_genn/ml_genn" in text  # mlGeNN's package folder

    # The image refuses a Python older than setup.py's python_requires
    required = re.search(r'python_requires=">=(\d+)\.(\d+)"',
                         (ROOT / "setup.py").read_text())
    assert required, "setup.py has no python_requires"
    assert (f"sys.version_info >= ({required.group(1)}, "
            f"{required.group(2)})") in text


def test_docker_readme_has_build_run_and_test_commands():
    readme = (ROOT / "docker" / "README.md").read_text()
    assert "docker build -f docker/Dockerfile" in readme
    assert "--gpus all" in readme
    assert "-v /path/to/data:/data" in readme and ":/output" in readme
    assert "python3 -m pytest" in readme
    for script in ("shd.py", "yin_yang.py", "ssc.py"):
        assert script in readme
