"""The training scripts in examples/: options, network plans, parameter
counts, results and resuming (no GeNN), the Yin-Yang script on the NumPy
reference model (no GeNN), and SHD, SSC and Yin-Yang end to end on GeNN's
CPU backend (marked genn)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

import spatial_examples as se  # noqa: E402

try:
    # The GeNN half of the scripts; tests/conftest.py skips the tests
    # marked genn when pygenn is missing, with GeNN an error is a failure
    import spatial_genn  # noqa: E402,F401
except ImportError:
    if genn_available():
        raise


def _script(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(**overrides):
    """Options as make_parser gives them, for the plan functions."""
    parser = se.make_parser("test", dict(se.HEIDELBERG_DEFAULTS,
                                         output="out"))
    args = parser.parse_args([])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def _layers(num_inputs=20, hidden=10, classes=3, recurrent=True):
    args = SimpleNamespace(hidden=hidden, recurrent=recurrent)
    return se.heidelberg_network(args, num_inputs, classes)


# ----------------------------------------------------------------------------
# Options
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, extra", [
    ("yin_yang", ["--train-size", "reference"]),
    ("shd", ["--num-channels", "--max-examples", "--validation-split"]),
    ("ssc", ["--num-channels", "--max-examples", "--max-time"])])
def test_help_of_each_script(name, extra):
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"),
                           "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    for option in ["--dimensions", "--hidden", "--recurrent",
                   "--no-recurrent", "--sparsity", "--rewiring",
                   "--wiring-cost", "--batch-size", "--epochs", "--lr",
                   "--position-lr", "--max-delay", "--dt", "--seed",
                   "--backend", "--output", "--resume"] + extra:
        assert option in done.stdout, option
    if name != "yin_yang":
        assert "--data" in done.stdout


@pytest.mark.parametrize("text, value", [("0", 0), ("1", 1), ("8", 8),
                                         ("inf", "inf"), ("INF", "inf")])
def test_dimensions_option(text, value):
    assert _args().dimensions == 2
    parser = se.make_parser("t", dict(se.HEIDELBERG_DEFAULTS, output="o"))
    assert parser.parse_args(["--dimensions", text]).dimensions == value


@pytest.mark.parametrize("text", ["9", "-1", "two", "1.5"])
def test_bad_dimensions_are_refused(text, capsys):
    parser = se.make_parser("t", dict(se.HEIDELBERG_DEFAULTS, output="o"))
    with pytest.raises(SystemExit):
        parser.parse_args(["--dimensions", text])
    assert "--dimensions" in capsys.readouterr().err


def test_defaults_and_flags():
    shd = se.heidelberg_parser("shd", "t", has_validation=False)
    args = shd.parse_args([])
    assert (args.hidden, args.recurrent, args.dimensions, args.dt) == (
        128, True, 2, 1.0)
    assert args.output == os.path.join("runs", "shd")
    assert shd.parse_args(["--no-recurrent"]).recurrent is False
    assert se.resolve_batch_size(args, "single_threaded_cpu") == 1
    assert se.resolve_batch_size(args, "cuda") == 32
    args.batch_size = 7
    assert se.resolve_batch_size(args, "cuda") == 7

    yin_yang = _script("yin_yang").parse_args([])
    assert (yin_yang.recurrent, yin_yang.hidden) == (False, 100)
    assert _script("yin_yang").parse_args(["--recurrent"]).recurrent
    for bad in (["--sparsity", "1.0"], ["--sparsity", "-0.1"],
                ["--epochs", "0"], ["--dt", "0"]):
        with pytest.raises(SystemExit):
            shd.parse_args(bad)


def test_option_combinations_that_cannot_run_are_refused_early():
    for dimensions in (0, "inf"):
        with pytest.raises(ValueError, match="needs positions"):
            se.check_args(_args(wiring_cost=0.1, dimensions=dimensions))
        se.check_args(_args(rewiring=True, sparsity=0.5,
                            dimensions=dimensions))
        with pytest.raises(ValueError, match="--regrowth-length"):
            se.check_args(_args(rewiring=True, sparsity=0.5,
                                regrowth_length=0.5, dimensions=dimensions))
    with pytest.raises(ValueError, match="--sparsity"):
        se.check_args(_args(rewiring=True))
    with pytest.raises(ValueError, match="--regrowth-length"):
        se.check_args(_args(regrowth_length=0.5, sparsity=0.5))
    se.check_args(_args(wiring_cost=0.1, rewiring=True, sparsity=0.5,
                        regrowth_length=0.5))


# ----------------------------------------------------------------------------
# Network plans and parameter counts
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dimensions", [0, 1, 3, "inf"])
def test_plan_and_parameter_counts(dimensions):
    args = _args(dimensions=dimensions, max_delay=20.0, dt=0.5)
    plan = se.plan_network(args, *_layers())
    counts = se.parameter_counts(plan)
    synapses = {"input_hidden": 200, "hidden_hidden": 100,
                "hidden_output": 30}
    assert {c.name: c.num_synapses for c in plan.connections} == synapses
    assert counts["weights"] == 330
    delayed = 300 if dimensions != 0 else 0
    assert counts["per_synapse_delays"] == delayed
    assert plan.max_delay_steps == (0 if dimensions == 0 else 40)

    if dimensions in (1, 3):
        # Input and hidden are placed (their connections are delayed), the
        # output is not
        assert set(plan.positions) == {"input", "hidden"}
        assert counts["positions"] == dimensions * 30
        assert counts["delays"] == 0
        for positions in plan.positions.values():
            assert positions.shape[1] == dimensions
            assert np.all(np.abs(positions) <= 1.0)
        # The box diagonal maps onto the largest delay
        assert plan.scale == pytest.approx(40 / (2.0 * np.sqrt(dimensions)))
    else:
        assert plan.positions == {} and counts["positions"] == 0
    if dimensions == "inf":
        assert counts["delays"] == 300
        for conn in plan.connections:
            if conn.spec.delayed:
                assert conn.delay.shape == conn.shape
                assert conn.delay.min() >= 0 and conn.delay.max() <= 40
            else:
                assert conn.delay is None
    assert counts["trainable"] == (counts["weights"] + counts["positions"]
                                   + counts["delays"])


def test_sparse_plan_removes_synapses_and_keeps_the_other_draws():
    dense = se.plan_network(_args(), *_layers(hidden=30))
    sparse = se.plan_network(_args(sparsity=0.75), *_layers(hidden=30))
    for d, s in zip(dense.connections, sparse.connections):
        if not d.spec.delayed:
            assert not s.sparse
            np.testing.assert_array_equal(d.weight, s.weight)
            continue
        assert s.sparse and s.num_synapses < 0.4 * d.num_synapses
        # GeNN's row-major synapse order, weights of the dense draw scaled
        # to keep each neuron's expected input: mean / 0.25, spread / 0.5
        order = np.lexsort((s.post_ind, s.pre_ind))
        np.testing.assert_array_equal(order, np.arange(len(order)))
        mean = d.spec.weight_mean
        np.testing.assert_allclose(
            s.weight, mean / 0.25
            + (d.weight[s.pre_ind, s.post_ind] - mean) / 0.5)
        if d.spec.source == d.spec.target:
            assert not np.any(s.pre_ind == s.post_ind)
    for name in dense.positions:
        np.testing.assert_array_equal(dense.positions[name],
                                      sparse.positions[name])
    # The same seed gives the same synapses, another seed others
    again = se.plan_network(_args(sparsity=0.75), *_layers(hidden=30))
    other = se.plan_network(_args(sparsity=0.75, seed=2),
                            *_layers(hidden=30))
    np.testing.assert_array_equal(again.connections[0].pre_ind,
                                  sparse.connections[0].pre_ind)
    assert not np.array_equal(other.connections[0].weight,
                              sparse.connections[0].weight)
    # A recurrent layer of one neuron has nothing left but its autapse
    with pytest.raises(ValueError, match="without a synapse"):
        se.plan_network(_args(sparsity=0.5), *_layers(hidden=1))
    # Only the recurrent connection thinned
    recurrent_only = se.plan_network(
        _args(sparsity=0.75, sparse_connections="recurrent"),
        *_layers(hidden=30))
    assert [c.sparse for c in recurrent_only.connections] == [
        c.spec.delayed and c.spec.source == c.spec.target
        for c in recurrent_only.connections]


def test_delay_learning_rate_default():
    args = _args(position_lr=0.01, max_delay=100.0, dt=1.0)
    assert se.delay_learning_rate(args) == pytest.approx(
        0.01 * 100 / (2.0 * np.sqrt(2.0)))
    args.delay_lr = 0.5
    assert se.delay_learning_rate(args) == 0.5


def test_hidden_class_counts():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, (12, 4))
    labels = rng.integers(0, 3, 12)
    expected = np.zeros((4, 3))
    for example, label in enumerate(labels):
        expected[:, label] += counts[example]
    np.testing.assert_array_equal(se.hidden_class_counts(counts, labels, 3),
                                  expected)
    with pytest.raises(ValueError):
        se.hidden_class_counts(counts[:5], labels, 3)


# ----------------------------------------------------------------------------
# Results and resuming
# ----------------------------------------------------------------------------
def test_results_record_is_json(tmp_path):
    args = _args(dimensions="inf")
    plan = se.plan_network(args, *_layers())
    results = se.new_results("shd", args, plan)
    se.record_epoch(results, 1, train_accuracy=0.5, time_s=2.0)
    se.record_epoch(results, 0, train_accuracy=np.float32(0.25))
    se.record_epoch(results, 1, validation_accuracy=0.4)
    path = str(tmp_path / "results.json")
    se.write_json(path, results)
    with open(path) as f:
        loaded = json.load(f)
    assert loaded["config"]["dimensions"] == "inf"
    assert loaded["delay_mode"] == "per_synapse"
    assert loaded["parameters"] == se.parameter_counts(plan)
    assert [e["epoch"] for e in loaded["epochs"]] == [0, 1]
    assert loaded["epochs"][1] == {"epoch": 1, "train_accuracy": 0.5,
                                   "validation_accuracy": 0.4, "time_s": 2.0}
    assert not os.path.exists(path + ".tmp")


def test_prepare_resume(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    results_path = str(tmp_path / "results.json")
    args = _args(resume=True)
    plan = se.plan_network(args, *_layers())
    assert se.prepare_resume(args, results_path, str(checkpoints)) == (
        0, None)

    for epoch in range(3):
        (checkpoints / f"{epoch}-input_hidden-g.npy").write_bytes(b"")
    (checkpoints / "notes.npy").write_bytes(b"")
    results = se.new_results("shd", args, plan)
    for epoch in range(4):
        se.record_epoch(results, epoch, train_accuracy=0.1 * epoch)
    se.write_json(results_path, results)

    start, previous = se.prepare_resume(args, results_path, str(checkpoints))
    assert start == 3
    assert [e["epoch"] for e in previous["epochs"]] == [0, 1, 2]
    # Training options may change, the network's may not
    changed = _args(resume=True, epochs=200, lr=0.01, batch_size=4)
    assert se.prepare_resume(changed, results_path, str(checkpoints))[0] == 3
    with pytest.raises(ValueError, match="hidden"):
        se.prepare_resume(_args(resume=True, hidden=64), results_path,
                          str(checkpoints))
    assert se.prepare_resume(_args(), results_path, str(checkpoints)) == (
        0, None)


# ----------------------------------------------------------------------------
# Data of the Heidelberg scripts
# ----------------------------------------------------------------------------
def _write_heidelberg(h5py, folder, prefix, splits, num_classes=3, seed=0):
    """Tiny files in the published layout: ragged spikes/times [s] (float16)
    and spikes/units (uint16), labels. Dense enough (about 30 spikes per
    ms) to make hidden neurons fire."""
    rng = np.random.default_rng(seed)
    for split, size in splits.items():
        with h5py.File(folder / f"{prefix}_{split}.h5", "w") as file:
            times = file.create_dataset(
                "spikes/times", (size,),
                dtype=h5py.vlen_dtype(np.dtype(np.float16)))
            units = file.create_dataset(
                "spikes/units", (size,),
                dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
            labels = np.arange(size) % num_classes
            for i in range(size):
                num = 1200
                units[i] = rng.integers(0, 700, num).astype(np.uint16)
                times[i] = np.sort(rng.uniform(0.0, 0.04, num)).astype(
                    np.float16)
            file.create_dataset("labels", data=labels.astype(np.uint8))


def test_heidelberg_data_options(tmp_path):
    h5py = pytest.importorskip("h5py")
    _write_heidelberg(h5py, tmp_path, "shd", {"train": 10, "test": 4})
    parser = se.heidelberg_parser("shd", "t", has_validation=False)
    args = parser.parse_args(["--data", str(tmp_path), "--num-channels",
                              "20", "--max-examples", "8",
                              "--validation-split", "0.25"])
    from ml_genn_spatial.datasets import load_shd
    data = se.load_heidelberg(args, load_shd, 20, has_validation=False)
    assert (data.num_inputs, data.num_classes) == (20, 20)
    assert data.sizes() == {"num_train": 6, "num_validation": 2,
                            "num_test": 4}
    ids = np.concatenate([i for trains, _ in data.splits().values()
                          for _, i in trains])
    assert ids.min() >= 0 and ids.max() < 20
    latest = max(t.max() for trains, _ in data.splits().values()
                 for t, _ in trains)
    assert data.example_timesteps == int(np.ceil(latest / args.dt)) + 1

    args.num_channels = 30
    with pytest.raises(ValueError, match="divide 700"):
        se.load_heidelberg(args, load_shd, 20, has_validation=False)
    args.num_channels, args.data = None, str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="zenkelab"):
        se.load_heidelberg(args, load_shd, 20, has_validation=False)


# ----------------------------------------------------------------------------
# Whole runs
# ----------------------------------------------------------------------------
def _check_run(output, num_hidden, num_classes, epochs, spatial=True):
    with open(output / "results.json") as f:
        results = json.load(f)
    assert results["complete"] is True
    assert [e["epoch"] for e in results["epochs"]] == list(range(epochs))
    for entry in results["epochs"]:
        assert 0.0 <= entry["train_accuracy"] <= 1.0
        assert entry["time_s"] > 0.0
    assert 0.0 <= results["test_accuracy"] <= 1.0
    for key in ("weights", "positions", "delays", "per_synapse_delays",
                "trainable"):
        assert key in results["parameters"]
    found = se.checkpoint_epochs(str(output / "checkpoints"))
    assert found == list(range(epochs))
    counts = np.load(output / "hidden_class_counts.npy")
    assert counts.shape == (num_hidden, num_classes)
    with np.load(output / "layout.npz") as layout:
        if spatial:
            assert layout["positions/hidden"].shape[0] == num_hidden
    return results, counts


def test_yin_yang_reference_model_end_to_end_and_resume(tmp_path):
    yin_yang = _script("yin_yang")
    output = tmp_path / "yy"
    argv = ["--backend", "reference", "--output", str(output),
            "--train-size", "24", "--validation-size", "8", "--test-size",
            "9", "--hidden", "6", "--dt", "1.0", "--batch-size", "8",
            "--sparsity", "0.3", "--wiring-cost", "0.001"]
    yin_yang.main(argv + ["--epochs", "1"])
    results, _ = _check_run(output, 6, 3, 1)
    assert results["backend"] == "reference"
    assert results["epochs"][0]["validation_accuracy"] is not None
    # Checkpoints in mlGeNN's Numpy serialiser layout (GeNN can load them)
    first = np.load(output / "checkpoints" / "0-hidden-X1.npy")
    assert first.shape == (6,)

    yin_yang.main(argv + ["--epochs", "2", "--resume"])
    results, _ = _check_run(output, 6, 3, 2)
    assert not np.array_equal(
        first, np.load(output / "checkpoints" / "1-hidden-X1.npy"))


@pytest.mark.genn
def test_shd_end_to_end_and_resume(tmp_path):
    h5py = pytest.importorskip("h5py")
    _write_heidelberg(h5py, tmp_path, "shd", {"train": 6, "test": 4})
    output = tmp_path / "run"
    argv = ["--data", str(tmp_path), "--output", str(output),
            "--num-channels", "50", "--hidden", "8", "--max-delay", "6",
            "--backend", "single_threaded_cpu"]
    _script("shd").main(argv + ["--epochs", "1"])
    results, counts = _check_run(output, 8, 20, 1)
    assert results["genn_backend"] == "single_threaded_cpu"
    assert results["batch_size"] == 1
    assert results["parameters"]["positions"] == 2 * (50 + 8)
    assert counts.sum() > 0, "hidden neurons never spiked on the test set"
    with np.load(output / "layout.npz") as layout:
        assert layout["hidden_hidden/delay"].shape == (8, 8)
        assert layout["hidden_hidden/delay"].max() <= 6

    _script("shd").main(argv + ["--epochs", "2", "--resume"])
    results, _ = _check_run(output, 8, 20, 2)
    assert results["resumed_at_epochs"] == [1]
    # GeNN generated its code into the output folder, not the repository
    for folder in (EXAMPLES, EXAMPLES.parent, Path(__file__).parent):
        assert not list(folder.glob("*_CODE")), folder


@pytest.mark.genn
def test_ssc_per_synapse_delays_sparse_with_validation(tmp_path):
    h5py = pytest.importorskip("h5py")
    _write_heidelberg(h5py, tmp_path, "ssc",
                      {"train": 6, "valid": 3, "test": 3})
    output = tmp_path / "run"
    _script("ssc").main(["--data", str(tmp_path), "--output", str(output),
                         "--num-channels", "10", "--hidden", "8",
                         "--max-delay", "6", "--dimensions", "inf",
                         "--sparsity", "0.3", "--epochs", "1",
                         "--backend", "single_threaded_cpu"])
    results, _ = _check_run(output, 8, 35, 1, spatial=False)
    assert results["delay_mode"] == "per_synapse"
    assert results["num_validation"] == 3
    assert results["epochs"][0]["validation_accuracy"] is not None
    assert results["parameters"]["delays"] == (
        results["parameters"]["per_synapse_delays"]) > 0
    delays = np.load(output / "checkpoints" / "0-input_hidden-d.npy")
    assert delays.min() >= 0.0 and delays.max() <= 6.0


@pytest.mark.genn
def test_yin_yang_genn_rewiring_wiring_cost_and_resume(tmp_path):
    output = tmp_path / "yy"
    argv = ["--output", str(output), "--train-size", "12",
            "--validation-size", "0", "--test-size", "6", "--hidden", "8",
            "--dt", "1.0", "--dimensions", "3", "--recurrent",
            "--sparsity", "0.5", "--rewiring", "--regrowth-length", "0.5",
            "--wiring-cost", "0.001", "--backend", "single_threaded_cpu"]
    _script("yin_yang").main(argv + ["--epochs", "1"])
    results, _ = _check_run(output, 8, 3, 1)
    assert results["backend"] == "genn"
    assert results["parameters"]["positions"] == 3 * (4 + 8 + 3)
    assert results["epochs"][0]["validation_accuracy"] is None
    # DEEP R's synapses are checkpointed with the weights
    checkpoints = output / "checkpoints"
    before = np.load(checkpoints / "0-hidden_hidden-post_ind.npy")
    assert len(before) == len(np.load(checkpoints / "0-hidden_hidden-g.npy"))
    # ... and recorded per epoch: rewirings, synapses, sparsity, length
    structure = results["structure"]["hidden_hidden"]
    assert len(structure["rewirings_per_epoch"]) == 1
    assert len(structure["failed_rewirings_per_epoch"]) == 1
    record = structure["per_epoch"][0]
    assert record["num_synapses"] == len(before)
    assert record["sparsity"] == pytest.approx(1.0 - len(before) / 64)
    assert 0.0 < record["mean_length"] < np.sqrt(12.0)

    _script("yin_yang").main(argv + ["--epochs", "2", "--resume"])
    results, _ = _check_run(output, 8, 3, 2)
    with np.load(output / "layout.npz") as layout:
        np.testing.assert_array_equal(
            layout["hidden_hidden/post_ind"],
            np.load(checkpoints / "1-hidden_hidden-post_ind.npy"))
