"""The Yin-Yang sweep (ml_genn_spatial.runs.sweep and
examples/yin_yang_sweep.py): run commands, the sweep file written and read
back (damaged files and mixed recipes refused, naming the file), medians
and interquartile ranges against NumPy, and a tiny sweep end to end on
the NumPy reference model with its figure."""
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml_genn_spatial import runs
from ml_genn_spatial.runs import sweep

ROOT = Path(__file__).resolve().parents[1]
RECIPE = {"backend": "reference", "train_size": 24, "validation_size": 8,
          "test_size": 9, "hidden": 6, "dt": 1.0, "batch_size": 8,
          "epochs": 2, "recurrent": False, "lr_schedule": "cosine",
          "max_delay": None}


def _entry(dims, seed, test, validation=0.9, parameters=100):
    return {"dimensions": dims, "seed": seed, "test_accuracy": test,
            "validation_accuracy": validation, "tested_epoch": 1,
            "parameters": parameters, "seconds": 1.0 + seed,
            "command": f"python3 examples/yin_yang.py --seed {seed}"}


def test_run_commands():
    argv = sweep.run_argv(RECIPE, "inf", 3, "runs/s/dinf_s3")
    assert argv[:2] == ["python3", "examples/yin_yang.py"]
    text = sweep.command_string(argv)
    assert "--train-size 24" in text and "--lr-schedule cosine" in text
    assert "--no-recurrent" in text and "--max-delay" not in text
    assert text.endswith("--dimensions inf --seed 3 --output runs/s/dinf_s3"
                         " --overwrite")
    assert shlex.split(text) == argv
    assert sweep.run_name(2, 5) == "d2_s5"
    assert [sweep.dimensions_key(d) for d in (0, "3", "inf", "Infinity")] \
        == ["0", "3", "inf", "inf"]
    with pytest.raises(ValueError):
        sweep.dimensions_key("two")


def test_an_option_may_take_a_value_per_dimensions():
    """A recipe value keyed by D (a hidden layer per D) gives each run its
    D's value; a D it lacks is refused, naming the option."""
    recipe = dict(RECIPE, hidden={"2": 11, "inf": 6})
    assert sweep.recipe_options(recipe, 2) == dict(RECIPE, hidden=11)
    assert sweep.recipe_options(recipe, "Infinity")["hidden"] == 6
    assert "--hidden 11 " in sweep.command_string(
        sweep.run_argv(recipe, "2", 1, "runs/x"))
    assert "--hidden 6 " in sweep.command_string(
        sweep.run_argv(recipe, "inf", 1, "runs/x"))
    with pytest.raises(runs.RunError, match="hidden gives no value for D 3"):
        sweep.run_argv(recipe, 3, 1, "runs/x")


def test_medians_and_interquartile_ranges():
    tests = [0.95, 0.97, 0.96, 0.99, 0.90]
    state = {"runs": [_entry("2", s + 1, t) for s, t in enumerate(tests)]
             + [_entry("inf", 1, 0.9, parameters=500),
                _entry("0", 1, 0.8, parameters=50)]}
    summary = sweep.summarise(state["runs"])
    assert list(summary) == ["0", "2", "inf"]
    two = summary["2"]
    assert two["seeds"] == [1, 2, 3, 4, 5]
    assert two["median_test_accuracy"] == pytest.approx(0.96)
    q1, q3 = np.percentile(tests, [25, 75])
    assert two["test_accuracy_quartiles"] == pytest.approx([q1, q3])
    assert two["test_accuracy_iqr"] == pytest.approx(0.02)
    assert two["parameters"] == 100 and summary["inf"]["parameters"] == 500
    assert summary["0"]["test_accuracy_iqr"] == 0.0


def test_markdown_table_rows_come_from_the_summary():
    tests = [0.95, 0.97, 0.96, 0.99, 0.90]
    runs = ([_entry("2", s + 1, t) for s, t in enumerate(tests)]
            + [_entry("inf", 3, 0.9, parameters=500)])
    lines = sweep.markdown_table(runs).splitlines()
    assert len(lines) == 4 and lines[1].startswith("|---")
    q1, q3 = np.percentile(tests, [25, 75])
    assert lines[2].startswith("| 2 | 100 | 1, 2, 3, 4, 5 | 96.0 % "
                               f"({100 * (q3 - q1):.1f}) "
                               f"[{100 * q1:.1f}-{100 * q3:.1f}] |")
    assert lines[3].startswith("| inf | 500 | 3 | 90.0 % (0.0) ")


