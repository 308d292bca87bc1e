"""The training scripts in examples/: shape (flat, no imports of each
other), options refused with a one-line usage error, the Yin-Yang script on
the NumPy reference model (no GeNN) including a used folder, resume, Ctrl-C
and runs without positions, and SHD, SSC and Yin-Yang end to end on GeNN's
CPU backend (marked genn)."""
import ast
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml_genn_spatial import runs
from ml_genn_spatial.runs.options import genn_backend_problem

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = ("yin_yang", "shd", "ssc")
#: A Yin-Yang run of a second or two on the reference model
TINY = ["--backend", "reference", "--train-size", "24", "--validation-size",
        "8", "--test-size", "9", "--hidden", "6", "--dt", "1.0",
        "--batch-size", "8"]


def _script(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_single_spike_holds_neurons_for_the_rest_of_the_trial():
    from ml_genn_spatial import reference as ref
    from ml_genn_spatial.datasets import (encode_latency,
                                          spike_trains_from_dense)
    from ml_genn_spatial.runs.reference import build_yin_yang

    parser = _script("yin_yang").parser
    args = parser.parse_args([])
    assert runs.lif_params(args, 30.0)["tau_refrac"] is None
    assert parser.parse_args(["--no-single-spike"]).single_spike is False
    args = parser.parse_args(["--single-spike", "--hidden", "20"])
    assert runs.lif_params(args, 30.0) == dict(
        v_thresh=1.0, tau_mem=args.tau_mem, tau_refrac=60.0)

    # Strong inputs: the same network without the option spikes repeatedly
    trains = spike_trains_from_dense(encode_latency(
        np.random.default_rng(0).uniform(0, 1, (6, 4)), t_early=0.2,
        t_late=5.0))
    counts = {}
    for single_spike in (False, True):
        args.single_spike = single_spike
        network, _, _ = build_yin_yang(args, 4, 3)
        for c in network.connections:
            c.weight[:] = np.abs(c.weight) * 3.0
        counts[single_spike] = ref.EventProp(300, dt=0.1).forward(
            network, trains, np.zeros(6, int)).spike_count
    assert counts[False]["hidden"].max() >= 2
    assert counts[True]["hidden"].max() == 1
    assert counts[True]["output"].max() == 1


def _run(name, argv, timeout=300):
    return subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"),
                           *argv], capture_output=True, text=True,
                          timeout=timeout)


# ----------------------------------------------------------------------------
# Shape
# ----------------------------------------------------------------------------
def test_examples_are_flat_scripts():
    for path in EXAMPLES.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 250, path
        assert "sys.path" not in text, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = ([a.name for a in node.names]
                         if isinstance(node, ast.Import) else [node.module])
                stems = {p.stem for p in EXAMPLES.glob("*.py")}
                assert not stems & {str(n).split(".")[0] for n in names}, \
                    (path, names)
    for name in SCRIPTS:
        text = (EXAMPLES / f"{name}.py").read_text()
        assert len(text.splitlines()) <= 200, name
        # The network is on the page
        for word in ("Population(", "Connection(", "Compiler("):
            assert word in text, (name, word)


@pytest.mark.parametrize("name, extra", [
    ("yin_yang", ["--train-size", "reference"]),
    ("shd", ["--num-channels", "--max-examples", "--validation-split",
             "--shift", "--blend", "2501.07331", "2511.01632"]),
    ("ssc", ["--num-channels", "--max-examples", "--max-time",
             "2501.07331", "2511.01632"])])
def test_help_of_each_script(name, extra):
    done = _run(name, ["--help"], timeout=60)
    assert done.returncode == 0, done.stderr
    for option in ["--dimensions", "--hidden", "--recurrent",
                   "--no-recurrent", "--sparsity", "--sparse-connections",
                   "--rewiring", "--regrowth-length", "--wiring-cost",
                   "--batch-size", "--epochs", "--lr", "--position-lr",
                   "--max-delay", "--dt", "--seed", "--backend", "--output",
                   "--resume", "--overwrite"] + extra:
        assert option in done.stdout, option
    if name != "yin_yang":
        assert "--data" in done.stdout


