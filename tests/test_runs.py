"""ml_genn_spatial.runs without GeNN: option types and combinations, the
run folder (used folders refused, --overwrite, resuming from the last good
checkpoint, damaged results.json), parameter counts from checkpoints,
hidden class counts and layout.npz written and read in one module."""
import argparse
import json
import os

import numpy as np
import pytest

from ml_genn_spatial import runs
from ml_genn_spatial.geometry import distance
from ml_genn_spatial.runs import data as heidelberg

DEFAULTS = {"dimensions": 2, "hidden": 10, "recurrent": True, "epochs": 3,
            "lr": 1e-3, "position_lr": 1e-3, "max_delay": 20.0, "dt": 1.0,
            "gpu_batch_size": 32, "output": "out"}


def _parse(argv, tmp_path, backends=("reference",)):
    parser = runs.make_parser("test", dict(DEFAULTS,
                                           output=str(tmp_path / "run")))
    args = parser.parse_args(argv)
    runs.check_options(parser, args, backends=backends)
    return args


# ----------------------------------------------------------------------------
# Options
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind, good, bad", [
    (runs.positive_int, [("3", 3)], ["0", "-1", "1.5", "x", "inf"]),
    (runs.non_negative_int, [("0", 0)], ["-1", "0.5"]),
    (runs.positive_real, [("0.5", 0.5)], ["0", "-1", "nan", "inf", "x"]),
    (runs.non_negative_real, [("0", 0.0)], ["-0.1", "nan", "-inf"]),
    (runs.fraction, [("0", 0.0), ("0.9", 0.9)], ["1", "-0.1", "nan"]),
    (runs.unit_interval, [("0", 0.0), ("1", 1.0)], ["1.01", "-0.1", "nan"]),
    (runs.dimensions, [("0", 0), ("8", 8), ("inf", "inf"), ("INF", "inf")],
     ["9", "-1", "two", "1.5"]),
    (heidelberg.num_channels, [("700", 700), ("35", 35)], ["30", "0"])])
def test_option_types(kind, good, bad):
    for text, value in good:
        assert kind(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)


@pytest.mark.parametrize("argv, culprit", [
    (["--wiring-cost", "0.1", "--dimensions", "0"], "--wiring-cost"),
    (["--wiring-cost", "0.1", "--dimensions", "inf"], "--wiring-cost"),
    (["--rewiring"], "--sparsity"),
    (["--regrowth-length", "0.5", "--sparsity", "0.5"], "--regrowth-length"),
    (["--rewiring", "--sparsity", "0.5", "--regrowth-length", "0.5",
      "--dimensions", "0"], "--regrowth-length"),
    (["--sparse-connections", "recurrent", "--sparsity", "0.5",
      "--no-recurrent"], "--sparse-connections"),
    (["--delay-lr", "0.1"], "--delay-lr"),
    (["--max-delay", "0.5"], "--max-delay"),
    (["--max-delay", "1000", "--dt", "0.001"], "--max-delay"),
    (["--backend", "cuda"], "--backend"),
    (["--rewiring", "--sparsity", "0.5"], "--rewiring"),
    (["--resume", "--overwrite"], "--overwrite"),
])
def test_impossible_combinations_are_usage_errors(argv, culprit, tmp_path,
                                                  capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parse(argv + ["--backend", "reference"]
               if "--backend" not in argv else argv, tmp_path)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert culprit in err.splitlines()[-1], err


def test_fine_combinations_pass(tmp_path):
    _parse(["--wiring-cost", "0.1", "--dimensions", "3"], tmp_path)
    _parse(["--dimensions", "inf", "--delay-lr", "0.5"], tmp_path)
    args = _parse(["--dimensions", "0", "--max-delay", "0.5"], tmp_path)
    assert runs.delay_mode(args.dimensions) == "none"


def test_trial_time_and_learning_rates(tmp_path):
    parser = runs.make_parser("t", DEFAULTS)
    args = parser.parse_args(["--dt", "7.5"])
    args.input_window = 30.0  # the whole trial: too short for 4 x 7.5 ms
    with pytest.raises(SystemExit):
        runs.check_input_window(parser, args, 30.0)
    args.dt = 7.4
    runs.check_input_window(parser, args, 30.0)
    args.input_window = 30.5  # longer than the trial
    with pytest.raises(SystemExit):
        runs.check_input_window(parser, args, 30.0)
    args.input_window = 29.6  # too short for 2 steps of 7.4 ms each end
    with pytest.raises(SystemExit):
        runs.check_input_window(parser, args, 30.0)
    args.input_window = 29.7
    runs.check_input_window(parser, args, 30.0)
    args.tau_mem = 5.0
    with pytest.raises(SystemExit):
        runs.check_tau_mem(parser, args, 5.0)
    runs.check_tau_mem(parser, args, 4.0)
    args = parser.parse_args(["--position-lr", "0.01", "--max-delay",
                              "100"])
    assert runs.delay_learning_rate(args) == pytest.approx(
        0.01 * 100 / (2.0 * np.sqrt(2.0)))
    args.delay_lr = 0.5
    assert runs.delay_learning_rate(args) == 0.5
    assert runs.resolve_batch_size(args, "single_threaded_cpu") == 1
    assert runs.resolve_batch_size(args, "cuda") == 32
    args.batch_size = 7
    assert runs.resolve_batch_size(args, "cuda") == 7


def _hide_genn(monkeypatch):
    """Make pygenn and ml_genn fail to import."""
    import builtins
    real_import = builtins.__import__

    def no_genn(name, *a, **k):
        if name.startswith(("pygenn", "ml_genn.")) or name == "ml_genn":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_genn)


