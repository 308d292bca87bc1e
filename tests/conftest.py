"""Shared pytest set-up.

Tests that need GeNN carry the ``genn`` marker. When pygenn or ml_genn
cannot be imported they are skipped with the import error as the reason,
and the run ends with a line counting GeNN tests run and skipped.
"""
import importlib

import pytest


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


def pytest_collection_modifyitems(config, items):
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
        _genn_counts["passed" if report.passed else "failed"] += 1
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


@pytest.fixture
def in_tmp_path(tmp_path, monkeypatch):
    """Run in a fresh folder: GeNN generates code into the working
    directory."""
    monkeypatch.chdir(tmp_path)
