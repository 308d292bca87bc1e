"""Loaders for the Spiking Heidelberg Digits (SHD) and Spiking Speech
Commands (SSC) data sets, helpers for their spike trains and the
augmentations of the mlGeNN SHD recipe.

Cramer et al., "The Heidelberg spiking data sets for the systematic
evaluation of spiking neural networks" (arXiv 1910.07407). Each published
HDF5 file holds ``spikes/times`` (ragged per-example arrays of spike
times [s]), ``spikes/units`` (ragged arrays of the matching input channel
ids, 0 to 699), ``labels`` (one class per example) and ``extra/keys`` /
``extra/speaker`` (class names, speaker of each example).

The files are read through tonic's ``SHD`` / ``SSC`` data sets (tonic >=
1.7, the first release that supports NumPy 2), as in mlGeNN's SHD
examples. The loaders return plain NumPy structures: a list with one
``(times [ms] float64 array, ids int64 array)`` pair per example and an
int64 label array. On the GeNN side mlGeNN consumes each pair through
``ml_genn.utils.data.preprocess_spikes(times, ids, num_inputs)``; this
module never imports mlGeNN.

:func:`shift_channels` and :func:`blend_examples` are the augmentations of
the SHD recipe of mlGeNN's delay-learning paper (Mészáros et al., arXiv
2501.07331): a random shift by up to +-40 channels and the blending of two
examples of one class with weight 0.5.
"""
import os
from typing import List, Sequence, Tuple, Union

import numpy as np

SpikeTrain = Tuple[np.ndarray, np.ndarray]
RandomSource = Union[int, np.random.Generator]

#: Number of input channels (cochlea model fibres) of SHD and SSC
HEIDELBERG_NUM_CHANNELS = 700

#: Number of classes: SHD has 20 spoken digits (0-9 in English and
#: German), SSC the 35 words of Speech Commands v0.2
SHD_NUM_CLASSES = 20
SSC_NUM_CLASSES = 35

SHD_SPLITS = ("train", "test")
SSC_SPLITS = ("train", "valid", "test")

# Entries of a published file that tonic reads: the spikes and labels per
# example, and extra/keys and extra/speaker, which its constructor loads
_REQUIRED_ENTRIES = ("spikes/times", "spikes/units", "labels", "extra/keys",
                     "extra/speaker")

_DOWNLOAD_HINT = (
    "Download it from the Zenke lab's page "
    "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/ "
    "(files at https://zenkelab.org/datasets/, or the original download "
    "area https://compneuro.net/datasets/), decompress it "
    "(gunzip {name}.gz or unzip {name}.zip) and put {name} into {folder} "
    "or its {subfolder}/ subfolder (tonic's layout: "
    "tonic.datasets.{subfolder}(save_to=FOLDER) downloads into "
    "FOLDER/{subfolder}/), or pass the file's own path")

_DAMAGED_HINT = ("Download it again (see "
                 "https://zenkelab.org/resources/spiking-heidelberg-datasets-"
                 "shd/) and decompress it completely")


def _import_h5py():
    try:
        import h5py
    except ImportError as error:
        raise ImportError("Loading SHD / SSC needs h5py: pip install h5py "
                          "(or pip install ml_genn_spatial[examples])"
                          ) from error
    return h5py


def _import_tonic_datasets():
    try:
        from tonic import datasets
    except ImportError as error:
        raise ImportError("Loading SHD / SSC needs tonic >= 1.7: pip install "
                          "'tonic>=1.7' (or pip install "
                          "ml_genn_spatial[examples])") from error
    return datasets