def test_sweep_file_written_read_back_and_resumable(tmp_path):
    path = str(tmp_path / "results" / "sweep.json")
    state = sweep.open_sweep(path, RECIPE)
    assert state == {"recipe": RECIPE, "runs": []}
    sweep.add_run(state, _entry("inf", 1, 0.9))
    sweep.add_run(state, _entry("2", 2, 0.95))
    sweep.add_run(state, _entry("2", 1, 0.5))
    sweep.add_run(state, _entry("2", 1, 0.97))  # replaces the first
    sweep.write_sweep(path, state)
    again = sweep.open_sweep(path, dict(RECIPE))
    assert [(r["dimensions"], r["seed"]) for r in again["runs"]] == \
        [("2", 1), ("2", 2), ("inf", 1)]
    assert again["runs"][0]["test_accuracy"] == 0.97
    assert sweep.finished(again) == {("2", 1), ("2", 2), ("inf", 1)}
    assert again["summary"]["2"]["median_test_accuracy"] == \
        pytest.approx(0.96)


def test_another_recipe_is_refused_naming_the_file(tmp_path):
    path = str(tmp_path / "sweep.json")
    state = sweep.open_sweep(path, RECIPE)
    sweep.write_sweep(path, sweep.add_run(state, _entry("2", 1, 0.9)))
    with pytest.raises(runs.RunError, match="another recipe") as info:
        sweep.open_sweep(path, dict(RECIPE, hidden=30))
    assert path in str(info.value) and "hidden" in str(info.value)


@pytest.mark.parametrize("content", [
    "{not json", "[]", '{"recipe": {}}',
    '{"recipe": {}, "runs": [{"dimensions": "2", "seed": 1}]}'])
def test_damaged_sweep_file_is_refused_naming_it(tmp_path, content):
    path = tmp_path / "sweep.json"
    path.write_text(content)
    with pytest.raises(runs.RunError) as info:
        sweep.open_sweep(str(path), RECIPE)
    assert str(path) in str(info.value)


def test_run_entry_takes_the_tested_epoch():
    results = {"complete": True, "test_accuracy": 0.93, "tested_epoch": 1,
               "parameters": {"trainable": 42},
               "epochs": [{"epoch": 0, "validation_accuracy": 0.8},
                          {"epoch": 1, "validation_accuracy": 0.95},
                          {"epoch": 2, "validation_accuracy": 0.9}]}
    entry = sweep.run_entry(results, 3, 4, 12.5, "cmd")
    assert entry == {"dimensions": "3", "seed": 4, "test_accuracy": 0.93,
                     "validation_accuracy": 0.95, "tested_epoch": 1,
                     "parameters": 42, "seconds": 12.5, "command": "cmd"}
    with pytest.raises(runs.RunError, match="did not finish"):
        sweep.run_entry(dict(results, complete=False), 3, 4, 1.0, "cmd")


