"""Tests of the Yin-Yang and SHD / SSC data sets (no GeNN, no network)."""
import math
import os

import numpy as np
import pytest

from ml_genn_spatial.datasets import (
    HEIDELBERG_NUM_CHANNELS, YIN_YANG_T_EARLY, YIN_YANG_T_LATE,
    bin_channels, encode_latency, example_timesteps, latest_spike_time,
    load_shd, load_ssc, max_spikes_per_example, spike_trains_from_dense,
    truncate_spike_trains, yin_yang, yin_yang_class, yin_yang_splits)


# ---------------------------------------------------------------------------
# Yin-Yang
# ---------------------------------------------------------------------------
def _class_by_hand(x, y, r_small=0.1, r_big=0.5):
    """Kriener et al.'s rule written out point by point with math.hypot."""
    d_left = math.hypot(x - r_big / 2, y - r_big)
    d_right = math.hypot(x - 3 * r_big / 2, y - r_big)
    if d_left < r_small or d_right < r_small:
        return 2
    if d_right <= r_small:
        return 1
    if r_small < d_left <= r_big / 2:
        return 1
    if y > r_big and d_right > r_big / 2:
        return 1
    return 0


# (x, y, label) worked out on paper for r_small = 0.1, r_big = 0.5: dots
# centred on (0.25, 0.5) and (0.75, 0.5)
HAND_PICKED = [
    (0.25, 0.5, 2), (0.75, 0.5, 2), (0.25, 0.55, 2), (0.75, 0.59, 2),
    (0.25, 0.7, 1), (0.25, 0.3, 1), (0.05, 0.45, 1), (0.5, 0.9, 1),
    (0.5, 0.5, 1),  # d_left = 0.25 exactly: the ring's closed outer edge
    (0.5, 0.1, 0), (0.75, 0.7, 0), (0.75, 0.3, 0), (0.95, 0.55, 0),
    (0.95, 0.45, 0)]


@pytest.mark.parametrize("x, y, label", HAND_PICKED)
def test_yin_yang_class_hand_picked(x, y, label):
    assert _class_by_hand(x, y) == label
    assert yin_yang_class(x, y) == label


def test_yin_yang_class_matches_independent_rule_on_grid():
    x, y = np.meshgrid(np.linspace(0.0, 1.0, 81), np.linspace(0.0, 1.0, 81))
    expected = [_class_by_hand(a, b) for a, b in zip(x.ravel(), y.ravel())]
    np.testing.assert_array_equal(yin_yang_class(x, y).ravel(), expected)


def test_yin_yang_features_and_labels():
    features, labels = yin_yang(3000, seed=1)
    assert features.shape == (3000, 4) and labels.shape == (3000,)
    assert features.dtype == np.float64 and labels.dtype.kind == "i"
    assert np.all((features >= 0.0) & (features <= 1.0))
    np.testing.assert_allclose(features[:, 2:], 1.0 - features[:, :2])

    # Every point lies in the big circle and has its geometric class
    x, y = features[:, 0], features[:, 1]
    assert np.all(np.hypot(x - 0.5, y - 0.5) <= 0.5)
    np.testing.assert_array_equal(
        labels, [_class_by_hand(a, b) for a, b in zip(x, y)])

    # Each class is drawn with probability 1/3: 1/3 +- 0.04 is > 4 sigma
    fractions = np.bincount(labels, minlength=3) / len(labels)
    np.testing.assert_allclose(fractions, 1.0 / 3.0, atol=0.04)


def test_yin_yang_follows_reference_draw_sequence():
    # The reference (and mlGeNN) draw randint(3), then rand(2) until the
    # point is in the circle and of the goal class: redo it on NumPy's
    # global generator, which shares RandomState's stream for a seed
    np.random.seed(5)
    expected = []
    for _ in range(40):
        goal = np.random.randint(3)
        while True:
            x, y = np.random.random_sample(2)
            if math.hypot(x - 0.5, y - 0.5) <= 0.5 and \
                    _class_by_hand(x, y) == goal:
                expected.append((x, y, goal))
                break
    features, labels = yin_yang(40, seed=5)
    np.testing.assert_array_equal(features[:, :2],
                                  [e[:2] for e in expected])
    np.testing.assert_array_equal(labels, [e[2] for e in expected])


