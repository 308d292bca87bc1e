"""Loaders for the Spiking Heidelberg Digits (SHD) and Spiking Speech
Commands (SSC) data sets and helpers for their spike trains.

Cramer et al., "The Heidelberg spiking data sets for the systematic
evaluation of spiking neural networks" (arXiv 1910.07407). Each published
HDF5 file holds ``spikes/times`` (ragged per-example arrays of spike
times [s]), ``spikes/units`` (ragged arrays of the matching input channel
ids, 0 to 699) and ``labels`` (one class per example).

The loaders return plain NumPy structures: a list with one
``(times [ms] float64 array, ids int64 array)`` pair per example and an
int64 label array. On the GeNN side mlGeNN consumes each pair through
``ml_genn.utils.data.preprocess_spikes(times, ids, num_inputs)``; this
module never imports mlGeNN.

mlGeNN's SHD examples load the files through tonic's ``SHD`` class. We
read them with h5py instead, for three reasons: tonic's ``SHD`` / ``SSC``
(tonic 1.x, ``tonic/datasets/hsd.py``) accept only the layout of their own
download, checking for the md5-verified ``shd_train.h5.zip`` in
``<save_to>/SHD/`` and downloading it when it is absent, so a user's
existing ``shd_train.h5`` is not enough and an offline machine fails;
tonic's requirements pin ``numpy<2`` and pull in librosa, scipy and
importRosbag; and its events store times as integer microseconds,
truncating the published float times. The spike times here are the
published times [s] multiplied by 1000; tonic + mlGeNN's
``preprocess_tonic_spikes`` give the same times truncated to whole
microseconds (a difference below 0.001 ms).
"""
import os
from typing import List, Sequence, Tuple

import numpy as np

SpikeTrain = Tuple[np.ndarray, np.ndarray]

#: Number of input channels (cochlea model fibres) of SHD and SSC
HEIDELBERG_NUM_CHANNELS = 700

#: Number of classes: SHD has 20 spoken digits (0-9 in English and
#: German), SSC the 35 words of Speech Commands v0.2
SHD_NUM_CLASSES = 20
SSC_NUM_CLASSES = 35

SHD_SPLITS = ("train", "test")
SSC_SPLITS = ("train", "valid", "test")

_DOWNLOAD_HINT = (
    "Download it from the Zenke lab's page "
    "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/ "
    "(files at https://zenkelab.org/datasets/, or the original download "
    "area https://compneuro.net/datasets/), decompress it "
    "(gunzip {name}.gz or unzip {name}.zip) and put {name} into {folder} "
    "(or pass the file's own path)")


def _import_h5py():
    try:
        import h5py
    except ImportError as error:
        raise ImportError("Loading SHD / SSC needs h5py: pip install h5py "
                          "(or pip install ml_genn_spatial[examples])"
                          ) from error
    return h5py


def _dataset_file(path: str, prefix: str, split: str,
                  splits: Sequence[str]) -> str:
    """Path of the published HDF5 file of one split, or a clear error."""
    if split not in splits:
        raise ValueError(f"{prefix.upper()} has splits {splits}, not "
                         f"'{split}'")
    name = f"{prefix}_{split}.h5"
    path = os.fspath(path)
    if not os.path.isdir(path):
        if os.path.isfile(path):
            return path
        raise FileNotFoundError(
            f"{path} does not exist. "
            + _DOWNLOAD_HINT.format(name=name, folder="a folder of your "
                                                      "choice"))

    # tonic, which mlGeNN's examples use, keeps the files in an SHD / SSC
    # subfolder of the folder it is given: accept that layout too
    candidates = [os.path.join(path, name),
                  os.path.join(path, prefix.upper(), name)]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate

    compressed = [c + ext for c in candidates for ext in (".gz", ".zip")
                  if os.path.isfile(c + ext)]
    if compressed:
        raise FileNotFoundError(
            f"{compressed[0]} is compressed: decompress it (gunzip / unzip) "
            f"so that {candidates[0]} exists")
    raise FileNotFoundError(
        f"{name} is not in {path} (looked for {' and '.join(candidates)}). "
        + _DOWNLOAD_HINT.format(name=name, folder=path))


def _load_heidelberg(path: str, prefix: str, split: str,
                     splits: Sequence[str]
                     ) -> Tuple[List[SpikeTrain], np.ndarray]:
    filename = _dataset_file(path, prefix, split, splits)
    h5py = _import_h5py()
    with h5py.File(filename, "r") as file:
        try:
            # Reading the whole ragged data sets at once is much faster
            # than indexing them example by example
            all_times = file["spikes/times"][()]
            all_units = file["spikes/units"][()]
            labels = np.asarray(file["labels"][()], dtype=np.int64)
        except KeyError as error:
            raise ValueError(f"{filename} is not an SHD / SSC file: it lacks "
                             f"{error}") from error

    if not len(all_times) == len(all_units) == len(labels):
        raise ValueError(f"{filename} has {len(all_times)} spike time "
                         f"arrays, {len(all_units)} unit arrays and "
                         f"{len(labels)} labels; they must match")
    trains = []
    for e, (times, units) in enumerate(zip(all_times, all_units)):
        # Widen before scaling: the published times may be stored in
        # half precision
        times = np.asarray(times, dtype=np.float64)
        units = np.asarray(units, dtype=np.int64)
        if times.shape != units.shape:
            raise ValueError(f"{filename}: example {e} has {len(times)} "
                             f"spike times but {len(units)} unit ids")
        valid = (np.isfinite(times) & (units >= 0)
                 & (units < HEIDELBERG_NUM_CHANNELS))
        trains.append((times[valid] * 1000.0, units[valid]))
    return trains, labels


def load_shd(path: str, split: str = "train"
             ) -> Tuple[List[SpikeTrain], np.ndarray]:
    """Load one split of the Spiking Heidelberg Digits from a local file.

    Spikes with non-finite times or channel ids outside [0, 700) are
    dropped. Spike order within an example is the file's.

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
    return _load_heidelberg(path, "shd", split, SHD_SPLITS)


def load_ssc(path: str, split: str = "train"
             ) -> Tuple[List[SpikeTrain], np.ndarray]:
    """Load one split of the Spiking Speech Commands from a local file.

    Spikes with non-finite times or channel ids outside [0, 700) are
    dropped. Spike order within an example is the file's.

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
    return _load_heidelberg(path, "ssc", split, SSC_SPLITS)


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
    truncated = []
    for times, ids in spike_trains:
        times = np.asarray(times, dtype=np.float64)
        keep = times < max_time
        truncated.append((times[keep], np.asarray(ids, dtype=np.int64)[keep]))
    return truncated


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
