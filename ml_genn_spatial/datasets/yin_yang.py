"""The Yin-Yang data set and its latency encoding to input spike times.

The data set is the one of Kriener et al., "The Yin-Yang dataset"
(arXiv 2102.08211), reproduced draw for draw from its reference
implementation (``YinYangDataset`` in github:lkriener/yin_yang_data_set):
a :class:`numpy.random.RandomState` seeded per split draws a goal class
with ``randint(3)`` and then points ``rand(2) * 2 * r_big`` in the big
circle's bounding box until one lies inside the big circle and has the
goal class. The same call sequence on NumPy's global generator is what
mlGeNN's ``ml_genn.utils.data.generate_yin_yang_dataset`` does, so
``yin_yang(n, seed)`` gives the points mlGeNN draws after
``np.random.seed(seed)``.

Seeds: the reference implementation's README builds its splits as
``YinYangDataset(size=5000, seed=42)`` (train), ``size=1000, seed=41``
(validation) and ``size=1000, seed=40`` (test); those are the defaults
of :func:`yin_yang_splits`. mlGeNN's Yin-Yang EventProp example
(``examples/event_prop/yin_yang.py``) sets no seed at all and draws
``512 * 10 * 3 = 15360`` training or ``512 * 2 * 3 = 3072`` test examples
from NumPy's unseeded global generator; pass those sizes to reproduce its
data set sizes.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

#: Names of labels 0, 1 and 2, in the order of the reference
#: implementation's ``class_names``
YIN_YANG_CLASS_NAMES = ("yin", "yang", "dot")

#: Trial length [ms] and simulation timestep [ms] of mlGeNN's Yin-Yang
#: EventProp example (``EXAMPLE_TIME`` and ``DT``)
YIN_YANG_EXAMPLE_TIME = 30.0
YIN_YANG_DT = 0.01

#: mlGeNN's example calls ``generate_yin_yang_dataset(n,
#: EXAMPLE_TIME - 4 * DT, 2 * DT, bias=False)``, i.e. spike time
#: ``2 DT + value * (EXAMPLE_TIME - 4 DT)``: a value of 0 spikes at 2 DT
#: and a value of 1 at EXAMPLE_TIME - 2 DT [ms]
YIN_YANG_T_EARLY = 2.0 * YIN_YANG_DT
YIN_YANG_T_LATE = YIN_YANG_EXAMPLE_TIME - 2.0 * YIN_YANG_DT


def yin_yang_class(x, y, r_small: float = 0.1, r_big: float = 0.5):
    """Class of points of the Yin-Yang figure (the reference's geometric rule).

    The figure is the disc of radius ``r_big`` centred on ``(r_big, r_big)``.
    Its two dots of radius ``r_small`` are centred on ``(0.5 r_big, r_big)``
    (left) and ``(1.5 r_big, r_big)`` (right). A point is a dot (label 2)
    when it is strictly inside either dot. Otherwise it has label 1 when
    it is in the right dot's closed disc, or in the ring
    ``r_small < d_left <= r_big / 2`` around the left dot, or above the
    horizontal diameter (``y > r_big``) and more than ``r_big / 2`` from the
    right dot's centre; every other point has label 0. Points outside the
    big disc are classified by the same rule but never sampled.

    Args:
        x:          First coordinate(s) [space units, the big circle's
                    bounding box is [0, 2 r_big]]
        y:          Second coordinate(s), broadcastable against ``x``
        r_small:    Radius of the two dots
        r_big:      Radius of the whole figure

    Returns:
        Integer label(s) 0, 1 or 2 with the broadcast shape of ``x`` and
        ``y`` (a NumPy integer when both are scalars)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    d_right = np.sqrt((x - 1.5 * r_big) ** 2 + (y - r_big) ** 2)
    d_left = np.sqrt((x - 0.5 * r_big) ** 2 + (y - r_big) ** 2)
    is_yin = ((d_right <= r_small)
              | ((d_left > r_small) & (d_left <= 0.5 * r_big))
              | ((y > r_big) & (d_right > 0.5 * r_big)))
    is_dot = (d_right < r_small) | (d_left < r_small)
    labels = np.where(is_dot, 2, is_yin.astype(np.int64))
    return labels[()] if labels.ndim == 0 else labels


def yin_yang(size: int, seed: int, r_small: float = 0.1,
             r_big: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Draw a Yin-Yang data set exactly as the reference implementation does.

    For every example a goal class is drawn uniformly, then points are drawn
    uniformly in ``[0, 2 r_big]^2`` and rejected until one lies inside the
    big circle and has the goal class (:func:`yin_yang_class`). Classes are
    therefore balanced in expectation (each with probability 1/3), not
    exactly.

    Args:
        size:       Number of examples
        seed:       Seed of the :class:`numpy.random.RandomState` that draws
                    them (42 / 41 / 40 for the reference train / validation
                    / test splits)
        r_small:    Radius of the two dots
        r_big:      Radius of the whole figure

    Returns:
        ``features``, float64 array of shape ``(size, 4)`` with rows
        ``(x, y, 1 - x, 1 - y)``, and ``labels``, int64 array of shape
        ``(size,)`` with values in {0, 1, 2}
        (:data:`YIN_YANG_CLASS_NAMES`)
    """
    if int(size) != size or size < 0:
        raise ValueError(f"size must be a non-negative integer, not {size}")
    if not 0.0 < r_small < 0.5 * r_big:
        raise ValueError(f"need 0 < r_small < r_big / 2 for the dots to fit "
                         f"their halves, got r_small={r_small}, "
                         f"r_big={r_big}")
    rng = np.random.RandomState(seed)
    points = np.empty((int(size), 2))
    labels = np.empty(int(size), dtype=np.int64)
    for i in range(int(size)):
        goal = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2.0 * r_big
            if np.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big:
                continue
            if yin_yang_class(x, y, r_small, r_big) == goal:
                break
        points[i] = x, y
        labels[i] = goal

    # Mirrored coordinates are 1 - x, 1 - y as in the reference, whatever
    # r_big is (so only for the default r_big = 0.5 do they lie in [0, 1])
    features = np.hstack((points, 1.0 - points))
    return features, labels


def yin_yang_splits(train_size: int = 5000, validation_size: int = 1000,
                    test_size: int = 1000,
                    seeds: Sequence[int] = (42, 41, 40),
                    r_small: float = 0.1, r_big: float = 0.5
                    ) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Train, validation and test sets of the Yin-Yang data set.

    Each split is drawn by :func:`yin_yang` from its own seed; the defaults
    are the reference implementation's sizes and seeds.

    Args:
        train_size:         Number of training examples
        validation_size:    Number of validation examples
        test_size:          Number of test examples
        seeds:              Seeds of the train, validation and test splits
        r_small:            Radius of the two dots
        r_big:              Radius of the whole figure

    Returns:
        Dictionary ``{"train": (features, labels), "validation": ...,
        "test": ...}`` of :func:`yin_yang` results
    """
    if len(seeds) != 3:
        raise ValueError(f"seeds must give one seed for each of train, "
                         f"validation and test, not {seeds}")
    if len(set(seeds)) != 3:
        raise ValueError(f"seeds {seeds} repeat a seed, so two splits would "
                         f"share their first examples")
    sizes = (train_size, validation_size, test_size)
    return {name: yin_yang(size, seed, r_small, r_big)
            for name, size, seed in zip(("train", "validation", "test"),
                                        sizes, seeds)}


def encode_latency(features: np.ndarray, t_early: float = YIN_YANG_T_EARLY,
                   t_late: float = YIN_YANG_T_LATE,
                   bias_time: Optional[float] = None) -> np.ndarray:
    """Latency-encode features in [0, 1] as one input spike per feature.

    Feature value ``v`` spikes at ``t_early + v (t_late - t_early)``, the
    linear encoding of mlGeNN's ``generate_yin_yang_dataset(size, scale,
    offset, bias)`` with ``offset = t_early`` and
    ``scale = t_late - t_early``. The defaults are those of mlGeNN's
    Yin-Yang EventProp example (30 ms trials, dt 0.01 ms: 0.02 ms and
    29.98 ms), which uses no bias input. With ``bias_time`` an extra bias
    input neuron is prepended as neuron 0, like mlGeNN's ``bias=True``
    (which places it at ``offset``, i.e. ``bias_time = t_early``), and the
    features move to neurons 1 and up.

    The result is a dense array of spike times; :func:`spike_trains_from_dense`
    turns it into per-example ``(times, ids)`` pairs, and on the GeNN side
    ``ml_genn.utils.data.preprocess_spikes(times, ids, num_inputs)`` turns
    each pair into mlGeNN's ``PreprocessedSpikes``.

    Args:
        features:   Array of shape ``(n_examples, n_features)`` with values
                    in [0, 1]
        t_early:    Spike time of a feature value of 0 [ms]
        t_late:     Spike time of a feature value of 1 [ms]
        bias_time:  Spike time of the bias neuron [ms], or None for no bias
                    neuron

    Returns:
        Float64 array of spike times [ms] of shape ``(n_examples,
        n_inputs)``, ``n_inputs = n_features (+ 1 with a bias)``; column
        ``k`` is the single spike time of input neuron ``k``
    """
    features = np.asarray(features, dtype=float)
    if features.ndim != 2:
        raise ValueError(f"features must have shape (n_examples, "
                         f"n_features), not {features.shape}")
    if features.size and (np.min(features) < 0.0 or np.max(features) > 1.0):
        raise ValueError(f"latency encoding needs features in [0, 1], got "
                         f"[{np.min(features)}, {np.max(features)}]; with "
                         f"r_big != 0.5 rescale the Yin-Yang features first")
    if not 0.0 <= t_early < t_late:
        raise ValueError(f"need 0 <= t_early < t_late, got t_early={t_early} "
                         f"ms, t_late={t_late} ms")
    times = t_early + features * (t_late - t_early)
    if bias_time is not None:
        if bias_time < 0.0:
            raise ValueError(f"bias_time must be >= 0 ms, not {bias_time}")
        times = np.hstack((np.full((len(times), 1), float(bias_time)), times))
    return times


def spike_trains_from_dense(spike_times: np.ndarray
                            ) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Per-example ``(times, ids)`` spike trains from one spike per neuron.

    Args:
        spike_times:    Array of shape ``(n_examples, n_inputs)``; entry
                        ``[e, k]`` is the spike time [ms] of input neuron
                        ``k`` in example ``e``; non-finite entries (NaN,
                        inf) mean "no spike"

    Returns:
        List with one ``(times [ms] float64 array, ids int64 array)`` pair
        per example, the spike trains the SHD / SSC loaders return too
    """
    spike_times = np.asarray(spike_times, dtype=float)
    if spike_times.ndim != 2:
        raise ValueError(f"spike_times must have shape (n_examples, "
                         f"n_inputs), not {spike_times.shape}")
    ids = np.arange(spike_times.shape[1], dtype=np.int64)
    trains = []
    for row in spike_times:
        spiking = np.isfinite(row)
        trains.append((row[spiking].copy(), ids[spiking]))
    return trains
