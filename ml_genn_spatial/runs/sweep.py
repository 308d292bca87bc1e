"""The Yin-Yang sweep file (``examples/results/yin_yang_sweep.json``):
one recipe of ``examples/yin_yang.py`` options trained for several
``--dimensions`` and seeds. This module writes it and reads it back, builds
each run's command, and summarises the runs (medians, interquartile
ranges). No GeNN import.

The file::

    {"recipe": {option: value or {dimensions: value, ...}, ...},
     "runs": [{"dimensions": "0"|"1"|...|"inf", "seed": int,
               "test_accuracy": fraction, "validation_accuracy": fraction,
               "tested_epoch": int, "parameters": int, "seconds": float,
               "command": "the command that re-runs this one run"}, ...],
     "summary": {dimensions: {"seeds", "median_test_accuracy",
                 "test_accuracy_quartiles", "test_accuracy_iqr", ...}}}
"""
import json
import os
import shlex

import numpy as np

from .folder import RunError, write_json

#: ``--dimensions`` of the sweep, in the order of the paper's plot
SWEEP_DIMENSIONS = ("0", "1", "2", "3", "inf")

#: Keys every run entry has
RUN_KEYS = ("dimensions", "seed", "test_accuracy", "validation_accuracy",
            "parameters", "seconds", "command")


def dimensions_key(dims) -> str:
    """A ``--dimensions`` value as the file spells it: ``"0"`` ...
    ``"8"`` or ``"inf"``."""
    text = str(dims).strip().lower()
    if text in ("inf", "infinity"):
        return "inf"
    if not text.isdigit():
        raise ValueError(f"dimensions must be an integer >= 0 or 'inf', "
                         f"not {dims!r}")
    return str(int(text))


def _order(dims: str):
    return (1, 0) if dims == "inf" else (0, int(dims))


def run_name(dims, seed: int) -> str:
    """The run folder's name of one run, e.g. ``d2_s3``."""
    return f"d{dimensions_key(dims)}_s{seed}"


def recipe_options(recipe: dict, dims) -> dict:
    """``recipe``'s options for one ``--dimensions``: a value that is an
    object keyed by dimensions (``{"2": 153, "inf": 100}``) gives that
    D's value, e.g. a hidden layer per D of equal parameter budgets.

    Raises:
        RunError: if such an object has no value for ``dims``
    """
    key, options = dimensions_key(dims), {}
    for option, value in recipe.items():
        if isinstance(value, dict):
            if key not in value:
                raise RunError(f"the recipe's {option} gives no value for "
                               f"D {key} (it has {', '.join(value)})")
            value = value[key]
        options[option] = value
    return options


def run_argv(recipe: dict, dims, seed: int, output: str,
             script: str = "examples/yin_yang.py",
             python: str = "python3") -> list:
    """The command line of one run: ``recipe``'s options for ``dims``
    (:func:`recipe_options`; ``key: value`` gives ``--key value``, True
    ``--key``, False ``--no-key``, None nothing), then ``--dimensions``,
    ``--seed`` and ``--output`` with ``--overwrite`` (a rerun replaces the
    folder's run)."""
    argv = [python, script]
    for key, value in recipe_options(recipe, dims).items():
        flag = "--" + key.replace("_", "-")
        if value is None:
            continue
        if value is True:
            argv.append(flag)
        elif value is False:
            argv.append("--no-" + key.replace("_", "-"))
        else:
            argv += [flag, str(value)]
    return argv + ["--dimensions", dimensions_key(dims), "--seed", str(seed),
                   "--output", output, "--overwrite"]


def command_string(argv) -> str:
    """``argv`` as one shell command."""
    return shlex.join(str(a) for a in argv)


def run_entry(results: dict, dims, seed: int, seconds: float,
              command: str) -> dict:
    """A sweep entry from a finished run's ``results.json``.

    The validation accuracy is that of the tested epoch (chosen by
    validation accuracy, :func:`~.folder.best_validation_epoch`).

    Raises:
        RunError: if the run is not complete or lacks a validation split
    """
    if not results.get("complete") or results.get("test_accuracy") is None:
        raise RunError(f"the run of {command!r} did not finish")
    tested = results.get("tested_epoch")
    entry = next((e for e in results.get("epochs", [])
                  if e["epoch"] == tested), None)
    if entry is None or entry.get("validation_accuracy") is None:
        raise RunError(f"the run of {command!r} has no validation accuracy "
                       f"for its tested epoch: give it --validation-size")
    return {"dimensions": dimensions_key(dims), "seed": int(seed),
            "test_accuracy": float(results["test_accuracy"]),
            "validation_accuracy": float(entry["validation_accuracy"]),
            "tested_epoch": int(tested),
            "parameters": int(results["parameters"]["trainable"]),
            "seconds": float(seconds), "command": command}


