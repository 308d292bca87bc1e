"""Shared pytest set-up.

Tests that need GeNN carry the ``genn`` marker. When pygenn or ml_genn
cannot be imported they are skipped with the import error as the reason,
and the run ends with a line counting GeNN tests run and skipped.

GeNN tests that build and run a model take the ``backend`` and
``batch_size`` fixtures, parametrised as GeNN's own feature tests are:
``single_threaded_cpu-batch1`` everywhere, ``cuda-batch1`` and, for tests
marked ``batch_dependent``, ``cuda-batch<N>`` (N = 32 unless the marker
gives ``size`` or ``sizes``). The CUDA cases carry the ``cuda`` marker, are collected
everywhere and are skipped, with the reason, where pygenn has no CUDA
backend or no GPU is visible.

``--shard K/N`` keeps every N-th selected test from the K-th on, so N
processes can share a run (``-m cuda --shard 0/4`` ... ``3/4`` on a GPU
machine: the CUDA cases build some 80 models with nvcc).
"""
import importlib

import pytest

from cuda_env import CUDA_BUILD_TIMES, cuda_run_skip_reason

CUDA_BATCH_SIZE = 32


def _genn_missing_reason():
    for module in ("pygenn", "ml_genn"):
        try:
            importlib.import_module(module)
        except Exception as error:  # ImportError, or a broken build
            return (f"{module} is not importable ({error}); install GeNN "
                    f"and mlGeNN from source as README.md describes")
    return None


GENN_MISSING_REASON = _genn_missing_reason()
_genn_counts = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_addoption(parser):
    parser.addoption(
        "--shard", default=None, metavar="K/N",
        help="run only the K-th of N interleaved shards of the selected "
             "tests (K = 0 ... N - 1), so that N processes share a run, "
             "e.g. the CUDA cases on a GPU machine, whose nvcc builds are "
             "the slow part")


def _shard(value):
    try:
        k, n = (int(v) for v in value.split("/"))
    except ValueError:
        k = n = -1
    if not 0 <= k < n:
        raise pytest.UsageError(f"--shard wants K/N with 0 <= K < N, not "
                                f"{value!r}")
    return k, n


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    params = [pytest.param("single_threaded_cpu", 1,
                           id="single_threaded_cpu-batch1"),
              pytest.param("cuda", 1, id="cuda-batch1",
                           marks=pytest.mark.cuda)]
    marker = metafunc.definition.get_closest_marker("batch_dependent")
    if marker is not None:
        sizes = marker.kwargs.get("sizes",
                                  (marker.kwargs.get("size", CUDA_BATCH_SIZE),))
        params += [pytest.param("cuda", size, id=f"cuda-batch{size}",
                                marks=pytest.mark.cuda) for size in sizes]
    metafunc.parametrize(("backend", "batch_size"), params, indirect=True)


@pytest.fixture
def batch_size(request):
    """Batch size of a GeNN test (1 unless parametrised)."""
    return getattr(request, "param", 1)


@pytest.fixture
def backend(request, batch_size):
    """GeNN backend name of a test; CUDA cases skip where they cannot
    run."""
    name = request.param
    if name == "cuda":
        reason = cuda_run_skip_reason()
        if reason is not None:
            pytest.skip(reason)
    return name


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if config.getoption("shard"):
        # last, after -m and -k: each shard gets a share of what runs
        k, n = _shard(config.getoption("shard"))
        config.hook.pytest_deselected(
            items=[item for i, item in enumerate(items) if i % n != k])
        items[:] = items[k::n]
    if GENN_MISSING_REASON is None:
        return
    skip = pytest.mark.skip(reason=GENN_MISSING_REASON)
    for item in items:
        if "genn" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_logreport(report):
    if "genn" not in report.keywords:
        return
    if report.when == "call":
        _genn_counts["skipped" if report.skipped
                     else "passed" if report.passed else "failed"] += 1
    elif report.when == "setup" and not report.passed:
        _genn_counts["skipped" if report.skipped else "failed"] += 1


def pytest_terminal_summary(terminalreporter):
    ran = _genn_counts["passed"] + _genn_counts["failed"]
    terminalreporter.write_line(
        f"GeNN tests: {ran} ran ({_genn_counts['failed']} failed), "
        f"{_genn_counts['skipped']} skipped")
    if GENN_MISSING_REASON is not None:
        terminalreporter.write_line(
            f"GeNN tests skipped because: {GENN_MISSING_REASON}")
    times = terminalreporter.config.stash.get(CUDA_BUILD_TIMES, None)
    if times:
        terminalreporter.write_line(
            f"CUDA builds: {len(times['builds'])} models in "
            f"{times['wall_s']:.0f} s wall time ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in times["builds"].items())
            + ")")


@pytest.fixture
def in_tmp_path(tmp_path, monkeypatch):
    """Run in a fresh folder: GeNN generates code into the working
    directory."""
    monkeypatch.chdir(tmp_path)