def _dataset_file(path: str, prefix: str, split: str,
                  splits: Sequence[str]) -> str:
    """Path of the published HDF5 file of one split, or a clear error."""
    if split not in splits:
        raise ValueError(f"{prefix.upper()} has splits {splits}, not "
                         f"'{split}'")
    name = f"{prefix}_{split}.h5"
    subfolder = prefix.upper()
    path = os.fspath(path)
    if not os.path.isdir(path):
        if os.path.isfile(path):
            return path
        raise FileNotFoundError(
            f"{path} does not exist. "
            + _DOWNLOAD_HINT.format(name=name, subfolder=subfolder,
                                    folder="a folder of your choice"))

    # The user's own folder of .h5 files, or tonic's layout (an SHD / SSC
    # subfolder, where tonic.datasets.SHD / SSC download to)
    candidates = [os.path.join(path, name),
                  os.path.join(path, subfolder, name)]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate

    compressed = [c + ext for c in candidates for ext in (".gz", ".zip")
                  if os.path.isfile(c + ext)]
    if compressed:
        raise FileNotFoundError(
            f"{compressed[0]} is compressed: decompress it (gunzip / unzip) "
            f"so that {compressed[0][:compressed[0].rfind('.')]} exists")
    raise FileNotFoundError(
        f"{name} is not in {path} (looked for {' and '.join(candidates)}). "
        + _DOWNLOAD_HINT.format(name=name, subfolder=subfolder, folder=path))


def _unit_counts(filename: str) -> np.ndarray:
    """Check that ``filename`` is a complete SHD / SSC file and return the
    number of unit ids of each example.

    tonic cannot do this: it opens the file without naming it in errors
    (a damaged file gives h5py's bare "file signature not found"), reads
    ``extra/keys`` unguarded, and builds each example's events in the
    shape of its times, broadcasting the unit ids into it, so an example
    with one unit id silently gives every spike that channel. h5py, which
    tonic reads the files with too, checks these here.
    """
    h5py = _import_h5py()
    try:
        file = h5py.File(filename, "r")
    except OSError as error:
        raise ValueError(f"{filename} is not a readable HDF5 file ({error}): "
                         f"it is damaged, truncated or not HDF5. "
                         + _DAMAGED_HINT) from error
    with file:
        missing = [e for e in _REQUIRED_ENTRIES if e not in file]
        if missing:
            raise ValueError(f"{filename} is not a complete SHD / SSC file: "
                             f"it lacks {', '.join(missing)} (the published "
                             f"files hold {', '.join(_REQUIRED_ENTRIES)}). "
                             + _DAMAGED_HINT)
        try:
            counts = np.array([len(u) for u in file["spikes/units"][()]],
                              dtype=np.int64)
            num_times = len(file["spikes/times"])
            num_labels = len(file["labels"])
        except (OSError, TypeError) as error:
            raise ValueError(f"{filename}: spikes/units cannot be read "
                             f"({error}): the file is damaged. "
                             + _DAMAGED_HINT) from error
    if not num_times == len(counts) == num_labels:
        raise ValueError(f"{filename} has {num_times} spike time arrays, "
                         f"{len(counts)} unit arrays and {num_labels} "
                         f"labels; they must match. " + _DAMAGED_HINT)
    return counts


def _tonic_dataset(filename: str, prefix: str, split: str):
    """tonic's SHD / SSC data set reading ``filename`` where it is."""
    datasets = _import_tonic_datasets()
    base = datasets.SHD if prefix == "shd" else datasets.SSC

    class LocalFile(base):
        # tonic stores times as integer microseconds, which would truncate
        # the published float times [s]; keep them as float64 [us]
        dtype = np.dtype([("t", np.float64), ("x", np.int64),
                          ("p", np.int64)])
        ordering = dtype.names

        def _check_exists(self):
            # tonic 1.7 counts a split as present only when the .zip of its
            # own download lies in <save_to>/SHD/ and downloads it
            # otherwise; read the user's .h5 where it is, never download
            self.location_on_system, self.data_filename = os.path.split(
                os.path.abspath(filename))
            return True

    split_argument = ({"train": split == "train"} if prefix == "shd"
                      else {"split": split})
    return LocalFile(save_to=os.path.dirname(os.path.abspath(filename)),
                     **split_argument)