def quartiles(values) -> tuple:
    """``(first quartile, median, third quartile)`` of ``values``
    (NumPy's linear interpolation)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no values")
    q1, q2, q3 = np.percentile(values, [25.0, 50.0, 75.0])
    return float(q1), float(q2), float(q3)


def summarise(runs: list) -> dict:
    """Per ``dimensions``: seeds, median and quartiles (and their
    difference, the interquartile range) of the test and validation
    accuracies, the trainable parameters, the median seconds."""
    summary = {}
    for dims in sorted({r["dimensions"] for r in runs}, key=_order):
        group = [r for r in runs if r["dimensions"] == dims]
        entry = {"seeds": sorted(r["seed"] for r in group)}
        for key in ("test_accuracy", "validation_accuracy"):
            q1, median, q3 = quartiles([r[key] for r in group])
            entry.update({f"median_{key}": median,
                          f"{key}_quartiles": [q1, q3],
                          f"{key}_iqr": q3 - q1})
        counts = sorted({r["parameters"] for r in group})
        entry["parameters"] = counts[0] if len(counts) == 1 else counts
        entry["median_seconds"] = quartiles([r["seconds"]
                                             for r in group])[1]
        summary[dims] = entry
    return summary


def markdown_table(runs: list) -> str:
    """The README's table of a sweep: per ``dimensions`` the trainable
    parameters, the seeds, the median test accuracy with its interquartile
    range and quartiles, the median validation accuracy and the median
    seconds of a run."""
    lines = ["| D | trainable parameters | seeds | test: median (IQR) "
             "[Q1-Q3] | validation: median | s per run (median) |",
             "|---|---|---|---|---|---|"]
    for dims, entry in summarise(runs).items():
        q1, q3 = entry["test_accuracy_quartiles"]
        seeds = entry["seeds"]
        lines.append(
            f"| {dims} | {entry['parameters']} | "
            f"{', '.join(map(str, seeds))} | "
            f"{100 * entry['median_test_accuracy']:.1f} % "
            f"({100 * entry['test_accuracy_iqr']:.1f}) "
            f"[{100 * q1:.1f}-{100 * q3:.1f}] | "
            f"{100 * entry['median_validation_accuracy']:.1f} % | "
            f"{entry['median_seconds']:.0f} |")
    return "\n".join(lines)


def read_sweep(path: str) -> dict:
    """Read a sweep file.

    Raises:
        RunError: naming the file, when it is damaged or not a sweep
    """
    try:
        with open(path) as f:
            sweep = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is damaged ({exc}); move it away or give "
                       f"another sweep file")
    problem = None
    if not isinstance(sweep, dict) or not isinstance(
            sweep.get("recipe"), dict) or not isinstance(
            sweep.get("runs"), list):
        problem = "no object with a 'recipe' object and a 'runs' list"
    else:
        for n, run in enumerate(sweep["runs"]):
            missing = [k for k in RUN_KEYS if not isinstance(run, dict)
                       or k not in run]
            if missing:
                problem = f"run {n} lacks {', '.join(missing)}"
                break
    if problem:
        raise RunError(f"{path} is not a sweep file ({problem}); move it "
                       f"away or give another sweep file")
    return sweep


def open_sweep(path: str, recipe: dict) -> dict:
    """The sweep in ``path`` (empty when the file does not exist),
    refusing one of another recipe.

    Raises:
        RunError: naming the file, when it is damaged or holds runs of
                  another recipe
    """
    if not os.path.exists(path):
        return {"recipe": dict(recipe), "runs": []}
    sweep = read_sweep(path)
    if sweep["recipe"] != recipe:
        changed = sorted(k for k in set(sweep["recipe"]) | set(recipe)
                         if sweep["recipe"].get(k) != recipe.get(k))
        raise RunError(
            f"{path} holds runs of another recipe (it differs in "
            f"{', '.join(changed)}); one file holds one recipe: give "
            f"another sweep file")
    return sweep


def finished(sweep: dict) -> set:
    """``{(dimensions, seed)}`` of the runs in the sweep."""
    return {(r["dimensions"], r["seed"]) for r in sweep["runs"]}


def add_run(sweep: dict, entry: dict) -> dict:
    """Add (or replace) the run of ``entry``'s dimensions and seed."""
    key = (entry["dimensions"], entry["seed"])
    sweep["runs"] = [r for r in sweep["runs"]
                     if (r["dimensions"], r["seed"]) != key] + [entry]
    sweep["runs"].sort(key=lambda r: (_order(r["dimensions"]), r["seed"]))
    return sweep


def write_sweep(path: str, sweep: dict) -> None:
    """Write the sweep with its summary (atomically)."""
    sweep = dict(sweep, summary=summarise(sweep["runs"]))
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    write_json(path, sweep)