def test_explicit_backend_is_kept_and_a_missing_genn_is_said(monkeypatch,
                                                            capsys):
    parser = runs.make_parser("t", DEFAULTS)
    args = parser.parse_args(["--backend", "reference"])
    assert runs.resolve_backend(args, "t.py") == "reference"
    _hide_genn(monkeypatch)
    args = parser.parse_args([])
    assert runs.resolve_backend(args, "t.py", True) == "reference"
    assert "NumPy reference" in capsys.readouterr().out
    with pytest.raises(runs.RunError, match="t.py trains on GeNN"):
        runs.resolve_backend(args, "t.py", False)


# ----------------------------------------------------------------------------
# The run folder
# ----------------------------------------------------------------------------
def _epoch(run, epoch, files=("a-g", "b-X0")):
    for name in files:
        np.save(os.path.join(run.checkpoint_dir, f"{epoch}-{name}.npy"),
                np.arange(4.0 + epoch))
    run.record_epoch(epoch, checkpointed=True, train_accuracy=0.1 * epoch)


def test_used_folder_is_refused_and_overwrite_clears_it(tmp_path):
    folder = tmp_path / "run"
    run = runs.RunFolder(str(folder))
    run.start({"hidden": 4})
    _epoch(run, 0)
    (folder / "notes.txt").write_text("mine")
    (folder / "x_CODE").mkdir()
    with pytest.raises(runs.RunError, match="--resume.*--overwrite"):
        runs.RunFolder(str(folder))
    (tmp_path / "file").write_text("")
    with pytest.raises(runs.RunError, match="is a file"):
        runs.RunFolder(str(tmp_path / "file"))
    runs.RunFolder(str(folder), overwrite=True)
    assert sorted(os.listdir(folder)) == ["checkpoints", "notes.txt"]
    assert os.listdir(folder / "checkpoints") == []


def test_resume_continues_after_the_last_checkpoint(tmp_path):
    run = runs.RunFolder(str(tmp_path))
    assert run.start({"hidden": 4, "epochs": 3}) == 0
    for epoch in range(3):
        _epoch(run, epoch)
    again = runs.RunFolder(str(tmp_path), resume=True)
    assert again.start({"hidden": 4, "epochs": 5}) == 3
    assert again.results["resumed_at_epochs"] == [3]
    assert [e["epoch"] for e in again.results["epochs"]] == [0, 1, 2]
    # Network options may not change
    with pytest.raises(runs.RunError, match="--hidden.*was 4, now 8"):
        runs.RunFolder(str(tmp_path), resume=True).start({"hidden": 8})


