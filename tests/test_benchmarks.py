"""benchmarks/: the pure parts (statistics, power-law fit, memory grouping,
parameter counts, synthetic SHD-like data) without GeNN, and a tiny run of
the benchmark command (GeNN)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import measure                                  # noqa: E402
from benchmarks.workloads import (MODES, SHAPES, make_data,     # noqa: E402
                                  shd_like_spikes)


def _record(array, kind="synapse", group="input_hidden", role="var",
            size=400, update_group=None, delay_slot_bytes=0):
    return {"kind": kind, "group": group, "array": array, "role": role,
            "update_group": update_group, "bytes": size,
            "delay_slot_bytes": delay_slot_bytes}


# --- statistics and fits ---------------------------------------------------

def test_power_law_fit_recovers_exponent_and_prefactor():
    hidden = np.array([64, 128, 256, 512, 1024])
    fit = measure.fit_power_law(hidden, 3e-6 * hidden ** 1.7)
    assert fit["exponent"] == pytest.approx(1.7, abs=1e-9)
    assert fit["prefactor"] == pytest.approx(3e-6, rel=1e-9)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["n"] == 5


def test_power_law_fit_with_noise_and_bad_points():
    rng = np.random.default_rng(0)
    hidden = np.array([64, 128, 256, 512, 1024], dtype=float)
    noisy = 2.0 * hidden ** 2 * np.exp(rng.normal(0.0, 0.02, hidden.size))
    values = list(noisy) + [None, 0.0]
    fit = measure.fit_power_law(list(hidden) + [2048, 4096], values)
    assert fit["n"] == 5                     # missing and zero left out
    assert fit["exponent"] == pytest.approx(2.0, abs=0.05)
    assert measure.fit_power_law([64, 64], [1.0, 2.0]) is None
    assert measure.fit_power_law([64], [1.0]) is None


def test_time_summary_ratios_and_rotation():
    summary = measure.summarise_times([4.0, 1.0, 3.0, 2.0, 5.0])
    assert summary["median"] == 3.0 and summary["n"] == 5
    assert (summary["min"], summary["max"]) == (1.0, 5.0)
    assert summary["iqr"] == pytest.approx(2.0)
    assert measure.summarise_times([])["median"] is None
    # Paired ratios cancel a slow drift shared by both modes
    a = [[2.0, 2.0], [4.0, 4.0], [8.0, 8.0]]
    b = [[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]]
    assert measure.paired_ratio(a, b) == pytest.approx(2.0)
    assert measure.ratio(1.0, 0.0) is None and measure.ratio(None, 1) is None
    assert measure.rotated(["a", "b", "c"], 1) == ["b", "c", "a"]
    assert measure.rotated(["a", "b", "c"], 4) == ["b", "c", "a"]


def test_profile_per_trial_takes_median_over_blocks():
    blocks = [{"neuron_update_time": 0.3, "custom_update:Reset": 0.03},
              {"neuron_update_time": 0.9, "custom_update:Reset": 0.03},
              {"neuron_update_time": 0.3, "custom_update:Reset": 0.03}]
    times = [[0.2, 0.2, 0.2], [0.6, 0.6, 0.6], [0.2, 0.2, 0.2]]
    profile = measure.profile_per_trial(blocks, times)
    assert profile["neuron_update_time"] == pytest.approx(0.1)
    assert profile["wall"] == pytest.approx(0.2)
    assert profile["host"] == pytest.approx(0.2 - 0.1 - 0.01)
    assert measure.profile_per_trial([{}], [[1.0]]) == {}


# --- memory grouping and parameters ------------------------------------------

def test_arrays_are_grouped_into_categories():
    records = [
        _record("g"), _record("d"), _record("Gradient"),
        _record("DelayGradient"), _record("PositionDelayGradient"),
        _record("X0", kind="neuron", group="hidden"),
        _record("PositionGradientAcc", role="egp", kind="neuron",
                group="hidden"),
        _record("Gradient1", kind="custom_update", group="CUPositionGather0",
                update_group="PositionGather"),
        _record("XPre1", role="pre_var"), _record("XPost0", role="post_var"),
        _record("XPre0", role="pre_var", group="input_hidden_PositionMirror"),
        _record("DelayGradientT", role="egp",
                group="input_hidden_PositionMirror"),
        _record("outPost", role="internal",
                group="input_hidden_PositionMirror"),
        _record("denDelay", role="internal"),
        _record("rowLength", role="internal"), _record("ind", role="internal"),
        _record("M", kind="custom_update", group="CUGradientLearnDelay0",
                update_group="GradientLearn"),
        _record("V", kind="custom_update", group="CUPositionLearn0_1",
                update_group="PositionLearn"),
        _record("ReducedGradient", kind="custom_update",
                group="CUBatchReduceWeight0",
                update_group="GradientBatchReduce"),
        _record("LambdaI", kind="neuron", group="hidden", size=6300,
                delay_slot_bytes=6200),
        _record("V", kind="neuron", group="hidden"),
        _record("outPost", role="internal"),
    ]
    grouped = measure.group_memory(records)
    assert set(grouped) == set(measure.MEMORY_CATEGORIES)
    assert grouped["weights"] == 400
    assert grouped["delays"] == 400
    # X0, XPre1, XPost0 and the mirror's XPre0
    assert grouped["positions"] == 4 * 400
    # Gradient, DelayGradient, PositionDelayGradient, PositionGradientAcc,
    # the gathered Gradient1 and the batch reduction
    assert grouped["gradients"] == 6 * 400
    assert grouped["mirror/transpose"] == 2 * 400   # DelayGradientT, outPost
    assert grouped["delay buffers"] == 400 + 6200   # denDelay, extra slots
    assert grouped["connectivity"] == 2 * 400
    assert grouped["optimiser state"] == 2 * 400
    # LambdaI's first slot, V, outPost
    assert grouped["other"] == 100 + 2 * 400
    assert sum(grouped.values()) == sum(r["bytes"] for r in records)


def test_delay_related_memory_of_both_mechanisms():
    per_synapse = [
        _record("g"), _record("Gradient"), _record("d"),
        _record("DelayGradient"),
        _record("M", kind="custom_update", group="CUGradientLearnDelay0",
                update_group="GradientLearn"),
        _record("V", kind="custom_update", group="CUGradientLearnDelay0",
                update_group="GradientLearn"),
        _record("M", kind="custom_update", group="CUGradientLearnWeight0",
                update_group="GradientLearn"),
        _record("denDelay", role="internal")]
    memory = measure.delay_related_memory(per_synapse)
    assert memory == {"parameters": 400, "gradients": 400,
                      "optimiser state": 800, "total": 1600,
                      "parameters_and_optimiser": 1200}

    spatial = [
        _record("g"), _record("Gradient"), _record("PositionDelayGradient"),
        _record("X0", kind="neuron", group="hidden", size=8),
        _record("PositionGradientAcc", role="egp", kind="neuron",
                group="hidden", size=8),
        _record("XPost0", role="post_var", size=8),
        _record("DelayGradientT", role="egp",
                group="input_hidden_PositionMirror"),
        _record("M", kind="custom_update", group="CUPositionLearn0_0",
                update_group="PositionLearn", size=8)]
    memory = measure.delay_related_memory(spatial)
    assert memory["parameters"] == 16
    assert memory["gradients"] == 400 + 8 + 400
    assert memory["optimiser state"] == 8
    assert memory["total"] == 16 + 808 + 8
    assert memory["parameters_and_optimiser"] == 24


# --- the memory model ------------------------------------------------------

def _modelled(array, shape, type_bytes=4, batched=True, **kwargs):
    record = _record(array, **kwargs)
    record.update(shape=shape, type_bytes=type_bytes, batched=batched)
    record["bytes"] = measure.model_bytes(record, 1)
    return record


def test_model_elements_of_each_shape():
    neuron = {"per": "neuron", "pop": "hidden", "n": 64, "slots": 3}
    dense = {"per": "synapse", "pre": "input", "post": "hidden",
             "n_pre": 700, "n_post": 64, "row": 64, "sparse": False}
    sparse = {**dense, "row": 12, "sparse": True}
    pairs = {"per": "pairs", "pre": "hidden", "post": "input",
             "n_pre": 64, "n_post": 700, "factor": 2}
    assert measure.model_elements(neuron) == 64 * 3
    assert measure.model_elements(neuron, {"hidden": 256}) == 256 * 3
    assert measure.model_elements(neuron, {"input": 9}) == 64 * 3
    assert measure.model_elements(dense, {"hidden": 256}) == 700 * 256
    assert measure.model_elements(dense, {"input": 10}) == 10 * 64
    # A sparse row grows in proportion to its target population
    assert measure.model_elements(sparse) == 700 * 12
    assert measure.model_elements(sparse, {"hidden": 128}) == 700 * 24
    assert measure.model_elements(sparse, {"hidden": 100}) == 700 * 19
    assert measure.model_elements(pairs, {"hidden": 32}) == 32 * 700 * 2
    assert measure.model_elements({"per": "one", "n": 5},
                                  {"hidden": 9}) == 5
    with pytest.raises(ValueError):
        measure.model_elements({"per": "kernel"})


def test_model_bytes_multiply_only_duplicated_arrays_by_the_batch():
    dense = {"per": "synapse", "pre": "hidden", "post": "hidden",
             "n_pre": 10, "n_post": 10, "row": 10, "sparse": False}
    lane = _modelled("DelayGradient", dense)
    shared = _modelled("g", dense, batched=False)
    index = _modelled("ind", {**dense, "row": 3, "sparse": True},
                      type_bytes=1, batched=False, role="internal")
    assert measure.model_bytes(lane, 256) == 100 * 4 * 256
    assert measure.model_bytes(shared, 256) == 100 * 4
    assert measure.model_bytes(index, 32, {"hidden": 20}) == 20 * 6
    # A delayed neuron variable keeps its slots in every lane
    lambda_i = _modelled("LambdaI", {"per": "neuron", "pop": "hidden",
                                     "n": 10, "slots": 4},
                         kind="neuron", group="hidden",
                         delay_slot_bytes=120)
    modelled = measure.model_records([lambda_i], 2, {"hidden": 20})[0]
    assert modelled["bytes"] == 20 * 4 * 4 * 2
    assert modelled["delay_slot_bytes"] == modelled["bytes"] * 3 // 4


def test_model_check_finds_every_difference():
    dense = {"per": "synapse", "pre": "hidden", "post": "hidden",
             "n_pre": 10, "n_post": 10, "row": 10, "sparse": False}
    good = _modelled("g", dense, batched=False)
    bad = {**_modelled("Gradient", dense), "bytes": 800}
    plain = _record("other", size=12)
    check = measure.check_model([good, bad, plain])
    assert check["arrays"] == 3 and check["modelled"] == 2
    assert check["measured_bytes"] == 400 + 800 + 12
    assert check["modelled_bytes"] == 800
    assert check["unmodelled_bytes"] == 12
    assert check["mismatches"] == [{"group": "input_hidden",
                                    "array": "Gradient", "measured": 800,
                                    "modelled": 400}]
    # Measured at batch 2, a per-lane array is twice the batch-1 model
    assert measure.check_model([{**bad}], 2)["mismatches"] == []


def test_batch_only_arrays_join_the_model_above_batch_1():
    dense = {"per": "synapse", "pre": "input", "post": "hidden",
             "n_pre": 10, "n_post": 10, "row": 10, "sparse": False}
    records = [
        _modelled("PositionDelayGradient", dense),
        _modelled("M", dense, batched=False, kind="custom_update",
                  group="CUGradientLearnWeight0",
                  update_group="GradientLearn"),
        _modelled("V", dense, batched=False, kind="custom_update",
                  group="CUGradientLearnWeight0",
                  update_group="GradientLearn")]
    assert measure.model_records(records, 1) == records
    at_32 = measure.model_records(records, 32)
    assert [(r["group"], r["array"]) for r in at_32[3:]] == [
        ("input_hidden", "ReducedPositionDelayGradient"),
        ("CUBatchReduceWeight0", "ReducedGradient")]
    assert [r["bytes"] for r in at_32] == [400 * 32, 400, 400, 400, 400]
    # Records measured at batch 32 already hold them
    assert len(measure.model_records(records, 32, measured_batch=32)) == 3
    grouped = measure.group_memory(at_32)
    assert grouped["gradients"] == 400 * 32 + 400 + 400


def test_memory_model_rows_group_the_modelled_bytes():
    dense = {"per": "synapse", "pre": "input", "post": "hidden",
             "n_pre": 700, "n_post": 16, "row": 16, "sparse": False}
    records = [_modelled("g", dense, batched=False),
               _modelled("d", dense, batched=False),
               _modelled("DelayGradient", dense)]
    rows = measure.memory_model(records, (1, 32), [{"hidden": 16},
                                                   {"hidden": 256}])
    assert [(r["sizes"]["hidden"], r["batch_size"]) for r in rows] == [
        (16, 1), (16, 32), (256, 1), (256, 32)]
    last = rows[-1]
    assert last["categories"]["weights"] == 700 * 256 * 4
    assert last["categories"]["gradients"] == 700 * 256 * 4 * 32
    assert last["delay"] == 700 * 256 * 4 * 33
    assert last["total"] == 700 * 256 * 4 * 34


def test_trainable_parameters_are_counted():
    groups = [
        {"kind": "synapse", "synapses": 700 * 64, "trainable_weights": True,
         "trainable_delays": True},
        {"kind": "synapse", "synapses": 64 * 64, "trainable_weights": True,
         "trainable_delays": False},
        {"kind": "synapse", "synapses": 64 * 700,
         "trainable_weights": False, "trainable_delays": False},  # a mirror
        {"kind": "neuron", "neurons": 700, "position_dims": 3},
        {"kind": "neuron", "neurons": 64, "position_dims": 3},
        {"kind": "neuron", "neurons": 20, "position_dims": 0}]
    counts = measure.count_parameters(groups)
    assert counts == {"weights": 700 * 64 + 64 * 64, "delays": 700 * 64,
                      "positions": 3 * 764,
                      "total": 2 * 700 * 64 + 64 * 64 + 3 * 764}


def test_markdown_table():
    table = measure.markdown_table(["a", "b"], [[1, None], ["x", 2.5]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | — |",
                                  "| x | 2.5 |"]
    assert measure.mib(3 * 2 ** 20) == 3.0 and measure.mib(None) is None


# --- synthetic data ----------------------------------------------------------

def test_shd_like_spikes_have_shd_like_statistics():
    trains, labels = shd_like_spikes(12, seed=3)
    counts = np.array([len(times) for times, _ in trains])
    assert 2500 < counts.mean() < 5500
    assert labels.shape == (12,) and labels.min() >= 0 and labels.max() < 20
    for times, ids in trains:
        assert times.min() >= 0.0 and times.max() < 700.0
        assert ids.min() >= 0 and ids.max() < 700
        # At most one spike per channel and 1 ms step
        assert len(set(zip(times.tolist(), ids.tolist()))) == len(times)
    again, _ = shd_like_spikes(12, seed=3)
    np.testing.assert_array_equal(again[5][1], trains[5][1])


def test_yin_yang_trials_have_five_inputs_inside_the_trial():
    trains, labels = make_data(SHAPES["yin_yang"], 6, seed=1, trial_ms=30.0)
    for times, ids in trains:
        np.testing.assert_array_equal(ids, np.arange(5))
        assert times.min() > 0.0 and times.max() < 30.0
    assert set(labels) <= {0, 1, 2}
    assert SHAPES["yin_yang"].max_delay_steps() == 500
    assert SHAPES["shd"].max_delay_steps(trial_ms=20.0) == 10


# --- the command, end to end (GeNN) ------------------------------------------

@pytest.mark.genn
def test_tiny_benchmark_run_writes_report_and_json(tmp_path):
    # The command runs in its own processes: tests/conftest.py skips this
    # test (genn marker) when pygenn or ml_genn cannot be imported
    modes = ["weights", "delays-sparse", "spatial-3d-sparse"]
    command = [sys.executable, str(REPO / "benchmarks" / "run.py"),
               "--shapes", "yin_yang", "shd", "--hidden", "8", "16",
               "--modes", *modes, "--yin-yang-ms", "0.5", "--shd-ms", "20",
               "--warmup", "3", "--repeats", "2", "--block", "1",
               "--no-optimize", "--output", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "## Targets of the issue" in done.stdout
    assert "## Scaling with H" in done.stdout

    with open(tmp_path / "out" / "results.json") as f:
        data = json.load(f)
    assert {"command", "config", "environment", "results", "ratios", "fits",
            "targets"} <= set(data)
    assert len(data["results"]) == 2 * 2 * len(modes)
    for result in data["results"]:
        assert result["status"] == "ok", result["error"]
        assert result["mode"] in MODES
        assert result["time_per_trial_s"]["n"] == 2
        assert result["time_per_trial_s"]["median"] > 0
        assert result["cpu_time_per_trial_s"]["median"] > 0
        assert len(result["warmup_times_s"]) == 3
        assert len(result["blocks_s"]) == 2
        memory = result["memory"]
        assert set(memory["genn_bytes"]) == set(measure.MEMORY_CATEGORIES)
        assert memory["genn_total_bytes"] == sum(
            memory["genn_bytes"].values())
        assert memory["peak_rss"] > memory["baseline_rss"] > 0
        assert result["profile_per_trial_s"]["neuron_update_time"] >= 0
        params = result["parameters"]
        if result["mode"] == "weights":
            assert params["delays"] == params["positions"] == 0
            assert memory["genn_bytes"]["delay buffers"] == 0
        elif result["mode"] == "delays-sparse":
            assert params["delays"] > 0 and memory["genn_bytes"]["delays"] > 0
        else:
            assert params["positions"] > 0
            assert memory["genn_bytes"]["mirror/transpose"] > 0
        if result["sparse"]:
            assert memory["genn_bytes"]["connectivity"] > 0
    # Bytes follow the model: weights of the dense H=16 SHD network
    shd_weights = next(r for r in data["results"] if r["shape"] == "shd"
                       and r["hidden"] == 16 and r["mode"] == "weights")
    assert shd_weights["memory"]["genn_bytes"]["weights"] == 4 * (
        700 * 16 + 16 * 16 + 16 * 20)
    assert shd_weights["parameters"]["weights"] == 700 * 16 + 16 * 16 + 16 * 20
    fit = next(f for f in data["fits"] if f["shape"] == "shd"
               and f["mode"] == "delays-sparse")
    assert fit["hidden"] == [8, 16] and fit["time"]["exponent"] is not None
    # Sparse spatial against the sparse per-synapse delays, and against
    # dense weight-only EventProp since weights-sparse did not run
    assert {r["mode"] for r in data["ratios"]} == {"spatial-3d-sparse"}
    assert {(r["weights_baseline"], r["delays_baseline"])
            for r in data["ratios"]} == {("weights", "delays-sparse")}
    assert all(r["delay_memory_ratio"] > 0 for r in data["ratios"])
    assert {t["ratio"] for t in data["targets"]} == {
        "time_vs_weights", "time_vs_delays", "delay_memory_ratio"}


@pytest.mark.genn
@pytest.mark.parametrize("shape,mode", [("shd", "spatial-3d-sparse"),
                                        ("shd", "delays"),
                                        ("yin_yang", "spatial-2d")])
def test_memory_model_matches_genn_allocation_at_batch_1(tmp_path, shape,
                                                         mode):
    import ml_genn_spatial.compilers  # noqa: F401
    from benchmarks.workloads import build
    from benchmarks.worker import genn_array_records

    def records_at(hidden):
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            compiler, network, _ = build(
                SHAPES[shape], mode, hidden,
                20.0 if shape == "shd" else 0.5, 50, optimize_code=False)
            compiled = compiler.compile(network,
                                        name=f"model_{shape}_{hidden}")
            with compiled:
                return genn_array_records(compiled.genn_model)
        finally:
            os.chdir(cwd)

    records = records_at(12)
    check = measure.check_model(records)
    assert check["mismatches"] == []
    assert check["modelled"] == check["arrays"] > 20
    assert check["unmodelled_bytes"] == 0
    assert check["modelled_bytes"] == sum(r["bytes"] for r in records)
    # Another H, from the H = 12 arrays: exact for dense connections,
    # within 10 % for sparse rows (GeNN's row length is a quantile)
    larger = records_at(24)
    modelled = sum(r["bytes"] for r in
                   measure.model_records(records, 1, {"hidden": 24}))
    measured = sum(r["bytes"] for r in larger)
    if MODES[mode].sparse:
        assert modelled == pytest.approx(measured, rel=0.1)
    else:
        assert modelled == measured


# --- exit status and results files (no GeNN needed) --------------------------

def _run_command(tmp_path, *args, timeout=120):
    command = [sys.executable, str(REPO / "benchmarks" / "run.py"), *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(command, cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_failed_runs_make_the_command_fail_after_writing_results(tmp_path):
    # A 1 ms wait for each answer fails every run, with or without GeNN
    # (without it, the workers' import errors fail them first)
    done = _run_command(tmp_path, "--shapes", "yin_yang", "--hidden", "4",
                        "--modes", "weights", "spatial-2d", "--warmup", "1",
                        "--repeats", "1", "--block", "1", "--timeout",
                        "0.001", "--output", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "2 of 2 runs FAILED" in done.stderr
    assert "yin_yang H=4 batch 1 weights" in done.stderr
    assert "- FAILED yin_yang H=4 weights" in done.stdout
    from benchmarks.run import failed_runs, load_results
    data = load_results(tmp_path / "out" / "results.json")
    assert [r["mode"] for r in failed_runs(data)] == ["weights",
                                                      "spatial-2d"]
    assert all(r["status"] == "error" and r["error"]
               for r in data["results"])
    assert not (tmp_path / "out" / "results.json.tmp").exists()


def _results(tmp_path, **changes):
    data = {"command": "python3 benchmarks/run.py", "environment": {
                "summary": "test"},
            "config": {"warmup": 1, "repeats": 1, "block": 1},
            "wall_time_s": 1.0, "results": [], "ratios": [], "fits": [],
            "targets": []}
    data.update(changes)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def test_reading_results_names_a_missing_or_damaged_file(tmp_path):
    from benchmarks.run import ResultsFileError, load_results
    assert load_results(_results(tmp_path))["results"] == []

    missing = tmp_path / "nowhere" / "results.json"
    with pytest.raises(ResultsFileError, match="cannot read") as error:
        load_results(missing)
    assert str(missing) in str(error.value)

    damaged = _results(tmp_path)
    damaged.write_text(damaged.read_text()[:40])  # cut off mid-write
    with pytest.raises(ResultsFileError, match="damaged") as error:
        load_results(damaged)
    assert str(damaged) in str(error.value)

    for content in ("[]", '{"results": []}', '{"results": 1}'):
        damaged.write_text(content)
        with pytest.raises(ResultsFileError,
                           match="not a results file") as error:
            load_results(damaged)
        assert str(damaged) in str(error.value)


def test_report_of_a_saved_file_and_its_errors(tmp_path):
    good = _results(tmp_path)
    done = _run_command(tmp_path, "--report", str(good))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# ml_genn_spatial benchmarks")

    good.write_text("{\"command\": ")
    done = _run_command(tmp_path, "--report", str(good))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        done.stderr.strip().splitlines()[0]]
    assert done.stderr.startswith(f"run.py: error: {good}: damaged")

    done = _run_command(tmp_path, "--report", str(tmp_path / "none.json"))
    assert done.returncode == 2 and "none.json: cannot read" in done.stderr


@pytest.mark.parametrize("option, value", [
    ("--hidden", "0"), ("--hidden", "12.5"), ("--batch-sizes", "0"),
    ("--warmup", "-3"), ("--repeats", "0"), ("--block", "0"),
    ("--yin-yang-ms", "0"), ("--shd-ms", "nan"), ("--shd-spikes", "-5"),
    ("--sparse-p", "2"), ("--sparse-p", "nan"), ("--sparse-p", "0"),
    ("--seed", "-1"), ("--build-jobs", "0"), ("--timeout", "-1"),
    ("--timeout", "inf")])
def test_bad_benchmark_options_are_usage_errors(option, value, capsys):
    from benchmarks import run
    with pytest.raises(SystemExit) as stop:
        run.parse_args([option, value])
    assert stop.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert option in error and "Traceback" not in error