def test_tiny_sweep_end_to_end_on_the_reference(tmp_path):
    recipe = tmp_path / "recipe.json"
    # 2-D gets a hidden neuron more (its own value of the option)
    per_d = dict(RECIPE, hidden={"0": 6, "2": 7, "inf": 6})
    recipe.write_text(json.dumps(per_d))
    results = tmp_path / "sweep.json"
    argv = [sys.executable, str(ROOT / "examples" / "yin_yang_sweep.py"),
            "--recipe", str(recipe), "--results", str(results),
            "--runs", str(tmp_path / "runs"), "--dimensions", "0", "2",
            "inf", "--seeds", "2", "-j", "2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    state = sweep.read_sweep(str(results))
    assert state["recipe"] == per_d
    assert sweep.finished(state) == {(d, s) for d in ("0", "2", "inf")
                                     for s in (1, 2)}
    assert set(state["summary"]) == {"0", "2", "inf"}
    params = {r["dimensions"]: r["parameters"] for r in state["runs"]}
    # 4-H-3 feed-forward weights, and D coordinates of 4 + H + 3 neurons
    # or one delay per weight
    assert params == {"0": 7 * 6, "2": 7 * 7 + 2 * (4 + 7 + 3),
                      "inf": 2 * 7 * 6}
    # Each recorded command re-runs its run: same test accuracy
    run = next(r for r in state["runs"] if r["dimensions"] == "2")
    assert "--dimensions 2" in run["command"]
    again = subprocess.run(
        [sys.executable, *shlex.split(run["command"])[1:]], cwd=ROOT,
        capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    output = shlex.split(run["command"])[shlex.split(
        run["command"]).index("--output") + 1]
    rerun = runs.read_results(str(Path(ROOT, output) / "results.json"))
    assert rerun["test_accuracy"] == run["test_accuracy"]
    # Resumable: a second call trains nothing
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "6 runs in" in done.stdout
    assert "0 to train" in done.stdout
    # Another recipe into the same file is refused, naming it
    recipe.write_text(json.dumps(dict(RECIPE, hidden=7)))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and str(results) in done.stderr
    # A failing run is named and ends the sweep with exit status 1; the
    # file keeps the finished runs
    recipe.write_text(json.dumps(dict(RECIPE, dt=-1.0)))
    failing = tmp_path / "failing.json"
    done = subprocess.run(argv[:4] + ["--results", str(failing)]
                          + argv[6:10] + ["--seeds", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "d0_s1: exit status 2" in done.stderr
    assert "runs failed" in done.stderr and not failing.exists()
    # The figure from the file
    figure = tmp_path / "sweep.png"
    done = subprocess.run(argv[:2] + ["--results", str(results), "--figure",
                                      str(figure)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert figure.stat().st_size > 1000


def _example(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sweep_recipes_are_options_of_yin_yang():
    sweeper, yin_yang = _example("yin_yang_sweep"), _example("yin_yang")
    results = ROOT / "examples" / "results"
    files = [json.loads(p.read_text())
             for p in sorted(results.glob("yin_yang_recipe_*.json"))]
    files += [json.loads(p.read_text())["recipe"]
              for p in sorted(results.glob("yin_yang_sweep*.json"))]
    assert len(files) >= 2
    for recipe in (sweeper.RECIPE, sweeper.GPU_RECIPE, *files):
        argv = sweep.run_argv(recipe, "3", 2, "runs/x")
        args = yin_yang.parser.parse_args(argv[2:])
        for key, value in sweep.recipe_options(recipe, "3").items():
            assert getattr(args, key) == value, key
        assert (args.dimensions, args.seed) == (3, 2)
        # and pass yin_yang.main's checks of the Yin-Yang options
        runs.check_input_window(yin_yang.parser, args,
                                yin_yang.YIN_YANG_EXAMPLE_TIME)
        runs.check_tau_mem(yin_yang.parser, args, yin_yang.TAU_SYN)
    # The official split
    assert (sweeper.RECIPE["train_size"], sweeper.RECIPE["validation_size"],
            sweeper.RECIPE["test_size"]) == (5000, 1000, 1000)
    gpu = sweeper.GPU_RECIPE
    assert (gpu["backend"], gpu["batch_size"], gpu["dt"]) == \
        ("cuda", 150, 0.01)


def test_the_committed_sweep_holds_recipes_runs_and_the_readme_its_table():
    """examples/results/yin_yang_sweep.json holds RECIPE's runs (so the
    default command resumes it and adds seeds), each run's command trains
    RECIPE's options for its D and seed, every D has five seeds or more,
    the README's table is the file's --table, and each recipe file is the
    recipe of its sweep file."""
    sweeper, yin_yang = _example("yin_yang_sweep"), _example("yin_yang")
    results = ROOT / "examples" / "results"
    state = sweep.read_sweep(str(results / "yin_yang_sweep.json"))
    assert state["recipe"] == sweeper.RECIPE
    for run in state["runs"]:
        args = yin_yang.parser.parse_args(shlex.split(run["command"])[2:])
        for key, value in sweep.recipe_options(
                sweeper.RECIPE, run["dimensions"]).items():
            assert getattr(args, key) == value, (run["command"], key)
        assert (sweep.dimensions_key(args.dimensions), args.seed) == \
            (run["dimensions"], run["seed"])
    seeds = {d: sum(r["dimensions"] == d for r in state["runs"])
             for d in sweep.SWEEP_DIMENSIONS}
    assert min(seeds.values()) >= 5, seeds
    readme = (ROOT / "README.md").read_text()
    assert sweep.markdown_table(state["runs"]) in readme
    for path in results.glob("yin_yang_recipe_*.json"):
        swept = results / path.name.replace("_recipe_", "_sweep_")
        if swept.exists():
            assert json.loads(path.read_text()) == \
                sweep.read_sweep(str(swept))["recipe"], path.name


def test_gpu_scales_the_recipe_it_is_given():
    """--gpu puts RECIPE, or a --recipe file, at the paper's scale: CUDA,
    steps of batch 150 (a CPU recipe's accumulation undone), dt 0.01 ms,
    300 epochs; the recipe's other options stay."""
    sweeper = _example("yin_yang_sweep")
    path = ROOT / "examples" / "results" / "yin_yang_recipe_hidden30.json"
    cpu = json.loads(path.read_text())
    assert cpu["accumulate_batches"] > 1
    assert sweeper.load_recipe(sweeper.parser.parse_args(
        ["--recipe", str(path)])) == cpu
    gpu = sweeper.load_recipe(sweeper.parser.parse_args(
        ["--gpu", "--recipe", str(path)]))
    assert (gpu["backend"], gpu["batch_size"], gpu["accumulate_batches"],
            gpu["dt"], gpu["epochs"], gpu["lr_warm_up"]) == \
        ("cuda", 150, 1, 0.01, 300, 500)
    assert {k: v for k, v in gpu.items() if k not in sweeper.GPU_SCALE} \
        == {k: v for k, v in cpu.items() if k not in sweeper.GPU_SCALE}
    assert gpu["hidden"] == 30
    assert sweeper.load_recipe(sweeper.parser.parse_args(["--gpu"])) \
        == sweeper.GPU_RECIPE
    assert sweeper.load_recipe(sweeper.parser.parse_args([])) \
        == sweeper.RECIPE
    # and a scaled file is still a set of yin_yang.py options
    yin_yang = _example("yin_yang")
    args = yin_yang.parser.parse_args(
        sweep.run_argv(gpu, "2", 1, "runs/x")[2:])
    assert (args.hidden, args.batch_size, args.accumulate_batches) == \
        (30, 150, 1)