def test_resume_moves_between_genn_backends_only(tmp_path):
    run = runs.RunFolder(str(tmp_path))
    run.start({"hidden": 4, "epochs": 3}, backend="reference")
    _epoch(run, 0)
    with pytest.raises(runs.RunError, match="reference.*--backend reference"):
        runs.RunFolder(str(tmp_path), resume=True).start(
            {"hidden": 4, "epochs": 3}, backend="single_threaded_cpu")
    genn = runs.RunFolder(str(tmp_path / "genn"))
    genn.start({"hidden": 4, "epochs": 3}, backend="cuda")
    _epoch(genn, 0)
    again = runs.RunFolder(str(tmp_path / "genn"), resume=True)
    assert again.start({"hidden": 4, "epochs": 3},
                       backend="single_threaded_cpu") == 1
    with pytest.raises(runs.RunError, match="--backend single_threaded_cpu"):
        runs.RunFolder(str(tmp_path / "genn"), resume=True).start(
            {"hidden": 4, "epochs": 3}, backend="reference")


@pytest.mark.parametrize("damage", ["truncated", "missing", "unrecorded"])
def test_resume_falls_back_from_a_damaged_checkpoint(tmp_path, damage):
    run = runs.RunFolder(str(tmp_path))
    run.start({"hidden": 4})
    for epoch in range(3):
        _epoch(run, epoch)
    last = tmp_path / "checkpoints" / "2-a-g.npy"
    if damage == "truncated":
        last.write_bytes(last.read_bytes()[:60])
    elif damage == "missing":
        last.unlink()
    else:
        # Files written, entry not: the run stopped between the two
        results = json.loads((tmp_path / "results.json").read_text())
        del results["epochs"][2]["checkpoint_files"]
        (tmp_path / "results.json").write_text(json.dumps(results))
    again = runs.RunFolder(str(tmp_path), resume=True)
    with pytest.warns(RuntimeWarning, match="epoch 2.*falling back to "
                                            "epoch 1"):
        assert again.start({"hidden": 4}) == 2
    assert [e["epoch"] for e in again.results["epochs"]] == [0, 1]
    # The damaged epoch's files are gone: nothing of it can mix in
    assert not list((tmp_path / "checkpoints").glob("2-*"))


@pytest.mark.parametrize("content", ["{\"epochs\": [", "[1, 2]", "\xff"])
def test_damaged_results_json_stops_resume_naming_it(tmp_path, content):
    run = runs.RunFolder(str(tmp_path))
    run.start({"hidden": 4})
    _epoch(run, 0)
    (tmp_path / "results.json").write_bytes(content.encode("latin-1"))
    with pytest.raises(runs.RunError, match="results.json"):
        runs.RunFolder(str(tmp_path), resume=True).start({"hidden": 4})


def test_results_are_json_with_parameter_counts(tmp_path):
    run = runs.RunFolder(str(tmp_path))
    run.start({"dimensions": "inf"}, delay_mode="per_synapse",
              delayed_connections=["ih"])
    for name, size in (("ih-g", 12), ("ih-d", 12), ("ho-g", 6),
                       ("h-X0", 4), ("h-X1", 4)):
        np.save(tmp_path / "checkpoints" / f"0-{name}.npy", np.zeros(size))
    run.record_epoch(0, checkpointed=True, train_accuracy=np.float32(0.25))
    run.record_epoch(0, validation_accuracy=0.4)
    loaded = json.loads((tmp_path / "results.json").read_text())
    assert loaded["config"]["dimensions"] == "inf"
    assert loaded["parameters"] == {"weights": 18, "positions": 8,
                                    "delays": 12, "per_synapse_delays": 12,
                                    "trainable": 38}
    assert loaded["epochs"][0]["validation_accuracy"] == 0.4
    assert not os.path.exists(tmp_path / "results.json.tmp")


def test_hidden_class_counts():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, (12, 4))
    labels = rng.integers(0, 3, 12)
    expected = np.zeros((4, 3))
    for example, label in enumerate(labels):
        expected[:, label] += counts[example]
    np.testing.assert_array_equal(runs.hidden_class_counts(counts, labels, 3),
                                  expected)
    with pytest.raises(ValueError):
        runs.hidden_class_counts(counts[:5], labels, 3)


