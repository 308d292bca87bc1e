"""Structural changes of trained spatial connections.

One-shot pruning lives here; DEEP R rewiring during training, with
optional distance-aware regrowth, is part of the EventProp compiler
(:mod:`ml_genn_spatial.compilers.deep_r`).
"""
import numpy as np

from .placement import get_positions, get_space


def prune(connection, sparsity: float, by: str = "weight"):
    """One-shot pruning of a trained spatial connection to a target
    sparsity, by weight magnitude or by connection length; compile the
    network again to fine-tune.

    The connection's weights must be arrays (e.g. after ``Network.load`` of
    a checkpoint) and its populations placed with their trained positions.
    Its connectivity is replaced by a :class:`SpatialSparse` with the kept
    synapses, their weights and the same distance-to-delay map.

    Args:
        connection: spatial mlGeNN connection
        sparsity:   fraction of all ``N_pre * N_post`` possible synapses to
                    remove
        by:         ``"weight"`` (keep the largest ``|w|``) or ``"length"``
                    (keep the shortest connections)
    """
    from .connectivity import SpatialSparse, is_spatial
    from .geometry import distance
    from .pruning import check_sparsity, keep_count, select_synapses

    check_sparsity(sparsity)
    if by not in ("weight", "length"):
        raise ValueError(f"by must be 'weight' or 'length', not {by!r}")
    if not is_spatial(connection):
        raise ValueError(f"{connection.name} is not a spatial connection")
    old = connection.connectivity
    source, target = connection.source(), connection.target()
    num_pre = int(np.prod(source.shape))
    num_post = int(np.prod(target.shape))
    weight = np.asarray(old.weight, dtype=np.float64)
    if weight.ndim == 0 or not np.issubdtype(weight.dtype, np.number):
        raise ValueError(f"{connection.name} has no trained weight array: "
                         f"load a checkpoint (Network.load) first")
    pre_ind = getattr(old, "pre_ind", None)
    if pre_ind is None:
        pre_ind, post_ind = np.divmod(np.arange(num_pre * num_post),
                                      num_post)
        weight = weight.reshape(-1)
    else:
        pre_ind = np.asarray(pre_ind)
        post_ind = np.asarray(old.post_ind)
    space = get_space(source)
    dist = distance(get_positions(source), get_positions(target),
                    eps=space.eps, pre_ind=pre_ind, post_ind=post_ind)
    keep = keep_count(num_pre, num_post, sparsity)
    if keep > weight.size:
        raise ValueError(f"{connection.name} has {weight.size} synapses, "
                         f"fewer than the {keep} that sparsity "
                         f"{sparsity} keeps")
    kept = select_synapses(weight, dist, keep, by)
    connection.connectivity = SpatialSparse(
        1.0, weight[kept], old.max_delay_steps, scale=old.scale,
        offset=old.offset, allow_self_connections=True,
        pre_ind=pre_ind[kept], post_ind=post_ind[kept],
        wiring_cost=old.wiring_cost,
        regrowth_length=getattr(old, "regrowth_length", None))
    return connection
