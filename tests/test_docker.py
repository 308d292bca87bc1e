"""What can be checked of docker/ without a Docker engine: the files the
Dockerfile copies exist, the base image is a documented CUDA 12 devel
image, GeNN and mlGeNN are built from the release tags README.md and
setup.py (through ml_genn_spatial/_genn.py) name, the image runs as a
non-root user, and its default command is the GPU check. hadolint checks
the rest in .ci/run."""
import re
from pathlib import Path

import pytest

from ml_genn_spatial import _genn

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"

#: Python of the Ubuntu releases NVIDIA's CUDA images are built on
UBUNTU_PYTHON = {"22.04": (3, 10), "24.04": (3, 12)}


def _instructions():
    """Dockerfile instructions with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [re.sub(r"\s+", " ", line.strip()) for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _stages():
    """Instructions per build stage, [(FROM line, [instructions])]."""
    stages = []
    for line in _instructions():
        if line.startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def _arg(name):
    for line in _instructions():
        match = re.fullmatch(rf"ARG\s+{name}=(\S+)", line)
        if match:
            return match.group(1)
    pytest.fail(f"docker/Dockerfile has no ARG {name}=...")


def test_dockerfile_copies_files_that_exist():
    copies = [[a for a in line.split()[1:] if not a.startswith("--chown")]
              for line in _instructions() if line.startswith("COPY ")]
    assert copies, "the Dockerfile copies nothing"
    # Between stages: only the virtual environment the build stage made
    from_stage = [args for args in copies if args[0].startswith("--from")]
    assert from_stage == [["--from=build", "/opt/venv", "/opt/venv"]]
    copies = [args for args in copies if args not in from_stage]
    for args in copies:
        *sources, destination = args
        assert destination.startswith("/opt/ml_genn_spatial")
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing"
    copied = {s.rstrip("/") for args in copies for s in args[:-1]}
    # Everything `pip install -e` and the tests need, and the GPU check
    assert {"setup.py", "pyproject.toml", "README.md", "pytest.ini",
            "ml_genn_spatial",
            "snippets", "examples", "tests", "benchmarks"} <= copied


def test_base_is_a_documented_cuda_12_devel_image():
    image = _arg("CUDA_IMAGE")
    match = re.fullmatch(r"nvidia/cuda:(12\.\d+\.\d+)-devel-ubuntu"
                         r"(22\.04|24\.04)", image)
    assert match, f"{image}: not nvidia/cuda:12.x.y-devel-ubuntu22.04/24.04"
    stages = _stages()
    assert [line for line, _ in stages] == [
        "FROM ${CUDA_IMAGE} AS build", "FROM ${CUDA_IMAGE}"]
    # The image's Python is one setup.py accepts
    required = re.search(r'python_requires=">=(\d+)\.(\d+)"',
                         (ROOT / "setup.py").read_text())
    assert required, "setup.py has no python_requires"
    assert UBUNTU_PYTHON[match.group(2)] >= (int(required.group(1)),
                                             int(required.group(2)))


def test_pinned_releases_match_readme_and_setup():
    readme = (ROOT / "README.md").read_text()
    genn = re.search(r"github\.com/genn-team/genn\s+\(release\s+([\w.]+)\)",
                     readme)
    ml_genn = re.search(
        r"github\.com/genn-team/ml_genn\s+\(release\s+(\w+)\)", readme)
    assert genn and ml_genn, "README.md no longer names the releases"

    assert _arg("GENN_TAG") == genn.group(1) == _genn.GENN_TAG
    assert _arg("ML_GENN_TAG") == ml_genn.group(1) == _genn.ML_GENN_TAG
    build = " ".join(_stages()[0][1])
    assert re.search(r'git clone --depth 1 --branch "\$\{GENN_TAG\}" '
                     r'https://github\.com/genn-team/genn\.git /opt/genn',
                     build)
    assert re.search(r'git clone --depth 1 --branch "\$\{ML_GENN_TAG\}" '
                     r'https://github\.com/genn-team/ml_genn\.git '
                     r'/opt/ml_genn', build)
    assert "pip install --no-cache-dir /opt/ml_genn/ml_genn" in build


def test_genn_is_built_with_its_cuda_backend():
    build = _stages()[0][1]
    env = next(i for i, line in enumerate(build)
               if line.startswith("ENV ") and "CUDA_PATH=/usr/local/cuda"
               in line)
    install = next(i for i, line in enumerate(build)
                   if "/opt/genn" in line and "pip install" in line)
    assert env < install, "CUDA_PATH must be set before GeNN is built"
    # and the build stops when the backend is missing
    assert "cuda_backend*.so" in build[install]
    runtime = " ".join(_stages()[1][1])
    assert "CUDA_PATH=/usr/local/cuda" in runtime  # nvcc at run time


def test_runs_as_non_root_and_defaults_to_the_gpu_check():
    runtime = _stages()[1][1]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users
    created = re.search(r"useradd [^&]*--uid (\d+)", " ".join(runtime))
    assert created and created.group(1) == users[-1]
    assert runtime[-1].startswith("CMD ")
    assert "benchmarks/gpu_check.sh --output /output/gpu_check" in (
        runtime[-1])
    assert (ROOT / "benchmarks" / "gpu_check.sh").exists()
    workdir = [line for line in runtime if line.startswith("WORKDIR ")]
    assert workdir == ["WORKDIR /opt/ml_genn_spatial"]


def test_docker_readme_has_build_run_and_test_commands():
    readme = (ROOT / "docker" / "README.md").read_text()
    assert "docker build -f docker/Dockerfile" in readme
    assert "--gpus all" in readme
    assert "-v /path/to/data:/data" in readme and ":/output" in readme
    assert "python3 -m pytest" in readme
    for script in ("shd.py", "yin_yang.py", "ssc.py"):
        assert script in readme
    # The base image, the host driver it needs and the default command
    assert _arg("CUDA_IMAGE") in readme
    assert re.search(r"driver \d{3}\.\d+\.\d+ or newer", readme)
    assert "benchmarks/gpu_check.sh" in readme