def test_hold_out_and_resume_command():
    trains = [(np.array([float(i)]), np.array([0])) for i in range(10)]
    labels = np.arange(10) % 2
    train, validation = heidelberg.hold_out((trains, labels), 0.3, seed=1)
    assert len(train[1]) == 7 and len(validation[1]) == 3
    assert heidelberg.hold_out((trains, labels), 0.0, 1)[1] is None
    with pytest.raises(runs.RunError, match="--validation-split"):
        heidelberg.hold_out((trains[:1], labels[:1]), 0.3, 1)
    assert runs.resume_command(["x.py", "--overwrite", "--epochs", "3"]) == (
        "python3 x.py --epochs 3 --resume")
    assert runs.resume_command(["x.py", "--output", "my runs/a"]) == (
        "python3 x.py --output 'my runs/a' --resume")


# ----------------------------------------------------------------------------
# layout.npz
# ----------------------------------------------------------------------------
def _layout(rng):
    pre, post = rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, (5, 2))
    pre_ind, post_ind = np.array([0, 1, 3]), np.array([4, 0, 0])
    sparse = distance(post, post, pre_ind=pre_ind, post_ind=post_ind)
    return {"a": pre, "b": post}, {
        "a_b": {"source": "a", "target": "b",
                "distance": distance(pre, post), "delay": np.ones((4, 5)),
                "weight": rng.normal(size=(4, 5)), "scale": 3.0},
        "b_b": {"source": "b", "target": "b", "distance": sparse,
                "delay": np.zeros(3), "pre_ind": pre_ind,
                "post_ind": post_ind}}


def test_layout_written_and_read_back(tmp_path):
    positions, connections = _layout(np.random.default_rng(0))
    runs.write_layout(str(tmp_path / "l.npz"), positions, connections)
    layout = runs.load_layout(str(tmp_path / "l.npz"))
    assert layout.dimensions == 2
    assert {n: (c.source, c.target) for n, c in
            layout.connections.items()} == {"a_b": ("a", "b"),
                                             "b_b": ("b", "b")}
    assert layout.connections["b_b"].recurrent
    assert not layout.connections["b_b"].dense
    np.testing.assert_array_equal(layout.connections["a_b"].weight,
                                  connections["a_b"]["weight"])
    with pytest.raises(ValueError, match="'c'.*no positions"):
        runs.write_layout(str(tmp_path / "x.npz"), positions, {
            "a_c": dict(connections["a_b"], target="c")})


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("a_b/source"), "lacks a_b/source"),
    (lambda a: a.update({"a_b/delay": np.zeros(3)}), "a_b/delay has shape"),
    (lambda a: a.pop("b_b/post_ind"), "both pre_ind and post_ind"),
    (lambda a: [a.pop(k) for k in list(a) if k.startswith("positions")],
     "no 'positions"),
])
def test_bad_layouts_name_the_file(tmp_path, change, message):
    positions, connections = _layout(np.random.default_rng(1))
    runs.write_layout(str(tmp_path / "l.npz"), positions, connections)
    with np.load(tmp_path / "l.npz") as data:
        arrays = dict(data)
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message) as info:
        runs.load_layout(str(tmp_path / "bad.npz"))
    assert "bad.npz" in str(info.value)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz.*write it again"):
        runs.load_layout(str(tmp_path / "junk.npz"))


def test_resume_with_fewer_epochs_than_done_is_refused(tmp_path):
    run = runs.RunFolder(str(tmp_path))
    run.start({"hidden": 4, "epochs": 3})
    for epoch in range(3):
        _epoch(run, epoch)
    with pytest.raises(runs.RunError, match="--epochs 2.*3 or more"):
        runs.RunFolder(str(tmp_path), resume=True).start({"hidden": 4,
                                                           "epochs": 2})


