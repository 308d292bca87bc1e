"""Metrics of learned layouts (pure NumPy).

Every function takes plain arrays: the per-synapse ``distance``
[space units], ``delay`` [timesteps] and ``weight`` of one connection
(dense matrices or sparse vectors alike; they are flattened), or neuron
positions ``(N, D)`` [space units]. "Weighted" always means weighted by
``|w|``, the quantity the wiring cost ``sum |w_ij| dist_ij`` penalises.
"""
import numpy as np

from ..geometry import as_rng, validate_positions
from ..geometry import distance as pair_distance


def _flat(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def _flat_pair(distance, weight):
    distance = _flat(distance, "distance")
    if weight is None:
        return distance, None
    weight = _flat(weight, "weight")
    if weight.shape != distance.shape:
        raise ValueError(f"weight must have one value per synapse: "
                         f"{weight.size} weights, {distance.size} distances")
    return distance, weight


# ----------------------------------------------------------------------------
# Delays, lengths, weights
# ----------------------------------------------------------------------------
def delay_histogram(delay, max_delay_steps: int = None):
    """Number of synapses with each delay.

    Args:
        delay: delay of every synapse [timesteps], non-negative integers
        max_delay_steps: largest delay to count (default: the largest one
            present) [timesteps]

    Returns:
        ``(counts, delays)``: ``counts[k]`` synapses have delay
        ``delays[k] = k`` for ``k = 0 .. max_delay_steps``
    """
    delay = np.asarray(delay).ravel()
    if delay.size and (not np.all(delay == np.round(delay))
                       or delay.min() < 0):
        raise ValueError("delays must be non-negative whole timesteps")
    delay = delay.astype(np.int64)
    top = int(delay.max(initial=0)) if max_delay_steps is None \
        else int(max_delay_steps)
    if delay.size and delay.max() > top:
        raise ValueError(f"delays reach {delay.max()} timesteps, beyond "
                         f"max_delay_steps={top}")
    return np.bincount(delay, minlength=top + 1), np.arange(top + 1)


def length_histogram(distance, weight=None, bins: int = 20,
                     value_range=None):
    """Distribution of connection lengths, optionally weighted by ``|w|``.

    Args:
        distance: distance of every synapse [space units]
        weight: weight of every synapse, or None for a plain count
        bins: number of equal-width bins
        value_range: ``(low, high)`` of the bins [space units] (default:
            0 to the longest connection)

    Returns:
        ``(fraction, edges)``: ``fraction[b]`` is the share of synapses (or
        of the total ``|w|``) whose length lies in
        ``[edges[b], edges[b+1])`` (the last bin includes its right edge);
        it sums to 1 (to 0 when there is nothing to count)
    """
    distance, weight = _flat_pair(distance, weight)
    if value_range is None:
        value_range = (0.0, max(float(distance.max(initial=0.0)), 1e-12))
    mass = None if weight is None else np.abs(weight)
    counts, edges = np.histogram(distance, bins=bins, range=value_range,
                                 weights=mass)
    total = counts.sum()
    return (counts / total if total > 0 else counts.astype(np.float64),
            edges)


def mean_wiring_length(distance, weight=None) -> float:
    """Mean connection length [space units]: ``mean(dist)``, or with
    weights ``sum |w| dist / sum |w|`` (NaN when every weight is zero).

    Args:
        distance: distance of every synapse [space units]
        weight: weight of every synapse, or None for the plain mean
    """
    distance, weight = _flat_pair(distance, weight)
    if weight is None:
        return float(distance.mean()) if distance.size else float("nan")
    mass = np.abs(weight)
    total = mass.sum()
    return float(mass @ distance / total) if total > 0 else float("nan")


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Start of every run of equal values, and its mean rank
    starts = np.flatnonzero(np.r_[True,
                                  sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    norm = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / norm) if norm > 0 else float("nan")


def weight_distance_correlation(distance, weight) -> dict:
    """How weights depend on connection length.

    Args:
        distance: distance of every synapse [space units]
        weight: weight of every synapse

    Returns:
        ``{"pearson": r(dist, w), "pearson_abs": r(dist, |w|),
        "spearman_abs": rank correlation of dist and |w|}``; NaN where a
        variable is constant. Negative values: long connections are weak.
    """
    distance, weight = _flat_pair(distance, weight)
    if weight is None:
        raise ValueError("weight_distance_correlation needs the weights")
    if distance.size < 2:
        nan = float("nan")
        return {"pearson": nan, "pearson_abs": nan, "spearman_abs": nan}
    magnitude = np.abs(weight)
    return {"pearson": _pearson(distance, weight),
            "pearson_abs": _pearson(distance, magnitude),
            "spearman_abs": _pearson(_ranks(distance), _ranks(magnitude))}


# ----------------------------------------------------------------------------
# Spatial clustering of function
# ----------------------------------------------------------------------------
def preferred_class(class_counts) -> np.ndarray:
    """The class each neuron spikes most for.

    Args:
        class_counts: spike counts, shape ``(N, num_classes)``

    Returns:
        int array of shape ``(N,)``: the class with strictly the most
        spikes, or -1 where a neuron never spiked or two classes tie
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[1] < 1:
        raise ValueError(f"class_counts must have shape (N, num_classes), "
                         f"not {counts.shape}")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("class_counts must be finite and non-negative")
    if counts.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    best = counts.max(axis=1)
    labels = np.argmax(counts, axis=1).astype(np.int64)
    ties = np.count_nonzero(counts == best[:, np.newaxis], axis=1) > 1
    labels[(best <= 0) | ties] = -1
    return labels


def _labelled_pairs(positions, labels):
    """Labels of the neurons that have a class, and the index pairs
    ``i < j`` and plain Euclidean distances of every pair of them."""
    positions = validate_positions(positions)
    labels = np.asarray(labels).ravel()
    if labels.shape != (positions.shape[0],):
        raise ValueError(f"labels must have one entry per neuron: "
                         f"{labels.size} labels, {positions.shape[0]} "
                         f"positions")
    keep = labels >= 0
    positions, labels = positions[keep], labels[keep].astype(np.int64)
    first, second = np.triu_indices(labels.size, k=1)
    pair_dist = pair_distance(positions, positions)[first, second]
    return labels, first, second, pair_dist


def _same_other(pair_dist, same) -> tuple:
    def mean(mask):
        count = np.count_nonzero(mask)
        return float(pair_dist[mask].sum() / count) if count else float("nan")
    return mean(same), mean(~same)


def class_distances(positions, labels) -> tuple:
    """Mean distance between neurons of the same class and between neurons
    of different classes [space units].

    Averages run over unordered pairs ``i < j`` of neurons that both have a
    class (``label >= 0``); distances are plain Euclidean (no softening).

    Args:
        positions: neuron positions, shape ``(N, D)`` [space units]
        labels: class of each neuron, shape ``(N,)``; -1 for none

    Returns:
        ``(mean_same, mean_other)``; NaN where there is no such pair
    """
    labels, first, second, pair_dist = _labelled_pairs(positions, labels)
    return _same_other(pair_dist, labels[first] == labels[second])


def spatial_clustering_of_function(positions, labels,
                                   permutations: int = 1000,
                                   rng=0) -> dict:
    """Are neurons that prefer the same class closer together than chance?

    The statistic is ``ratio = mean_same / mean_other`` (see
    :func:`class_distances`); below 1 means same-class neurons sit closer
    together. The p-value is one-sided, from a permutation test that
    shuffles the labels among the labelled neurons:
    ``p = (1 + #{ratio_perm <= ratio}) / (1 + permutations)``.

    Args:
        positions: neuron positions, shape ``(N, D)`` [space units]
        labels: class of each neuron, shape ``(N,)``; -1 for none (such
            neurons are left out)
        permutations: number of label shuffles
        rng: np.random.Generator or int seed of the shuffles

    Returns:
        ``{"neurons", "classes", "mean_same", "mean_other", "ratio",
        "p_value", "permutations"}`` (distances in space units; NaN ratio
        and p-value when there are not two classes with a same-class pair)
    """
    if isinstance(permutations, bool) or int(permutations) < 1:
        raise ValueError(f"permutations must be >= 1, not {permutations}")
    permutations = int(permutations)
    rng = as_rng(rng)
    labels, first, second, pair_dist = _labelled_pairs(positions, labels)

    def ratio(lab):
        same, other = _same_other(pair_dist, lab[first] == lab[second])
        return same / other

    mean_same, mean_other = _same_other(pair_dist,
                                        labels[first] == labels[second])
    observed = mean_same / mean_other
    result = {"neurons": int(labels.size),
              "classes": int(np.unique(labels).size),
              "mean_same": mean_same, "mean_other": mean_other,
              "ratio": float(observed), "p_value": float("nan"),
              "permutations": permutations}
    if not np.isfinite(observed):
        return result
    # Shuffling keeps the number of same-class pairs, so the ratio is
    # finite for every permutation
    null = np.array([ratio(rng.permutation(labels))
                     for _ in range(permutations)])
    # A relative tolerance counts a shuffle that reproduces the observed
    # ratio up to rounding of the sums as "at least as clustered"
    hits = np.count_nonzero(null <= observed * (1.0 + 1e-12))
    result["p_value"] = float((1.0 + hits) / (1.0 + permutations))
    return result


# ----------------------------------------------------------------------------
# Projection for pictures
# ----------------------------------------------------------------------------
def principal_components(points, components: int = 2):
    """Project points onto their first principal components.

    Args:
        points: shape ``(N, D)``
        components: number of components kept (<= D)

    Returns:
        ``(projected, explained)``: coordinates of shape
        ``(N, components)`` along the directions of largest variance (about
        the mean; each direction's sign makes its largest-magnitude
        loading positive), and the fraction of the total variance each
        explains
    """
    points = validate_positions(points, name="points")
    if (isinstance(components, bool) or not isinstance(
            components, (int, np.integer)) or components < 1
            or components > points.shape[1]):
        raise ValueError(f"components must be an int in [1, D = "
                         f"{points.shape[1]}], not {components!r}")
    centred = points - points.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    directions = directions[:components]
    signs = np.sign(directions[np.arange(components),
                               np.argmax(np.abs(directions), axis=1)])
    directions = directions * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular ** 2
    total = variance.sum()
    explained = (variance[:components] / total if total > 0
                 else np.zeros(components))
    return centred @ directions.T, explained