def _load_heidelberg(path: str, prefix: str, split: str,
                     splits: Sequence[str], num_classes: int
                     ) -> Tuple[List[SpikeTrain], np.ndarray]:
    filename = _dataset_file(path, prefix, split, splits)
    unit_counts = _unit_counts(filename)
    dataset = _tonic_dataset(filename, prefix, split)

    trains = []
    labels = np.empty(len(dataset), dtype=np.int64)
    for index, count in enumerate(unit_counts):
        try:
            events, labels[index] = dataset[index]
        except (OSError, ValueError) as error:
            raise ValueError(f"{filename}: example {index} cannot be read "
                             f"({error}): the file is damaged. "
                             + _DAMAGED_HINT) from error
        if len(events) != count:
            raise ValueError(f"{filename}: example {index} has "
                             f"{len(events)} spike times but {count} unit "
                             f"ids. " + _DAMAGED_HINT)
        times, ids = events["t"], events["x"]
        valid = (np.isfinite(times) & (ids >= 0)
                 & (ids < HEIDELBERG_NUM_CHANNELS))
        trains.append((times[valid] / 1000.0, ids[valid]))

    outside = (labels < 0) | (labels >= num_classes)
    if np.any(outside):
        raise ValueError(f"{filename} has labels outside 0 to "
                         f"{num_classes - 1} (e.g. {labels[outside][0]}): "
                         f"it is not an {prefix.upper()} file")
    return trains, labels


def load_shd(path: str, split: str = "train"
             ) -> Tuple[List[SpikeTrain], np.ndarray]:
    """Load one split of the Spiking Heidelberg Digits from a local file.

    Reads through tonic's ``SHD`` data set; nothing is downloaded. Spikes
    with non-finite times or channel ids outside [0, 700) are dropped.
    Spike order within an example is the file's. A missing, damaged or
    incomplete file raises ``FileNotFoundError`` / ``ValueError`` naming
    the file and what to do.

    Args:
        path:   Folder holding ``shd_train.h5`` / ``shd_test.h5`` (directly
                or in an ``SHD`` subfolder, tonic's layout), or the path of
                the HDF5 file itself (then ``split`` only names it in
                errors)
        split:  "train" or "test"

    Returns:
        ``spike_trains``, a list with one ``(times [ms] float64 array,
        ids int64 array)`` pair per example, and ``labels``, an int64
        array of classes 0 to 19
    """
    return _load_heidelberg(path, "shd", split, SHD_SPLITS, SHD_NUM_CLASSES)


def load_ssc(path: str, split: str = "train"
             ) -> Tuple[List[SpikeTrain], np.ndarray]:
    """Load one split of the Spiking Speech Commands from a local file.

    Reads through tonic's ``SSC`` data set; nothing is downloaded. Spikes
    with non-finite times or channel ids outside [0, 700) are dropped.
    Spike order within an example is the file's. A missing, damaged or
    incomplete file raises ``FileNotFoundError`` / ``ValueError`` naming
    the file and what to do.

    Args:
        path:   Folder holding ``ssc_train.h5`` / ``ssc_valid.h5`` /
                ``ssc_test.h5`` (directly or in an ``SSC`` subfolder,
                tonic's layout), or the path of the HDF5 file itself
        split:  "train", "valid" or "test"

    Returns:
        ``spike_trains``, a list with one ``(times [ms] float64 array,
        ids int64 array)`` pair per example, and ``labels``, an int64
        array of classes 0 to 34
    """
    return _load_heidelberg(path, "ssc", split, SSC_SPLITS, SSC_NUM_CLASSES)