def test_yin_yang_reproducible_and_seed_dependent():
    a_features, a_labels = yin_yang(200, seed=42)
    b_features, b_labels = yin_yang(200, seed=42)
    c_features, _ = yin_yang(200, seed=43)
    np.testing.assert_array_equal(a_features, b_features)
    np.testing.assert_array_equal(a_labels, b_labels)
    assert not np.allclose(a_features, c_features)


def test_yin_yang_splits():
    splits = yin_yang_splits(train_size=300, validation_size=100,
                             test_size=50)
    assert {k: len(v[0]) for k, v in splits.items()} == {
        "train": 300, "validation": 100, "test": 50}
    # Default seeds are the reference's 42 / 41 / 40
    np.testing.assert_array_equal(splits["validation"][0],
                                  yin_yang(100, 41)[0])
    np.testing.assert_array_equal(splits["test"][1], yin_yang(50, 40)[1])
    assert not np.allclose(splits["train"][0][:50], splits["test"][0])
    with pytest.raises(ValueError, match="repeat"):
        yin_yang_splits(10, 10, 10, seeds=(1, 1, 2))


def test_encode_latency_range_monotone_and_endpoints():
    features, _ = yin_yang(500, seed=3)
    times = encode_latency(features)
    assert times.shape == (500, 4)
    assert YIN_YANG_T_EARLY == pytest.approx(0.02)
    assert YIN_YANG_T_LATE == pytest.approx(29.98)
    assert np.all((times >= YIN_YANG_T_EARLY) & (times <= YIN_YANG_T_LATE))
    for k in range(4):
        order = np.argsort(features[:, k])
        assert np.all(np.diff(times[order, k]) >= 0.0)

    ends = encode_latency(np.array([[0.0, 1.0, 0.25]]), t_early=2.0,
                          t_late=10.0)
    np.testing.assert_allclose(ends, [[2.0, 10.0, 4.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        encode_latency(np.array([[1.5, 0.0]]))


def test_encode_latency_bias_neuron():
    features, _ = yin_yang(20, seed=4)
    times = encode_latency(features, t_early=1.0, t_late=20.0, bias_time=0.5)
    assert times.shape == (20, 5)
    np.testing.assert_array_equal(times[:, 0], 0.5)
    np.testing.assert_allclose(times[:, 1:],
                               encode_latency(features, 1.0, 20.0))

    trains = spike_trains_from_dense(times)
    assert len(trains) == 20
    for (spike_times, ids), row in zip(trains, times):
        np.testing.assert_array_equal(ids, np.arange(5))
        np.testing.assert_array_equal(spike_times, row)
        assert 0 in ids and spike_times[ids == 0][0] == 0.5


def test_spike_trains_from_dense_drops_non_finite():
    trains = spike_trains_from_dense([[1.0, np.nan, 3.0], [np.inf, 2.0, 0.0]])
    np.testing.assert_array_equal(trains[0][0], [1.0, 3.0])
    np.testing.assert_array_equal(trains[0][1], [0, 2])
    np.testing.assert_array_equal(trains[1][1], [1, 2])


# ---------------------------------------------------------------------------
# SHD / SSC
# ---------------------------------------------------------------------------
# Spike times [s] and units of three examples as the published files store
# them; example 0 has a NaN time, an inf time and an out-of-range unit
EXAMPLE_TIMES = [[0.001, 0.0105, np.nan, 0.2, np.inf, 0.3],
                 [0.05, 0.6125],
                 []]
EXAMPLE_UNITS = [[0, 5, 7, 699, 3, 700], [11, 12], []]
EXAMPLE_LABELS = [3, 19, 0]


def _write_heidelberg_file(h5py, filename, time_dtype=np.float32):
    with h5py.File(filename, "w") as file:
        times = file.create_dataset(
            "spikes/times", (len(EXAMPLE_TIMES),),
            dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
        units = file.create_dataset(
            "spikes/units", (len(EXAMPLE_UNITS),),
            dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i, (t, u) in enumerate(zip(EXAMPLE_TIMES, EXAMPLE_UNITS)):
            times[i] = np.asarray(t, dtype=time_dtype)
            units[i] = np.asarray(u, dtype=np.uint16)
        file.create_dataset("labels",
                            data=np.asarray(EXAMPLE_LABELS, dtype=np.uint16))


@pytest.fixture
def h5py():
    return pytest.importorskip("h5py")


@pytest.mark.parametrize("time_dtype", [np.float16, np.float32])
def test_load_shd_converts_to_ms_and_drops_bad_spikes(h5py, tmp_path,
                                                      time_dtype):
    _write_heidelberg_file(h5py, tmp_path / "shd_train.h5", time_dtype)
    trains, labels = load_shd(tmp_path, split="train")

    np.testing.assert_array_equal(labels, EXAMPLE_LABELS)
    assert labels.dtype == np.int64 and len(trains) == 3

    # Expected times: the stored (possibly rounded) seconds times 1000
    stored = [np.asarray(t, dtype=time_dtype).astype(float) * 1000.0
              for t in EXAMPLE_TIMES]
    times, ids = trains[0]
    np.testing.assert_allclose(times, stored[0][[0, 1, 3]])
    np.testing.assert_allclose(times, [1.0, 10.5, 200.0], rtol=1e-3)
    np.testing.assert_array_equal(ids, [0, 5, 699])
    assert times.dtype == np.float64 and ids.dtype == np.int64
    np.testing.assert_allclose(trains[1][0], stored[1])
    np.testing.assert_array_equal(trains[1][1], [11, 12])
    assert len(trains[2][0]) == 0 and len(trains[2][1]) == 0

    # The file's own path and tonic's SHD/ subfolder work too
    by_file, _ = load_shd(tmp_path / "shd_train.h5")
    np.testing.assert_array_equal(by_file[0][0], times)
    (tmp_path / "tonic" / "SHD").mkdir(parents=True)
    os.replace(tmp_path / "shd_train.h5",
               tmp_path / "tonic" / "SHD" / "shd_train.h5")
    by_tonic_layout, _ = load_shd(tmp_path / "tonic")
    np.testing.assert_array_equal(by_tonic_layout[1][1], [11, 12])


def test_load_ssc_valid_split(h5py, tmp_path):
    _write_heidelberg_file(h5py, tmp_path / "ssc_valid.h5")
    trains, labels = load_ssc(str(tmp_path), split="valid")
    np.testing.assert_array_equal(labels, EXAMPLE_LABELS)
    np.testing.assert_array_equal(trains[0][1], [0, 5, 699])
    with pytest.raises(ValueError, match="valid"):
        load_shd(tmp_path, split="valid")


def test_missing_file_says_where_to_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_shd(tmp_path, split="test")
    message = str(info.value)
    assert "shd_test.h5" in message and str(tmp_path) in message
    assert "zenkelab.org" in message and "compneuro.net" in message

    with pytest.raises(FileNotFoundError, match="zenkelab.org"):
        load_ssc(tmp_path / "nowhere" / "ssc_train.h5")

    (tmp_path / "ssc_test.h5.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="decompress"):
        load_ssc(tmp_path, split="test")


def test_missing_h5py_is_a_clear_import_error(tmp_path, monkeypatch):
    (tmp_path / "shd_train.h5").write_bytes(b"")
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(ImportError, match="pip install h5py"):
        load_shd(tmp_path)


def test_spike_train_helpers():
    trains = [(np.array([1.0, 10.5, 200.0]), np.array([0, 5, 699])),
              (np.array([50.0, 612.5]), np.array([11, 12])),
              (np.array([]), np.array([], dtype=np.int64))]

    binned = bin_channels(trains, 10)
    np.testing.assert_array_equal(binned[0][1], [0, 0, 69])
    np.testing.assert_array_equal(binned[1][1], [1, 1])
    np.testing.assert_array_equal(binned[0][0], trains[0][0])
    all_channels = [(np.zeros(HEIDELBERG_NUM_CHANNELS),
                     np.arange(HEIDELBERG_NUM_CHANNELS))]
    np.testing.assert_array_equal(
        np.unique(bin_channels(all_channels, 7)[0][1]), np.arange(100))
    with pytest.raises(ValueError, match="positive integer"):
        bin_channels(trains, 0)

    truncated = truncate_spike_trains(trains, 200.0)
    np.testing.assert_array_equal(truncated[0][0], [1.0, 10.5])
    np.testing.assert_array_equal(truncated[0][1], [0, 5])
    np.testing.assert_array_equal(truncated[1][1], [11])

    assert latest_spike_time(trains) == 612.5
    assert latest_spike_time([trains[2]]) == 0.0
    assert max_spikes_per_example(trains) == 3
    # A spike at 612.5 ms is emitted in step ceil(612.5 / dt)
    assert example_timesteps(trains, 1.0) == 614
    assert example_timesteps(trains, 0.5) == 1226
