"""Choosing which synapses one-shot pruning keeps (pure NumPy).

The position-learning paper finds pruning by connection length works as
well as pruning by weight magnitude; both criteria are here. The GeNN side
(:func:`ml_genn_spatial.rewiring.prune`) turns the choice into a sparse
spatial connection to fine-tune.
"""
import numpy as np


def check_sparsity(sparsity) -> float:
    """Return ``sparsity`` as a float, raising ValueError unless it is in
    [0, 1)."""
    if (isinstance(sparsity, (bool, np.bool_))
            or not isinstance(sparsity, (int, float, np.integer,
                                         np.floating))
            or not 0.0 <= sparsity < 1.0):
        raise ValueError(f"sparsity must be a number in [0, 1), not "
                         f"{sparsity!r}")
    return float(sparsity)


def keep_count(num_pre: int, num_post: int, sparsity: float) -> int:
    """Synapses left at ``sparsity`` (fraction of all ``num_pre *
    num_post`` possible synapses removed)."""
    sparsity = check_sparsity(sparsity)
    return int(round((1.0 - sparsity) * num_pre * num_post))


def select_synapses(weights, distances, keep: int, by: str = "weight"):
    """Indices of the ``keep`` synapses to keep.

    Args:
        weights:   per-synapse weights (any shape; flattened)
        distances: per-synapse distances [space units], same shape
        keep:      how many synapses to keep
        by:        ``"weight"`` keeps the largest ``|w|``, ``"length"``
                   keeps the shortest connections; ties go to the lower
                   index so the choice is deterministic

    Returns:
        sorted flat indices of the kept synapses
    """
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    distances = np.asarray(distances, dtype=np.float64).reshape(-1)
    if weights.shape != distances.shape:
        raise ValueError(f"weights {weights.shape} and distances "
                         f"{distances.shape} must have one shape")
    if not 0 <= keep <= weights.size:
        raise ValueError(f"cannot keep {keep} of {weights.size} synapses")
    if by == "weight":
        score = -np.abs(weights)
    elif by == "length":
        score = distances
    else:
        raise ValueError(f"prune by 'weight' or 'length', not {by!r}")
    order = np.lexsort((np.arange(score.size), score))
    return np.sort(order[:keep])