def bin_channels(spike_trains: Sequence[SpikeTrain],
                 factor: int) -> List[SpikeTrain]:
    """Merge every ``factor`` neighbouring input channels into one.

    Channel ``i`` becomes channel ``i // factor``, so 700 channels become
    ``ceil(700 / factor)`` (700 // factor when ``factor`` divides 700).
    Every spike is kept: spikes of merged channels at the same time become
    coincident spikes of one channel. mlGeNN's ``SpikeInput`` emits at
    most one spike per neuron and timestep, so it delivers such
    coincident spikes in consecutive timesteps.

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs
        factor:         Number of channels per bin, a positive integer

    Returns:
        New list of ``(times [ms], binned ids)`` pairs
    """
    if int(factor) != factor or factor < 1:
        raise ValueError(f"factor must be a positive integer, not {factor}")
    factor = int(factor)
    # Not tonic's Downsample(spatial_factor=1 / factor): it multiplies by
    # the rounded float 1 / factor and truncates, which puts channel 49 into
    # bin 0 for factor 49 (41 factors up to 700 misplace some channel);
    # integer division is exact
    return [(np.array(times, dtype=np.float64),
             np.asarray(ids, dtype=np.int64) // factor)
            for times, ids in spike_trains]


def truncate_spike_trains(spike_trains: Sequence[SpikeTrain],
                          max_time: float) -> List[SpikeTrain]:
    """Drop spikes at or after ``max_time``.

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs
        max_time:       Trial length [ms]; spikes with ``time < max_time``
                        are kept

    Returns:
        New list of ``(times [ms], ids)`` pairs
    """
    if not max_time > 0.0:
        raise ValueError(f"max_time must be > 0 ms, not {max_time}")
    # Not tonic's CropTime(max=...), which keeps a spike at exactly
    # max_time: a trial of max_time has no timestep to emit it in
    truncated = []
    for times, ids in spike_trains:
        times = np.asarray(times, dtype=np.float64)
        keep = times < max_time
        truncated.append((times[keep], np.asarray(ids, dtype=np.int64)[keep]))
    return truncated


def _generator(rng: RandomSource) -> np.random.Generator:
    if rng is None or not isinstance(rng, (int, np.integer,
                                           np.random.Generator)):
        raise ValueError(f"rng must be a numpy Generator or an integer "
                         f"seed, not {rng!r}")
    return np.random.default_rng(rng)


# tonic 1.7 has no transform for the two augmentations below: its
# SpatialJitter adds independent Gaussian noise to every event (and needs a
# y coordinate, which SHD events lack) rather than moving a whole example,
# nothing in it combines two examples, and its random transforms draw from
# NumPy's global generator, which an explicit seed cannot reach. They are
# small NumPy functions on the loaders' (times, ids) pairs instead.
def shift_channels(spike_trains: Sequence[SpikeTrain], max_shift: int,
                   rng: RandomSource,
                   num_channels: int = HEIDELBERG_NUM_CHANNELS
                   ) -> List[SpikeTrain]:
    """Move each example by one random whole number of channels.

    Each example's channel ids all get the same offset, drawn uniformly
    from the integers ``-max_shift`` to ``max_shift`` (both included) and
    independently per example; spikes moved outside ``[0,
    num_channels)`` are dropped. The SHD recipe of arXiv 2501.07331 uses
    ``max_shift=40``, drawing new shifts every epoch.

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs
        max_shift:      Largest shift [channels], a non-negative integer
        rng:            numpy ``Generator`` or integer seed
        num_channels:   Number of input channels; ids stay in
                        ``[0, num_channels)``

    Returns:
        New list of ``(times [ms], shifted ids)`` pairs
    """
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer number "
                         f"of channels, not {max_shift}")
    rng = _generator(rng)
    shifts = rng.integers(-int(max_shift), int(max_shift), endpoint=True,
                          size=len(spike_trains))
    shifted = []
    for (times, ids), shift in zip(spike_trains, shifts):
        ids = np.asarray(ids, dtype=np.int64) + shift
        keep = (ids >= 0) & (ids < num_channels)
        shifted.append((np.asarray(times, dtype=np.float64)[keep],
                        ids[keep]))
    return shifted