# ----------------------------------------------------------------------------
# Learning-rate warm-up
# ----------------------------------------------------------------------------
def _scheduled_learning_rates(callback, start_epoch, epochs, num_batches):
    """Learning rates a schedule callback sets for the batches of epochs
    ``start_epoch ...`` of a run (one optimiser, peak rate 1e-3), driven as
    mlGeNN drives a callback."""
    from types import SimpleNamespace
    from ml_genn.utils.callback_list import CallbackList
    optimiser = SimpleNamespace(alpha=1e-3)
    network = SimpleNamespace(optimisers=[(optimiser, [])])
    seen = []
    for epoch in range(start_epoch, start_epoch + epochs):
        # As runs.train_epochs trains: one mlGeNN train() call, so one
        # CallbackList (which works on a shallow copy of the callback),
        # per epoch
        callbacks = CallbackList([callback], compiled_network=network,
                                 num_batches=num_batches, num_epochs=1)
        callbacks.on_epoch_begin(epoch)
        for batch in range(num_batches):
            callbacks.on_batch_begin(batch)
            seen.append(optimiser.alpha)
    return seen


@pytest.mark.genn
def test_warm_up_counts_batches_from_the_first_epoch_of_the_run():
    from ml_genn_spatial.runs.genn import AdamWarmUp

    def alphas(start_epoch, epochs):
        return _scheduled_learning_rates(
            AdamWarmUp(start_fraction=0.01, factor=2.0), start_epoch,
            epochs, num_batches=4)

    whole = alphas(0, 3)
    assert whole[0] == pytest.approx(1e-5)
    assert whole[5] == pytest.approx(1e-5 * 2 ** 5)
    assert whole[-1] == pytest.approx(1e-3)      # held at the final value
    # A run resumed at epoch 1 carries on where the first one was
    assert alphas(1, 2) == pytest.approx(whole[4:])


# ----------------------------------------------------------------------------
# The tested epoch and the learning-rate schedule
# ----------------------------------------------------------------------------
def test_tested_epoch_is_the_best_validation_epoch_never_the_test():
    epochs = [{"epoch": 0, "validation_accuracy": 0.80},
              {"epoch": 1, "validation_accuracy": 0.93},
              {"epoch": 2, "validation_accuracy": 0.91},
              {"epoch": 3, "validation_accuracy": 0.93},
              {"epoch": 4, "validation_accuracy": 0.90,
               "test_accuracy": 0.99}]
    epoch, reason = runs.best_validation_epoch(epochs)
    assert epoch == 3  # the later of the tie, not the last or the test's
    assert "0.9300" in reason and "0-4" in reason
    epoch, reason = runs.best_validation_epoch(
        [{"epoch": e, "validation_accuracy": None} for e in range(3)])
    assert epoch == 2 and "no validation" in reason
    with pytest.raises(runs.RunError, match="no epoch"):
        runs.best_validation_epoch([])


def test_run_folder_records_the_tested_epoch(tmp_path):
    run = runs.RunFolder(str(tmp_path / "run"))
    run.start({"epochs": 3})
    for epoch, accuracy in enumerate([0.5, 0.9, 0.7]):
        run.record_epoch(epoch, validation_accuracy=accuracy)
    assert run.choose_test_epoch() == 1
    saved = runs.read_results(run.results_path)
    assert saved["tested_epoch"] == 1
    assert "best validation accuracy" in saved["tested_epoch_reason"]