def test_defaults_and_flags():
    shd = _script("shd").parser
    args = shd.parse_args([])
    assert (args.hidden, args.recurrent, args.dimensions, args.dt) == (
        128, True, 2, 1.0)
    assert (args.gpu_batch_size, args.delay_lr, args.shift, args.blend,
            args.warm_up) == (256, 0.1, 40, 0.5, True)
    assert runs.max_delay_steps(args) == 1000
    assert args.output == "runs/shd"
    assert shd.parse_args(["--no-recurrent"]).recurrent is False
    yin_yang = _script("yin_yang").parser
    assert (yin_yang.parse_args([]).recurrent,
            yin_yang.parse_args([]).hidden) == (False, 100)
    assert yin_yang.parse_args(["--recurrent"]).recurrent


@pytest.mark.parametrize("window", [None, 10.0])
def test_yin_yang_input_window_spans_the_latency_code(window):
    script = _script("yin_yang")
    extra = [] if window is None else ["--input-window", str(window)]
    args = script.parser.parse_args(["--train-size", "200",
                                     "--validation-size", "0",
                                     "--test-size", "50", *extra])
    data = script.load_data(args)
    assert sorted(data) == ["test", "train"]
    times = np.concatenate([t for trains, _ in data.values()
                            for t, _ in trains])
    # Features 0 and 1 at 2 steps of dt from either end of the window,
    # the default window the whole 30 ms trial
    end = 30.0 if window is None else window
    assert times.min() >= 2 * args.dt - 1e-9
    assert times.max() <= end - 2 * args.dt + 1e-9
    assert times.max() > end - 2 * args.dt - 0.05 * end
    assert times.min() < 2 * args.dt + 0.05 * end


# ----------------------------------------------------------------------------
# Bad options: usage error (2), one line naming the option, no traceback
# ----------------------------------------------------------------------------
BAD = [(["--dimensions", "9"], "--dimensions"),
       (["--dimensions", "1.5"], "--dimensions"),
       (["--hidden", "0"], "--hidden"), (["--hidden", "2.5"], "--hidden"),
       (["--sparsity", "1.0"], "--sparsity"),
       (["--sparsity", "nan"], "--sparsity"),
       (["--regrowth-length", "-1"], "--regrowth-length"),
       (["--wiring-cost", "-0.1"], "--wiring-cost"),
       (["--wiring-cost", "0.1", "--dimensions", "0"], "--wiring-cost"),
       (["--rewiring"], "--sparsity"),
       (["--max-delay", "inf"], "--max-delay"),
       (["--max-delay", "1e9"], "--max-delay"),
       (["--epochs", "0"], "--epochs"), (["--batch-size", "-2"],
                                         "--batch-size"),
       (["--lr", "-1"], "--lr"), (["--position-lr", "inf"], "--position-lr"),
       (["--delay-lr", "0.5"], "--delay-lr"),
       (["--dt", "0"], "--dt"), (["--seed", "-1"], "--seed"),
       (["--backend", "gpu"], "--backend"),
       (["--resume", "--overwrite"], "--overwrite"),
       (["--output", "FILE"], "--output"),
       (["--accumulate-batches", "0"], "--accumulate-batches")]
SCRIPT_BAD = {
    "yin_yang": [(["--dt", "7.5", "--max-delay", "10"], "--dt"),
                 (["--tau-mem", "0"], "--tau-mem"),
                 (["--input-window", "31"], "--input-window"),
                 (["--input-window", "0.3"], "--input-window"),
                 (["--tau-mem", "nan"], "--tau-mem"),
                 (["--train-size", "0"], "--train-size"),
                 (["--validation-size", "-1"], "--validation-size"),
                 (["--rewiring", "--sparsity", "0.5", "--backend",
                   "reference"], "--rewiring"),
                 (["--batch-size", "4", "--backend", "single_threaded_cpu"],
                  "--b"),
                 (["--spread-output", "10", "--dimensions", "inf"],
                  "--spread-output"),
                 (["--spread-output", "-1"], "--spread-output"),
                 (["--recycle-silent", "-1"], "--recycle-silent"),
                 (["--softmax-temperature", "0"], "--softmax-temperature"),
                 (["--ttfs-alpha", "-0.1"], "--ttfs-alpha"),
                 (["--recycle-silent", "500", "--sparsity", "0.5"],
                  "--recycle-silent"),
                 (["--recycle-silent", "500", "--backend", "reference"],
                  "--recycle-silent")],
    "shd": [(["--num-channels", "30"], "--num-channels"),
            (["--data", "MISSING"], "--data"),
            (["--max-time", "0.5"], "--dt"),
            (["--shift", "-1"], "--shift"), (["--blend", "1"], "--blend"),
            (["--validation-split", "1.5"], "--validation-split"),
            (["--backend", "reference"], "--backend")],
    "ssc": [(["--max-examples", "0"], "--max-examples"),
            (["--max-time", "nan"], "--max-time"),
            (["--validation-split", "0.1"], "unrecognized")]}


