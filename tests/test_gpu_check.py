"""benchmarks/gpu_check.sh without a GPU: its --dry-run prints every step
with its time budget, runs what needs no GPU (collecting the CUDA tests,
the benchmark's and the Yin-Yang example's options) and passes with and
without pygenn; bad arguments are refused; the summary it writes."""
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"
sys.path.insert(0, str(REPO))

#: Every step of a GPU run, in order
GPU_STEPS = ["wheels", "pygenn", "ml_genn", "project", "versions",
             "pytest-cuda", "bench-shd-b256", "bench-shd-b32",
             "bench-yin_yang-b256", "bench-yin_yang-b32", "yin-yang"]
#: Wall-time limit of the whole check on the GPU machine [s]
WALL_LIMIT_S = 600


def _hide_genn(folder):
    """A PYTHONPATH folder in which pygenn and ml_genn fail to import, as
    on a machine without GeNN."""
    for name in ("pygenn", "ml_genn"):
        package = folder / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(
            f"raise ImportError('{name} hidden by test_gpu_check')\n")
    return str(folder)


def _run(tmp_path, *args, python=sys.executable, hide_genn=False,
         timeout=240):
    env = {**os.environ, "PYTHON": python}
    if hide_genn:
        env["PYTHONPATH"] = os.pathsep.join(
            [_hide_genn(tmp_path / "no_genn"),
             *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout,
                          env=env)


def _budgets(stdout):
    """{step: budget [s]} of the printed step lines."""
    return {m.group(2): int(m.group(3)) for m in re.finditer(
        r"^\[(skip|dry-run|\d\d:\d\d:\d\d)\]\s+(\S+)\s+(\d+) s ", stdout,
        re.MULTILINE)}


@pytest.mark.parametrize("hide_genn", [False, True],
                         ids=["as-installed", "without-genn"])
def test_dry_run_prints_every_step_and_passes(tmp_path, hide_genn):
    output = tmp_path / "check"
    done = _run(tmp_path, "--dry-run", "--output", str(output),
                hide_genn=hide_genn)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    out = done.stdout

    budgets = _budgets(out)
    assert list(budgets)[:len(GPU_STEPS)] != []
    assert [s for s in budgets if s in GPU_STEPS] == GPU_STEPS
    total = int(re.search(r"(\d+) s of step budgets in all", out).group(1))
    assert total == sum(budgets[s] for s in GPU_STEPS) <= WALL_LIMIT_S
    # The exact commands of the GPU run
    assert re.search(r"would run: \S+ -m pytest -m cuda ", out)
    for batch in (32, 256):
        for shape in ("shd", "yin_yang"):
            assert re.search(
                rf"would run: \S+ benchmarks/run.py --cuda --hidden 256 "
                rf".*--shapes {shape} --batch-sizes {batch} ", out)
    assert re.search(r"would run: \S+ examples/yin_yang.py --backend cuda "
                     r"--batch-size 32 --epochs 3 --output \S+/yin_yang",
                     out)
    # What needs no GPU ran, and passed
    for check in ("collect-cuda", "bench-options", "yin-yang-options"):
        assert re.search(rf"\] {check} .*\n    ok in \d+ s", out), check
    if hide_genn:
        assert "would build pygenn with its CUDA backend" in out
        assert "would install mlGeNN" in out

    summary = json.loads((output / "summary.json").read_text())
    assert summary["dry_run"] is True
    statuses = {s["step"]: s["status"] for s in summary["steps"]}
    assert set(GPU_STEPS) <= set(statuses)
    assert not [s for s, v in statuses.items()
                if v.startswith(("failed", "timeout"))]
    assert statuses["pytest-cuda"] == statuses["yin-yang"] == "dry-run"
    markdown = (output / "summary.md").read_text()
    assert "| pytest-cuda | dry-run | 0 | 200 |" in markdown
    if not hide_genn:
        # An earlier check's folder is reused, its files replaced
        (output / "logs" / "old.log").write_text("old")
        again = _run(tmp_path, "--dry-run", "--output", str(output))
        assert again.returncode == 0, again.stdout[-3000:]
        assert not (output / "logs" / "old.log").exists()


def test_dry_run_fails_when_a_check_fails(tmp_path):
    # A Python that cannot run the Yin-Yang example: its option check fails
    wrapper = tmp_path / "python"
    wrapper.write_text("#!/usr/bin/env bash\n"
                       "for a in \"$@\"; do [ \"$a\" = examples/yin_yang.py ]"
                       " && { echo 'broken example' >&2; exit 3; }; done\n"
                       f"exec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    output = tmp_path / "check"
    done = _run(tmp_path, "--dry-run", "--output", str(output),
                python=str(wrapper))
    assert done.returncode == 1, done.stdout[-3000:]
    assert "yin-yang-options" in done.stdout
    assert "failed (exit 3)" in done.stdout
    assert "1 step(s) failed" in done.stdout
    summary = json.loads((output / "summary.json").read_text())
    assert {s["step"]: s["status"] for s in summary["steps"]}[
        "yin-yang-options"] == "failed (exit 3)"


@pytest.mark.parametrize("args, message", [
    (["--pytest-shards", "x"], "--pytest-shards must be a whole number"),
    (["--pytest-shards", "0"], "--pytest-shards must be a whole number"),
    (["--genn", "/nonexistent/genn"], "not a GeNN source tree"),
    (["--ml-genn", "/nonexistent/ml_genn"], "not an mlGeNN source tree"),
    (["--wheels", "/nonexistent/wheels"], "no such folder"),
    (["a", "b", "c"], "at most two source trees"),
    (["--output", "."], "is not empty and holds no earlier GPU check"),
    (["--frobnicate"], "unknown option --frobnicate"),
])
def test_bad_arguments_are_refused(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("a folder in use")
    done = _run(tmp_path, "--dry-run", *args, timeout=60)
    assert done.returncode == 2
    assert "gpu_check.sh: error: " in done.stderr
    assert message in done.stderr


def test_without_pygenn_a_gpu_run_asks_for_the_sources(tmp_path):
    done = _run(tmp_path, "--output", str(tmp_path / "check"),
                hide_genn=True, timeout=60)
    assert done.returncode == 2
    # No nvcc stops it first; else pygenn is asked for
    assert ("pass the GeNN 5.4.0 source tree (--genn DIR)" in done.stderr
            or "nvcc is not on the PATH" in done.stderr)


def _benchmark_file(folder, results):
    folder.mkdir(parents=True)
    data = {"command": "run.py", "config": {}, "environment": {},
            "wall_time_s": 1.0, "results": results, "ratios": [],
            "fits": [], "targets": []}
    (folder / "results.json").write_text(json.dumps(data))


def test_summary_of_a_gpu_run(tmp_path):
    from benchmarks import gpu_summary
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "environment.txt").write_text("nvcc: here\n")
    (tmp_path / "steps.tsv").write_text(
        "pytest-cuda\tok\t100\t140\tlogs/06.log\tpython3 -m pytest -m cuda\n"
        "yin-yang\ttimeout\t60\t60\tlogs/11.log\tpython3 examples/x.py\n")
    _benchmark_file(tmp_path / "benchmark" / "shd_b256", [
        {"shape": "shd", "hidden": 256, "batch_size": 256,
         "mode": "spatial-3d", "status": "ok", "error": None,
         "time_per_trial_s": {"median": 0.002},
         "memory": {"gpu_memory_trained": 3 * 2 ** 30}},
        {"shape": "shd", "hidden": 256, "batch_size": 256,
         "mode": "delays", "status": "error",
         "error": "Traceback ...\nRuntimeError: out of memory"}])
    damaged = tmp_path / "benchmark" / "shd_b32"
    damaged.mkdir()
    (damaged / "results.json").write_text('{"results": [')
    (tmp_path / "yin_yang").mkdir()
    (tmp_path / "yin_yang" / "results.json").write_text(json.dumps(
        {"epochs": [{"epoch": 0, "train_accuracy": 0.6, "time_s": 10.0},
                    {"epoch": 1, "train_accuracy": 0.8, "time_s": 12.0,
                     "validation_accuracy": 0.75}],
         "test_accuracy": None}))

    assert gpu_summary.main([str(tmp_path), "0", "590"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [s["status"] for s in summary["steps"]] == ["ok", "timeout"]
    spatial = summary["benchmark"][0]
    assert spatial["epoch_s"] == pytest.approx(0.002 * 8156)
    assert summary["yin_yang"]["seconds_per_epoch"] == pytest.approx(11.0)
    assert summary["yin_yang"]["train_accuracy"] == 0.8
    markdown = (tmp_path / "summary.md").read_text()
    assert "| yin-yang | timeout | 60 | 60 |" in markdown
    assert "| shd | 256 | spatial-3d | ok | 2.000 | 16.3 | 3072 |" in markdown
    assert "FAILED shd batch 256 delays: RuntimeError: out of memory" in (
        markdown)
    assert f"{damaged / 'results.json'}: damaged" in markdown
    assert "Wall time of the steps: 160 s (budget of a GPU run: 590 s)" in (
        markdown)
    assert "validation 0.750" in markdown


def test_gpu_wheels_help_and_bad_options(tmp_path):
    script = REPO / "benchmarks" / "gpu_wheels.sh"
    done = subprocess.run(["bash", str(script), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for name in ("pkgconfig", "deprecated", "enum-compat", "--debs",
                 "gpu_check.sh GENN_SRC ML_GENN_SRC --wheels DIR"):
        assert name in done.stdout
    for args in (["--python-version", "twelve"], ["--nope"], ["a", "b"]):
        done = subprocess.run(["bash", str(script), *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, args
        assert "gpu_wheels.sh: error:" in done.stderr
    assert not any(tmp_path.iterdir())  # nothing downloaded