def test_learning_rate_schedules():
    scale = runs.learning_rate_scale
    assert [scale("constant", s, 10) for s in (0, 9, 20)] == [1.0] * 3
    # Linear warm-up to the peak, then half a cosine down to a tenth
    assert [scale("cosine", s, 12, warm_up_steps=2) for s in (0, 1)] == \
        [0.5, 1.0]
    assert scale("cosine", 2, 12, warm_up_steps=2) == pytest.approx(1.0)
    assert scale("cosine", 7, 12, warm_up_steps=2) == pytest.approx(0.55)
    assert scale("cosine", 12, 12, warm_up_steps=2) == pytest.approx(0.1)
    assert scale("cosine", 50, 12) == pytest.approx(0.1)
    values = [scale("cosine", s, 100) for s in range(100)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert scale("constant", 0, 10, warm_up_steps=4) == 0.25
    # Another end: half-way is the mean of 1 and it, the end is it
    assert scale("cosine", 50, 100, final_fraction=0.0) == pytest.approx(0.5)
    assert scale("cosine", 100, 100, final_fraction=0.0) == 0.0
    assert scale("cosine", 0, 100, final_fraction=0.0) == 1.0
    assert scale("constant", 100, 100, final_fraction=0.0) == 1.0
    with pytest.raises(ValueError, match="schedule"):
        scale("linear", 0, 10)
    with pytest.raises(ValueError):
        scale("cosine", -1, 10)
    with pytest.raises(ValueError, match="final_fraction"):
        scale("cosine", 0, 10, final_fraction=1.5)


def test_lr_schedule_options(tmp_path):
    parser = runs.make_parser("test", dict(DEFAULTS,
                                           output=str(tmp_path / "run")))
    runs.add_lr_schedule_options(parser)
    args = parser.parse_args([])
    assert (args.lr_schedule, args.lr_warm_up) == ("constant", 0)
    assert args.lr_final == runs.COSINE_FINAL_FRACTION
    args = parser.parse_args(["--lr-schedule", "cosine", "--lr-warm-up",
                              "500", "--lr-final", "0"])
    assert (args.lr_schedule, args.lr_warm_up, args.lr_final) == \
        ("cosine", 500, 0.0)
    runs.check_options(parser, args, backends=("reference",))
    for argv in (["--lr-schedule", "linear"], ["--lr-warm-up", "-1"],
                 ["--lr-schedule", "cosine", "--lr-final", "2"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)


def test_lr_final_needs_the_cosine_schedule(tmp_path, capsys):
    parser = runs.make_parser("test", dict(DEFAULTS,
                                           output=str(tmp_path / "run")))
    runs.add_lr_schedule_options(parser)
    args = parser.parse_args(["--lr-final", "0", "--backend", "reference"])
    with pytest.raises(SystemExit) as exit_info:
        runs.check_options(parser, args, backends=("reference",))
    assert exit_info.value.code == 2
    assert "--lr-final" in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.genn
def test_cosine_schedule_of_a_resumed_run_carries_on():
    from ml_genn_spatial.runs.genn import LearningRateSchedule

    def alphas(start_epoch, epochs):
        return _scheduled_learning_rates(
            LearningRateSchedule("cosine", 12, 2), start_epoch, epochs,
            num_batches=3)

    whole = alphas(0, 4)
    expected = [1e-3 * runs.learning_rate_scale("cosine", s, 12, 2)
                for s in range(12)]
    assert whole == pytest.approx(expected)
    assert alphas(2, 2) == pytest.approx(whole[6:])
    to_zero = _scheduled_learning_rates(
        LearningRateSchedule("cosine", 12, 2, final_fraction=0.0), 0, 4,
        num_batches=3)
    assert to_zero == pytest.approx(
        [1e-3 * runs.learning_rate_scale("cosine", s, 12, 2, 0.0)
         for s in range(12)])
    assert to_zero[-1] < whole[-1]


def test_recycled_neurons_are_recorded_per_epoch(tmp_path):
    run = runs.RunFolder(str(tmp_path))
    run.start({"hidden": 4, "epochs": 2})
    run.record_structure({"recycled": [5]}, num_batches=10)
    run.record_structure({"recycled": [2]}, num_batches=10)
    assert runs.read_results(str(tmp_path / runs.RESULTS_FILE))[
        "recycled_per_epoch"] == [5, 2]


@pytest.mark.parametrize("option, words", [
    (["--recycle-silent", "500"], "--recycle-silent"),
    (["--rewiring", "--sparsity", "0.5"], "--rewiring")])
def test_no_fallback_to_the_reference_model_for_what_it_cannot_do(
        monkeypatch, option, words):
    """Without GeNN and without --backend, options the reference model
    cannot honour are refused, not ignored."""
    parser = runs.make_parser("t", DEFAULTS)
    runs.add_recycle_silent_option(parser)
    args = parser.parse_args(option)
    _hide_genn(monkeypatch)
    with pytest.raises(runs.RunError, match=f"{words}.*install GeNN"):
        runs.resolve_backend(args, "t.py", True)