@pytest.mark.parametrize("name, argv, culprit", [
    (name, argv, culprit) for name in SCRIPTS
    for argv, culprit in BAD + SCRIPT_BAD[name]])
def test_bad_options_are_one_line_usage_errors(tmp_path, name, argv,
                                               culprit):
    (tmp_path / "FILE").write_text("")
    argv = [str(tmp_path / "FILE") if a == "FILE" else a for a in argv]
    base = ["--output", str(tmp_path / "run")]
    if name != "yin_yang":
        base += ["--data", str(tmp_path)]
    done = _run(name, base + argv, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{name}.py: error:") and culprit in last, last


def test_unavailable_backend_asked_for_is_an_error(tmp_path):
    if genn_backend_problem("cuda") is None:
        pytest.skip("this machine has GeNN's CUDA backend")
    done = _run("yin_yang", ["--backend", "cuda", "--output",
                             str(tmp_path / "run")], timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--backend cuda" in done.stderr
    assert not (tmp_path / "run").exists()


def test_without_genn_yin_yang_says_so_and_trains_the_reference(tmp_path):
    # A pygenn that fails to import, first on the path
    fake = tmp_path / "fake" / "pygenn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no GeNN here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path / "fake"), os.environ.get("PYTHONPATH", "")]))
    argv = [a for a in TINY if a not in ("--backend", "reference")]

    def run(*extra, output="run"):
        return subprocess.run(
            [sys.executable, str(EXAMPLES / "yin_yang.py"), *argv,
             "--epochs", "1", "--output", str(tmp_path / output), *extra],
            capture_output=True, text=True, timeout=300, env=env)

    done = run()
    assert done.returncode == 0, done.stderr
    assert "training the NumPy reference model" in done.stdout
    results = runs.read_results(str(tmp_path / "run" / "results.json"))
    assert results["backend"] == "reference"
    assert results["config"]["backend"] is None
    for backend in ("single_threaded_cpu", "cuda"):
        done = run("--backend", backend, output=backend)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"--backend {backend}" in done.stderr.splitlines()[-1]
        assert not (tmp_path / backend).exists()
    done = subprocess.run([sys.executable, str(EXAMPLES / "shd.py"),
                           "--data", str(tmp_path), "--output",
                           str(tmp_path / "shd")], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "shd.py trains on GeNN" in done.stderr


def test_shd_without_its_files_names_the_folder(tmp_path):
    if genn_backend_problem("single_threaded_cpu") is not None:
        pytest.skip("without GeNN shd.py stops before loading data")
    done = _run("shd", ["--data", str(tmp_path), "--output",
                        str(tmp_path / "run")], timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert str(tmp_path) in done.stderr and "zenkelab" in done.stderr


# ----------------------------------------------------------------------------
# Runs on the NumPy reference model
# ----------------------------------------------------------------------------
def _check_run(output, num_hidden, num_classes, epochs, spatial=True):
    results = runs.read_results(str(output / "results.json"))
    assert results["complete"] is True
    assert [e["epoch"] for e in results["epochs"]] == list(range(epochs))
    for entry in results["epochs"]:
        assert 0.0 <= entry["train_accuracy"] <= 1.0
        assert entry["time_s"] > 0.0
    assert 0.0 <= results["test_accuracy"] <= 1.0
    for key in ("weights", "positions", "delays", "per_synapse_delays",
                "trainable"):
        assert key in results["parameters"]
    found = sorted({int(p.name.split("-")[0])
                    for p in (output / "checkpoints").glob("*.npy")})
    assert found == list(range(epochs))
    counts = np.load(output / "hidden_class_counts.npy")
    assert counts.shape == (num_hidden, num_classes)
    if spatial:
        layout = runs.load_layout(str(output / "layout.npz"))
        assert layout.positions["hidden"].shape[0] == num_hidden
    else:
        assert not (output / "layout.npz").exists()
    return results, counts


def test_yin_yang_reference_model_end_to_end_and_resume(tmp_path):
    yin_yang = _script("yin_yang")
    output = tmp_path / "yy"
    argv = TINY + ["--output", str(output), "--sparsity", "0.3",
                   "--wiring-cost", "0.001"]
    yin_yang.main(argv + ["--epochs", "1"])
    results, _ = _check_run(output, 6, 3, 1)
    assert results["backend"] == "reference"
    assert results["epochs"][0]["validation_accuracy"] is not None
    # Checkpoints in mlGeNN's Numpy serialiser layout (GeNN can load them)
    first = np.load(output / "checkpoints" / "0-hidden-X1.npy")
    assert first.shape == (6,)
    assert results["parameters"]["positions"] == 2 * (4 + 6 + 3)

    yin_yang.main(argv + ["--epochs", "2", "--resume"])
    results, _ = _check_run(output, 6, 3, 2)
    assert results["resumed_at_epochs"] == [1]
    assert not np.array_equal(
        first, np.load(output / "checkpoints" / "1-hidden-X1.npy"))

    # A fresh run into the used folder is refused; --overwrite starts afresh
    done = _run("yin_yang", argv + ["--epochs", "1"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--resume" in done.stderr and "--overwrite" in done.stderr
    yin_yang.main(argv + ["--epochs", "1", "--overwrite"])
    results, _ = _check_run(output, 6, 3, 1)
    assert "resumed_at_epochs" not in results


@pytest.mark.parametrize("dimensions", ["0", "inf"])
def test_runs_without_positions_and_the_analysis(tmp_path, dimensions):
    output = tmp_path / "run"
    _script("yin_yang").main(TINY + ["--output", str(output), "--epochs", "1",
                                     "--dimensions", dimensions])
    results, _ = _check_run(output, 6, 3, 1, spatial=False)
    assert results["parameters"]["positions"] == 0
    assert results["parameters"]["delays"] == (
        results["parameters"]["per_synapse_delays"] if dimensions == "inf"
        else 0)
    done = subprocess.run([sys.executable, "-m", "ml_genn_spatial.analysis",
                           str(output), "--output", str(tmp_path / "a")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"--dimensions {dimensions}" in done.stderr


def test_ctrl_c_leaves_valid_results_and_resumes(tmp_path):
    output = tmp_path / "run"
    argv = TINY + ["--train-size", "400", "--validation-size", "0",
                   "--epochs", "40", "--output", str(output)]
    # A shell's background job (`cmd &`) starts with SIGINT ignored, which
    # Python keeps: give the script the default Ctrl-C whoever runs pytest
    process = subprocess.Popen(
        [sys.executable, "-u", str(EXAMPLES / "yin_yang.py"), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    printed = ""
    while "epoch 1," not in printed:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        printed += line
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("--resume")
    results = runs.read_results(str(output / "results.json"))
    done = [e["epoch"] for e in results["epochs"]]
    assert done[:2] == [0, 1] and results["complete"] is False

    resumed = _run("yin_yang", [a if a != "40" else str(len(done) + 1)
                                for a in argv] + ["--resume"])
    assert resumed.returncode == 0, resumed.stderr
    results = runs.read_results(str(output / "results.json"))
    assert [e["epoch"] for e in results["epochs"]] == list(
        range(len(done) + 1))
    assert results["complete"] and results["resumed_at_epochs"] == [
        len(done)]


def test_progress_is_a_line_per_epoch_in_a_log(tmp_path):
    done = _run("yin_yang", TINY + ["--epochs", "2", "--output",
                                    str(tmp_path / "run")])
    assert done.returncode == 0, done.stderr
    epoch_lines = [line for line in done.stdout.splitlines()
                   if line.startswith("epoch ")]
    assert len(epoch_lines) == 2
    assert len(done.stdout) + len(done.stderr) < 2000


# ----------------------------------------------------------------------------
# Whole runs on GeNN's CPU backend
# ----------------------------------------------------------------------------
def _write_heidelberg(h5py, folder, prefix, splits, num_classes=3, seed=0):
    """Tiny files in the published layout: ragged spikes/times [s] (float16)
    and spikes/units (uint16), labels, extra/keys and extra/speaker. Dense
    enough (about 30 spikes per ms) to make hidden neurons fire."""
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
            file.create_dataset("extra/keys", data=[
                f"class-{c}".encode() for c in range(num_classes)])
            file.create_dataset("extra/speaker",
                                data=np.zeros(size, dtype=np.uint16))


def test_heidelberg_data_options(tmp_path):
    h5py = pytest.importorskip("h5py")
    from ml_genn_spatial.datasets import load_shd
    from ml_genn_spatial.runs import data as heidelberg
    _write_heidelberg(h5py, tmp_path, "shd", {"train": 10, "test": 4})
    parser = _script("shd").parser
    args = parser.parse_args(["--data", str(tmp_path), "--num-channels",
                              "20", "--max-examples", "8", "--max-time",
                              "30"])
    trains, labels = heidelberg.load_split(load_shd, args, "train")
    assert len(trains) == len(labels) == 8
    assert max(t.max() for t, _ in trains) < 30.0
    merged = heidelberg.merge_channels(trains, args)
    ids = np.concatenate([i for _, i in merged])
    assert ids.min() >= 0 and ids.max() < 20
    steps = heidelberg.trial_timesteps(parser, args, [(merged, labels)])
    latest = max(t.max() for t, _ in merged)
    assert steps == int(np.ceil(latest / args.dt)) + 1
    args.data = str(tmp_path / "missing")
    with pytest.raises(runs.RunError, match="zenkelab"):
        heidelberg.load_split(load_shd, args, "train")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "shd_train.h5").write_bytes(b"not hdf5")
    args.data = str(tmp_path / "bad")
    with pytest.raises(runs.RunError, match="'train'"):
        heidelberg.load_split(load_shd, args, "train")


@pytest.mark.genn
def test_shd_end_to_end_and_resume(tmp_path):
    h5py = pytest.importorskip("h5py")
    _write_heidelberg(h5py, tmp_path, "shd", {"train": 6, "test": 4})
    output = tmp_path / "run"
    argv = ["--data", str(tmp_path), "--output", str(output),
            "--num-channels", "50", "--hidden", "8", "--max-delay", "6",
            "--backend", "single_threaded_cpu", "--shift", "0", "--blend",
            "0"]
    _script("shd").main(argv + ["--epochs", "1"])
    results, counts = _check_run(output, 8, 20, 1)
    assert results["backend"] == "single_threaded_cpu"
    assert results["parameters"]["positions"] == 2 * (50 + 8)
    assert counts.sum() > 0, "hidden neurons never spiked on the test set"
    layout = runs.load_layout(str(output / "layout.npz"))
    assert layout.connections["hidden_hidden"].delay.shape == (8, 8)
    assert layout.connections["hidden_hidden"].delay.max() <= 6

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
                         # augmented as in 2501.07331 (defaults of ssc.py)
                         "--backend", "single_threaded_cpu"])
    results, _ = _check_run(output, 8, 35, 1, spatial=False)
    assert results["delay_mode"] == "per_synapse"
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
    assert results["backend"] == "single_threaded_cpu"
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
    layout = runs.load_layout(str(output / "layout.npz"))
    np.testing.assert_array_equal(
        layout.connections["hidden_hidden"].post_ind,
        np.load(checkpoints / "1-hidden_hidden-post_ind.npy"))


@pytest.mark.genn
@pytest.mark.parametrize("dimensions", ["0", "inf"])
def test_yin_yang_genn_without_positions(tmp_path, dimensions, capfd):
    output = tmp_path / "yy"
    _script("yin_yang").main([
        "--output", str(output), "--train-size", "6", "--validation-size",
        "2", "--test-size", "4", "--hidden", "5", "--dt", "1.0",
        "--dimensions", dimensions, "--epochs", "1",
        "--backend", "single_threaded_cpu"])
    results, _ = _check_run(output, 5, 3, 1, spatial=False)
    assert results["delay_mode"] == ("none" if dimensions == "0"
                                     else "per_synapse")
    # Not a terminal: no progress bars, a line per epoch
    out, err = capfd.readouterr()
    assert "it/s" not in out + err and "\r" not in out + err
    assert "epoch 0, train" in out


def _checkpoints(output):
    return {path.name: np.load(path)
            for path in (output / "checkpoints").glob("*.npy")}


def _assert_same_checkpoints(output, other):
    """The two run folders hold the same checkpoints, bit for bit."""
    mine, theirs = _checkpoints(output), _checkpoints(other)
    assert mine.keys() == theirs.keys()
    for name, values in mine.items():
        np.testing.assert_array_equal(theirs[name], values, err_msg=name)


def _check_tested_epoch(output, results):
    """The run tested the best validation epoch's checkpoint: its
    positions are the layout's (written from the tested network)."""
    epoch, _ = runs.best_validation_epoch(results["epochs"])
    assert results["tested_epoch"] == epoch
    assert "validation" in results["tested_epoch_reason"]
    layout = runs.load_layout(str(output / "layout.npz"))
    np.testing.assert_allclose(
        layout.positions["hidden"][:, 0],
        np.load(output / "checkpoints" / f"{epoch}-hidden-X0.npy"),
        rtol=1e-6)


def test_yin_yang_tests_the_best_validation_epoch_on_the_reference(
        tmp_path):
    output = tmp_path / "yy"
    # A run whose validation accuracy peaks before its last epoch
    _script("yin_yang").main([
        "--backend", "reference", "--train-size", "48", "--validation-size",
        "24", "--test-size", "9", "--hidden", "10", "--dt", "0.5",
        "--batch-size", "4", "--epochs", "6", "--lr", "0.05",
        "--position-lr", "0.1", "--output", str(output)])
    results, _ = _check_run(output, 10, 3, 6)
    assert results["tested_epoch"] < 5
    _check_tested_epoch(output, results)
    # The learning-rate schedule options run on the reference too
    _script("yin_yang").main([*TINY, "--output", str(output), "--epochs",
                              "2", "--lr-schedule", "cosine",
                              "--lr-warm-up", "2", "--overwrite"])
    assert runs.read_results(str(output / "results.json"))["config"][
        "lr_schedule"] == "cosine"


@pytest.mark.genn
def test_yin_yang_genn_tests_the_best_validation_epoch(tmp_path):
    argv = ["--train-size", "12", "--validation-size", "6", "--test-size",
            "6", "--hidden", "8", "--dt", "1.0", "--epochs", "3",
            "--lr-schedule", "cosine", "--position-lr", "0.2", "--backend",
            "single_threaded_cpu"]
    for name in ("yy", "again"):
        _script("yin_yang").main(argv + ["--output", str(tmp_path / name)])
    output = tmp_path / "yy"
    results, _ = _check_run(output, 8, 3, 3)
    _check_tested_epoch(output, results)
    # The same command gives the same run (what the sweep's recorded
    # commands rely on): every checkpoint and the test accuracy
    again = runs.read_results(str(tmp_path / "again" / "results.json"))
    assert again["test_accuracy"] == results["test_accuracy"]
    _assert_same_checkpoints(output, tmp_path / "again")


def _output_spread_layouts(tmp_path, backend):
    """layout.npz of one-batch runs (positions barely move) without and
    with --spread-output, and the positions the option promises."""
    argv = ["--train-size", "1", "--validation-size", "0", "--test-size",
            "3", "--hidden", "6", "--dt", "1.0", "--epochs", "1",
            "--dimensions", "3", "--seed", "4", "--position-lr", "1e-9",
            "--backend", backend]
    layouts = []
    for name, extra in (("plain", []), ("spread", ["--spread-output",
                                                    "50"])):
        _script("yin_yang").main(argv + extra + ["--output",
                                                 str(tmp_path / name)])
        with np.load(tmp_path / name / runs.LAYOUT_FILE) as layout:
            layouts.append({p: layout[f"positions/{p}"]
                            for p in ("input", "hidden", "output")})
    args = _script("yin_yang").parser.parse_args(argv + ["--spread-output",
                                                         "50"])
    return layouts, runs.spread_output_positions(args, 3)


def _check_output_spread(layouts, promised):
    plain, spread = layouts
    # Only the output neurons move; the other draws stay those of the seed
    for name in ("input", "hidden"):
        np.testing.assert_allclose(spread[name], plain[name], atol=1e-6)
    np.testing.assert_allclose(spread["output"], promised, atol=1e-6)
    assert not np.allclose(spread["output"], plain["output"], atol=1e-3)


def test_yin_yang_spread_output_reference(tmp_path):
    _check_output_spread(*_output_spread_layouts(tmp_path, "reference"))


@pytest.mark.genn
def test_yin_yang_spread_output_genn(tmp_path):
    _check_output_spread(*_output_spread_layouts(tmp_path,
                                                 "single_threaded_cpu"))


def test_yin_yang_reference_accumulation_is_a_wider_batch(tmp_path):
    # The reference model steps once per batch: --accumulate-batches 2 of
    # batch 4 is batch 8, to the last bit
    argv = [*TINY[:-1], "4", "--epochs", "2"]
    for name, extra in (("wide", ["--batch-size", "8"]),
                        ("accumulated", ["--accumulate-batches", "2"])):
        _script("yin_yang").main([*argv, *extra, "--output",
                                  str(tmp_path / name)])
    assert len(_checkpoints(tmp_path / "wide")) > 4
    _assert_same_checkpoints(tmp_path / "wide", tmp_path / "accumulated")
    assert runs.read_results(str(tmp_path / "accumulated" / "results.json"))[
        "batch_size"] == 8


@pytest.mark.genn
@pytest.mark.parametrize("dimensions", ["2", "inf"])
def test_yin_yang_genn_accumulation_reaches_every_optimiser(tmp_path,
                                                            dimensions):
    # Four trials deliver three gradients (mlGeNN applies none after an
    # epoch's first): too few for a step of --accumulate-batches 4, so the
    # weights, positions and delays stay as drawn whatever the rates
    argv = ["--train-size", "4", "--validation-size", "2", "--test-size",
            "2", "--hidden", "20", "--dt", "0.5", "--epochs", "1",
            "--dimensions", dimensions, "--backend", "single_threaded_cpu"]
    for name, extra in (("plain", []),
                        ("slow", ["--accumulate-batches", "4"]),
                        ("fast", ["--accumulate-batches", "4", "--lr", "0.5",
                                  "--position-lr", "0.5"])):
        _script("yin_yang").main([*argv, *extra, "--output",
                                  str(tmp_path / name)])
    plain, slow = (_checkpoints(tmp_path / name) for name in ("plain", "slow"))
    moved = {name for name, values in plain.items()
             if not np.array_equal(values, slow[name])}
    expected = {"-g.npy", "-X0.npy" if dimensions == "2" else "-d.npy"}
    assert {e for e in expected if any(m.endswith(e) for m in moved)} \
        == expected
    _assert_same_checkpoints(tmp_path / "slow", tmp_path / "fast")


@pytest.mark.parametrize("which", [
    "reference", pytest.param("single_threaded_cpu", marks=pytest.mark.genn)])
def test_yin_yang_first_spike_loss_options_reach_the_loss(tmp_path,
                                                          which):
    argv = ["--train-size", "8", "--validation-size", "2", "--test-size",
            "2", "--hidden", "20", "--dt", "0.5", "--epochs", "1",
            "--tau-mem", "10", "--input-window", "10", "--max-delay", "10",
            "--backend", which]  # a time scale at which the outputs spike
    if which == "reference":  # Adam's first step is blind to the scale
        argv += ["--batch-size", "2"]
    trained = {}
    for name, extra in (("default", []),
                        ("alpha", ["--ttfs-alpha", "2"]),
                        ("temperature", ["--softmax-temperature", "0.1"])):
        _script("yin_yang").main([*argv, *extra, "--output",
                                  str(tmp_path / name)])
        trained[name] = _checkpoints(tmp_path / name)
        config = runs.read_results(str(tmp_path / name / "results.json"))[
            "config"]
        assert (config["ttfs_alpha"], config["softmax_temperature"]) == {
            "default": (0.1, 0.5), "alpha": (2.0, 0.5),
            "temperature": (0.1, 0.1)}[name]
    weights = "0-hidden_output-g.npy"
    for name in ("alpha", "temperature"):
        assert not np.array_equal(trained[name][weights],
                                  trained["default"][weights]), name
