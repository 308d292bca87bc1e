"""Tests of the Yin-Yang and SHD / SSC data sets (no GeNN, no network)."""
import math
import os
import warnings

import numpy as np
import pytest

from ml_genn_spatial.datasets import (
    HEIDELBERG_NUM_CHANNELS, YIN_YANG_T_EARLY, YIN_YANG_T_LATE,
    bin_channels, blend_examples, encode_latency, example_timesteps,
    latest_spike_time, load_shd, load_ssc, max_spikes_per_example,
    shift_channels, spike_trains_from_dense, truncate_spike_trains,
    yin_yang, yin_yang_class, yin_yang_splits)


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


def _write_heidelberg_file(h5py, filename, time_dtype=np.float32,
                           times=EXAMPLE_TIMES, units=EXAMPLE_UNITS,
                           labels=EXAMPLE_LABELS, leave_out=()):
    """A file in the published layout: the ragged spikes/times [s] and
    spikes/units, labels, and extra/keys and extra/speaker, which tonic's
    SHD / SSC read too; entries named in ``leave_out`` are not written."""
    with h5py.File(filename, "w") as file:
        if "spikes/times" not in leave_out:
            dataset = file.create_dataset(
                "spikes/times", (len(times),),
                dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
            for i, t in enumerate(times):
                dataset[i] = np.asarray(t, dtype=time_dtype)
        if "spikes/units" not in leave_out:
            dataset = file.create_dataset(
                "spikes/units", (len(units),),
                dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
            for i, u in enumerate(units):
                dataset[i] = np.asarray(u, dtype=np.uint16)
        if "labels" not in leave_out:
            file.create_dataset("labels",
                                data=np.asarray(labels, dtype=np.uint16))
        if "extra/keys" not in leave_out:
            file.create_dataset("extra/keys",
                                data=[f"class-{c}".encode()
                                      for c in range(20)])
        if "extra/speaker" not in leave_out:
            file.create_dataset("extra/speaker",
                                data=np.zeros(len(labels), dtype=np.uint16))


@pytest.fixture
def h5py():
    return pytest.importorskip("h5py")


@pytest.fixture
def tonic():
    return pytest.importorskip("tonic")


@pytest.mark.parametrize("time_dtype", [np.float16, np.float32])
def test_load_shd_converts_to_ms_and_drops_bad_spikes(h5py, tonic, tmp_path,
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


def test_load_shd_matches_tonic_on_its_own_download_layout(h5py, tonic,
                                                           tmp_path,
                                                           monkeypatch):
    # tonic's own layout: <save_to>/SHD/shd_test.h5 next to the .zip it
    # downloaded, without which tonic.datasets.SHD would download
    times = [[0.001, 0.0123456, 0.5], [0.25], [0.0, 0.7]]
    units = [[3, 699, 0], [42], [5, 6]]
    labels = [0, 7, 19]
    (tmp_path / "SHD").mkdir()
    _write_heidelberg_file(h5py, tmp_path / "SHD" / "shd_test.h5",
                           np.float32, times, units, labels)
    (tmp_path / "SHD" / "shd_test.h5.zip").write_bytes(b"")

    def no_download(self):
        raise AssertionError("tried to download")
    monkeypatch.setattr(tonic.dataset.Dataset, "download", no_download)
    reference = tonic.datasets.SHD(save_to=str(tmp_path), train=False)
    trains, loaded_labels = load_shd(tmp_path, split="test")

    assert len(trains) == len(reference) == 3
    for (spike_times, ids), (events, label), t, u, c in zip(
            trains, reference, times, units, labels):
        # tonic itself keeps whole microseconds; the loader keeps the
        # stored float32 seconds
        np.testing.assert_allclose(spike_times, events["t"] / 1000.0,
                                   atol=1e-3)
        np.testing.assert_allclose(
            spike_times, np.asarray(t, np.float32).astype(float) * 1000.0)
        np.testing.assert_array_equal(ids, events["x"])
        np.testing.assert_array_equal(ids, u)
        assert label == c
    np.testing.assert_array_equal(loaded_labels, labels)

    # Without the .zip and with only .h5 files in a plain folder the
    # loader still reads locally and never downloads
    os.remove(tmp_path / "SHD" / "shd_test.h5.zip")
    os.replace(tmp_path / "SHD" / "shd_test.h5", tmp_path / "shd_test.h5")
    again, _ = load_shd(tmp_path, split="test")
    np.testing.assert_array_equal(again[0][1], [3, 699, 0])


def test_load_ssc_valid_split(h5py, tonic, tmp_path):
    _write_heidelberg_file(h5py, tmp_path / "ssc_valid.h5")
    trains, labels = load_ssc(str(tmp_path), split="valid")
    np.testing.assert_array_equal(labels, EXAMPLE_LABELS)
    np.testing.assert_array_equal(trains[0][1], [0, 5, 699])
    with pytest.raises(ValueError, match="valid"):
        load_shd(tmp_path, split="valid")

    # tonic's SSC/ subfolder
    (tmp_path / "SSC").mkdir()
    _write_heidelberg_file(h5py, tmp_path / "SSC" / "ssc_test.h5",
                           labels=[34, 0, 1])
    _, test_labels = load_ssc(tmp_path, split="test")
    np.testing.assert_array_equal(test_labels, [34, 0, 1])


def test_missing_file_says_where_to_download(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_shd(tmp_path, split="test")
    message = str(info.value)
    assert "shd_test.h5" in message and str(tmp_path) in message
    assert "zenkelab.org" in message and "compneuro.net" in message
    # ... and how to lay the files out
    assert os.path.join(str(tmp_path), "SHD", "shd_test.h5") in message
    assert "SHD/ subfolder" in message

    with pytest.raises(FileNotFoundError, match="zenkelab.org"):
        load_ssc(tmp_path / "nowhere" / "ssc_train.h5")

    (tmp_path / "ssc_test.h5.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="decompress"):
        load_ssc(tmp_path, split="test")
    (tmp_path / "SHD").mkdir()
    (tmp_path / "SHD" / "shd_train.h5.zip").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="unzip"):
        load_shd(tmp_path)


def test_missing_h5py_is_a_clear_import_error(tmp_path, monkeypatch):
    (tmp_path / "shd_train.h5").write_bytes(b"")
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(ImportError, match="pip install h5py"):
        load_shd(tmp_path)


def test_missing_tonic_is_a_clear_import_error(h5py, tmp_path, monkeypatch):
    _write_heidelberg_file(h5py, tmp_path / "shd_train.h5")
    modules = __import__("sys").modules
    monkeypatch.setitem(modules, "tonic", None)
    monkeypatch.setitem(modules, "tonic.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'tonic>=1.7'"):
        load_shd(tmp_path)


def _truncated(h5py, path):
    _write_heidelberg_file(h5py, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


@pytest.mark.parametrize("damage", ["empty", "not HDF5", "truncated"])
def test_unreadable_file_is_named(h5py, tonic, tmp_path, damage):
    path = tmp_path / "shd_train.h5"
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "not HDF5":
        path.write_text("<html>404 Not Found</html>\n" * 100)
    else:
        _truncated(h5py, path)
    with pytest.raises(ValueError) as info:
        load_shd(tmp_path)
    message = str(info.value)
    assert str(path) in message and "not a readable HDF5 file" in message
    assert "Download it again" in message


@pytest.mark.parametrize("entry", ["spikes/times", "spikes/units", "labels",
                                   "extra/keys", "extra/speaker"])
def test_file_without_an_entry_is_named(h5py, tonic, tmp_path, entry):
    path = tmp_path / "ssc_train.h5"
    _write_heidelberg_file(h5py, path, leave_out=(entry,))
    with pytest.raises(ValueError) as info:
        load_ssc(path)
    message = str(info.value)
    assert str(path) in message and f"lacks {entry}" in message
    assert "Download it again" in message


def test_inconsistent_file_contents_are_named(h5py, tonic, tmp_path):
    path = tmp_path / "shd_train.h5"
    _write_heidelberg_file(h5py, path, labels=[1, 2])
    with pytest.raises(ValueError, match="3 spike time arrays, 3 unit "
                                         "arrays and 2 labels"):
        load_shd(path)

    # One unit id for three times: tonic would broadcast it onto all three
    _write_heidelberg_file(h5py, path, times=[[0.1, 0.2, 0.3]], units=[[4]],
                           labels=[1])
    with pytest.raises(ValueError) as info:
        load_shd(path)
    assert str(path) in str(info.value)
    assert "example 0 has 3 spike times but 1 unit ids" in str(info.value)

    _write_heidelberg_file(h5py, path, times=[[0.1], [0.2, 0.3]],
                           units=[[1], [4, 5, 6]], labels=[1, 2])
    with pytest.raises(ValueError, match="example 1 cannot be read"):
        load_shd(path)

    # An SSC file (labels up to 34) passed as SHD
    _write_heidelberg_file(h5py, path, labels=[3, 34, 0])
    with pytest.raises(ValueError, match=r"labels outside 0 to 19 \(e.g. 34"
                                         r"\): it is not an SHD file"):
        load_shd(path)


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


def test_bin_channels_is_exact_integer_division():
    # tonic's Downsample(spatial_factor=1 / 49) puts channel 49 into bin 0
    ids = np.arange(HEIDELBERG_NUM_CHANNELS)
    for factor in (7, 49, 98, 103):
        binned = bin_channels([(np.zeros(len(ids)), ids)], factor)[0][1]
        np.testing.assert_array_equal(binned, [i // factor for i in
                                               range(len(ids))])


# ---------------------------------------------------------------------------
# Augmentation (SHD recipe of arXiv 2501.07331)
# ---------------------------------------------------------------------------
def _every_channel_once(num_examples):
    """Examples with one spike per channel, at time [ms] = channel + 0.5,
    so a spike's time says which channel it came from."""
    ids = np.arange(HEIDELBERG_NUM_CHANNELS)
    return [(ids + 0.5, ids.copy()) for _ in range(num_examples)]


def test_shift_channels_moves_whole_examples_within_bounds():
    trains = _every_channel_once(400)
    shifted = shift_channels(trains, 3, rng=np.random.default_rng(1))
    shifts = []
    for times, ids in shifted:
        original = (times - 0.5).astype(np.int64)
        offsets = np.unique(ids - original)
        assert len(offsets) == 1            # one shift per example
        shift = int(offsets[0])
        shifts.append(shift)
        assert abs(shift) <= 3
        # Only the spikes moved off the 700 channels are gone
        assert np.all((ids >= 0) & (ids < HEIDELBERG_NUM_CHANNELS))
        assert len(ids) == HEIDELBERG_NUM_CHANNELS - abs(shift)
        assert ids.dtype == np.int64 and times.dtype == np.float64
    # Both ends are included, each of the 7 shifts is drawn about 1/7 of
    # the time (+- 0.07 is > 4 sigma for 400 draws)
    fractions = np.bincount(np.add(shifts, 3), minlength=7) / len(shifts)
    assert len(fractions) == 7
    np.testing.assert_allclose(fractions, 1.0 / 7.0, atol=0.07)
    # The input is left alone
    np.testing.assert_array_equal(trains[0][1],
                                  np.arange(HEIDELBERG_NUM_CHANNELS))


def test_shift_channels_recipe_range_and_channel_count():
    trains = _every_channel_once(300)
    shifted = shift_channels(trains, 40, rng=7, num_channels=700)
    shifts = [int(ids[0] - (times[0] - 0.5)) for times, ids in shifted]
    assert min(shifts) >= -40 and max(shifts) <= 40
    assert min(shifts) < -30 and max(shifts) > 30
    small = shift_channels([(np.array([1.0, 2.0]), np.array([0, 9]))], 5,
                           rng=3, num_channels=10)[0][1]
    assert np.all((small >= 0) & (small < 10))


def test_shift_channels_reproducible_with_a_seed():
    trains = _every_channel_once(20)
    a = shift_channels(trains, 40, rng=11)
    b = shift_channels(trains, 40, rng=np.random.default_rng(11))
    c = shift_channels(trains, 40, rng=12)
    for (ta, ia), (tb, ib) in zip(a, b):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ia, ib)
    assert any(len(ia) != len(ic) or np.any(ia != ic)
               for (_, ia), (_, ic) in zip(a, c))
    unshifted = shift_channels(trains, 0, rng=1)
    np.testing.assert_array_equal(unshifted[3][1], trains[3][1])


@pytest.mark.parametrize("kwargs, match", [
    ({"max_shift": -1}, "non-negative integer"),
    ({"max_shift": 1.5}, "non-negative integer"),
    ({"rng": None}, "Generator or an integer seed")])
def test_shift_channels_refuses_bad_arguments(kwargs, match):
    arguments = {"max_shift": 40, "rng": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        shift_channels(_every_channel_once(1), **arguments)


# Two examples of one class whose centres of mass are channel 100 / time
# 15 ms and channel 301 / time 35 ms: blending moves them by +-100
# channels (half of 201, rounded towards zero) and +-10 ms
PAIR = [(np.array([10.0, 20.0]), np.array([100, 100])),
        (np.array([30.0, 40.0]), np.array([301, 301]))]
PAIR_ALIGNED = [(np.array([20.0, 30.0]), np.array([200, 200])),
                (np.array([20.0, 30.0]), np.array([201, 201]))]


@pytest.mark.parametrize("weight, kept", [(1.0, "first"), (0.0, "partner")])
def test_blend_examples_aligns_centres_of_mass(weight, kept):
    new_trains, new_labels = blend_examples(PAIR, [4, 4], 50, rng=2,
                                            weight=weight)
    assert len(new_trains) == 50
    np.testing.assert_array_equal(new_labels, 4)
    assert new_labels.dtype == np.int64
    seen = set()
    for times, ids in new_trains:
        # weight 1 keeps exactly the first example, weight 0 exactly the
        # partner, each moved onto the common centre; an example drawn as
        # its own partner stays where it is
        matches = [k for k, (t, i) in enumerate(PAIR_ALIGNED + PAIR)
                   if np.array_equal(times, t) and np.array_equal(ids, i)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {0, 1, 2, 3}


def test_blend_examples_keeps_spikes_with_the_weights():
    # Same centre of mass (channel 200, 50 ms), so no alignment shift:
    # A's spikes are on channels 100 / 300, B's on 150 / 250
    n = 4000
    a = (np.tile([40.0, 60.0], n // 2), np.tile([100, 300], n // 2))
    b = (np.tile([45.0, 55.0], n // 2), np.tile([150, 250], n // 2))
    for weight in (0.25, 0.5):
        new_trains, _ = blend_examples([a, b], [1, 1], 40, rng=5,
                                       weight=weight)
        mixed = 0
        for times, ids in new_trains:
            assert np.all(np.diff(times) >= 0.0)     # in time order
            from_a = np.count_nonzero(np.isin(ids, [100, 300]))
            from_b = np.count_nonzero(np.isin(ids, [150, 250]))
            assert from_a + from_b == len(ids)
            if from_a and from_b:
                # first A, partner B or the other way round; sigma of the
                # binomial counts is below 32, tolerance 150
                mixed += 1
                expected = sorted([weight * n, (1.0 - weight) * n])
                np.testing.assert_allclose(sorted([from_a, from_b]),
                                           expected, atol=150)
            else:
                # an example blended with itself keeps about all its spikes
                # (each draw on its own copy, so some twice)
                assert abs(from_a + from_b - n) < 250
        assert mixed > 10


def test_blend_examples_blends_within_a_class_and_drops_outside():
    # Class 0 lives in 0-10 ms, class 1 in 100-110 ms, class 2 is empty
    rng = np.random.default_rng(0)
    trains, labels = [], []
    for label, start in ((0, 0.0), (1, 100.0)):
        for _ in range(5):
            times = np.sort(rng.uniform(start, start + 10.0, 50))
            trains.append((times, rng.integers(0, 700, 50)))
            labels.append(label)
    trains.append((np.array([]), np.array([], dtype=np.int64)))
    labels.append(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no mean of an empty example
        new_trains, new_labels = blend_examples(trains, labels, 200, rng=9)
    assert set(new_labels) == {0, 1, 2}
    for (times, ids), label in zip(new_trains, new_labels):
        if label == 2:
            assert len(times) == 0
            continue
        start = 0.0 if label == 0 else 100.0
        assert np.all((times >= start - 5.0) & (times < start + 15.0))
        assert np.all((ids >= 0) & (ids < HEIDELBERG_NUM_CHANNELS))

    # Spikes moved below channel 0, below 0 ms or to max_time are dropped
    # (an example drawn as its own partner stays as it is). Channels: A
    # (channels 0 and 200 at 40 and 60 ms) moves by -50 channels, B
    # (channel 0 at 50 ms) by +50
    pair = [(np.array([40.0, 60.0]), np.array([0, 200])),
            (np.array([50.0]), np.array([0]))]
    new_trains, _ = blend_examples(pair, [0, 0], 40, rng=1, weight=1.0)
    outcomes = {(tuple(t), tuple(i)) for t, i in new_trains}
    assert outcomes == {((60.0,), (150,)), ((50.0,), (50,)),
                        ((40.0, 60.0), (0, 200)), ((50.0,), (0,))}
    # Times: A (channels 100 and 200 at 10 and 90 ms) moves by -75
    # channels and -25 ms, B (channel 0 at 0 ms) by +75 and +25 ms
    pair = [(np.array([10.0, 90.0]), np.array([100, 200])),
            (np.array([0.0]), np.array([0]))]
    new_trains, _ = blend_examples(pair, [0, 0], 40, rng=1, weight=1.0)
    outcomes = {(tuple(t), tuple(i)) for t, i in new_trains}
    assert outcomes == {((65.0,), (125,)), ((25.0,), (75,)),
                        ((10.0, 90.0), (100, 200)), ((0.0,), (0,))}
    new_trains, _ = blend_examples(pair, [0, 0], 40, rng=1, weight=1.0,
                                   max_time=25.0)
    outcomes = {(tuple(t), tuple(i)) for t, i in new_trains}
    assert outcomes == {((), ()), ((10.0,), (100,)), ((0.0,), (0,))}


def test_blend_examples_reproducible_with_a_seed():
    trains = _every_channel_once(6)
    labels = [0, 0, 0, 1, 1, 1]
    a_trains, a_labels = blend_examples(trains, labels, 10, rng=21)
    b_trains, b_labels = blend_examples(trains, labels, 10,
                                        rng=np.random.default_rng(21))
    c_trains, _ = blend_examples(trains, labels, 10, rng=22)
    np.testing.assert_array_equal(a_labels, b_labels)
    for (ta, ia), (tb, ib) in zip(a_trains, b_trains):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ia, ib)
    assert any(not np.array_equal(ia, ic)
               for (_, ia), (_, ic) in zip(a_trains, c_trains))
    assert blend_examples(trains, labels, 0, rng=1)[0] == []


@pytest.mark.parametrize("kwargs, match", [
    ({"labels": [0]}, "must match"),
    ({"num_blended": -1}, "non-negative integer"),
    ({"num_blended": 2.5}, "non-negative integer"),
    ({"weight": 1.5}, r"\[0, 1\]"),
    ({"max_time": 0.0}, "max_time"),
    ({"rng": "seed"}, "Generator or an integer seed")])
def test_blend_examples_refuses_bad_arguments(kwargs, match):
    arguments = {"labels": [0, 0], "num_blended": 3, "rng": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        blend_examples(PAIR, **arguments)