def blend_examples(spike_trains: Sequence[SpikeTrain], labels: Sequence[int],
                   num_blended: int, rng: RandomSource, weight: float = 0.5,
                   num_channels: int = HEIDELBERG_NUM_CHANNELS,
                   max_time: float = np.inf
                   ) -> Tuple[List[SpikeTrain], np.ndarray]:
    """Make new examples by blending pairs of examples of one class.

    For each new example, draw an example uniformly and a partner
    uniformly among the examples of its class (possibly itself). Move both
    halfway towards each other so that their centres of mass coincide: in
    time [ms] exactly, in channel to whole channels (half the distance,
    rounded towards zero). Drop spikes moved outside ``[0,
    num_channels)`` or ``[0, max_time)``, then keep each spike of the first
    example with probability ``weight`` and each of the partner's with
    probability ``1 - weight``, merged in time order. The SHD recipe of
    arXiv 2501.07331 blends with ``weight=0.5`` and trains on the original
    examples together with the blended ones (``spike_trains + new``).

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs
        labels:         Class of each example
        num_blended:    Number of new examples, a non-negative integer
        rng:            numpy ``Generator`` or integer seed
        weight:         Probability of keeping a spike of the first
                        example, in [0, 1]; the partner's spikes are kept
                        with probability ``1 - weight``
        num_channels:   Number of input channels; ids stay in
                        ``[0, num_channels)``
        max_time:       Trial length [ms]; spikes moved to or beyond it are
                        dropped

    Returns:
        ``new_trains``, a list of ``num_blended`` ``(times [ms], ids)``
        pairs, and ``new_labels``, their int64 classes
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(spike_trains):
        raise ValueError(f"{len(spike_trains)} spike trains but "
                         f"{len(labels)} labels; they must match")
    if int(num_blended) != num_blended or num_blended < 0:
        raise ValueError(f"num_blended must be a non-negative integer, not "
                         f"{num_blended}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], not {weight}")
    if not max_time > 0.0:
        raise ValueError(f"max_time must be > 0 ms, not {max_time}")
    if num_blended > 0 and len(labels) == 0:
        raise ValueError("blending needs at least one example")
    rng = _generator(rng)
    members = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}

    new_trains = []
    new_labels = np.empty(int(num_blended), dtype=np.int64)
    for n in range(int(num_blended)):
        first = int(rng.integers(len(labels)))
        partner = int(rng.choice(members[labels[first]]))
        new_labels[n] = labels[first]
        (times_1, ids_1), (times_2, ids_2) = [
            (np.asarray(t, dtype=np.float64), np.asarray(i, dtype=np.int64))
            for t, i in (spike_trains[first], spike_trains[partner])]

        if len(times_1) and len(times_2):
            id_shift = int(np.trunc((np.mean(ids_2) - np.mean(ids_1)) / 2))
            time_shift = (np.mean(times_2) - np.mean(times_1)) / 2
            times_1, ids_1 = times_1 + time_shift, ids_1 + id_shift
            times_2, ids_2 = times_2 - time_shift, ids_2 - id_shift

        kept = []
        for times, ids, keep_probability in ((times_1, ids_1, weight),
                                             (times_2, ids_2, 1.0 - weight)):
            inside = ((ids >= 0) & (ids < num_channels)
                      & (times >= 0.0) & (times < max_time))
            times, ids = times[inside], ids[inside]
            chosen = rng.random(len(times)) < keep_probability
            kept.append((times[chosen], ids[chosen]))
        times = np.concatenate([kept[0][0], kept[1][0]])
        ids = np.concatenate([kept[0][1], kept[1][1]])
        order = np.argsort(times, kind="stable")
        new_trains.append((times[order], ids[order]))
    return new_trains, new_labels


def latest_spike_time(spike_trains: Sequence[SpikeTrain]) -> float:
    """Time of the latest spike of any example (mlGeNN's
    ``calc_latest_spike_time``).

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs

    Returns:
        Latest spike time [ms]; 0.0 when no example has a spike
    """
    return max((float(np.max(times)) for times, _ in spike_trains
                if len(times)), default=0.0)


def max_spikes_per_example(spike_trains: Sequence[SpikeTrain]) -> int:
    """Largest number of spikes in one example (mlGeNN's
    ``calc_max_spikes``); a ``SpikeInput`` needs
    ``max_spikes = batch_size * max_spikes_per_example(...)``.

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs

    Returns:
        Maximum number of spikes of any example; 0 for no examples
    """
    return max((len(times) for times, _ in spike_trains), default=0)


def example_timesteps(spike_trains: Sequence[SpikeTrain], dt: float) -> int:
    """Number of timesteps a trial needs to deliver every input spike.

    mlGeNN's ``SpikeInput`` emits a spike of time ``t`` in the first
    timestep whose start time ``step * dt`` is ``>= t``, i.e. in step
    ``ceil(t / dt)``, so a trial needs ``ceil(t_latest / dt) + 1`` steps.
    (mlGeNN's SHD example uses ``ceil(t_latest / dt)``, one step short of
    delivering the very latest spike.) To bound the trial length, apply
    :func:`truncate_spike_trains` first.

    Args:
        spike_trains:   Per-example ``(times [ms], ids)`` pairs
        dt:             Simulation timestep [ms]

    Returns:
        Number of timesteps
    """
    if not dt > 0.0:
        raise ValueError(f"dt must be > 0 ms, not {dt}")
    return int(np.ceil(latest_spike_time(spike_trains) / dt)) + 1
