"""Chain rule from per-synapse gradients to per-neuron position gradients.

EventProp gives G_ij = dL/d(delay_ij) for every synapse of a spatial
connection (straight-through over the rounding of the delay). With
``delay_ij = offset + scale * dist_ij`` the gradients of the loss with
respect to the positions of the two populations are::

    dL/dx_i = scale * sum_j G_ij (x_i - x_j) / dist_ij       (i presynaptic)
    dL/dx_j = scale * sum_i G_ij (x_j - x_i) / dist_ij       (j postsynaptic)

A position belongs to a neuron, not to a connection: a neuron touched by
several spatial connections (for a recurrent connection, as both pre and
post) receives the sum of their contributions, see
:func:`sum_position_gradients`.

The wiring cost ``L_cost = strength * sum_ij |w_ij| dist_ij`` has the same
shape, with ``|w_ij|`` in place of ``G_ij`` and ``strength`` in place of
``scale``; both share :func:`_distance_chain_rule`.
"""
import numpy as np

from .geometry import (check_finite_scalar, clamp_mask, displacement,
                       distance_from_displacement)


def _check_synapse_values(values, expected_shape, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != expected_shape:
        raise ValueError(f"{name} must have one value per synapse, shape "
                         f"{expected_shape} (dense: (N_pre, N_post), "
                         f"sparse: (n_syn,)), not {values.shape}")
    return values


def _unit_directions(disp: np.ndarray, dist: np.ndarray) -> np.ndarray:
    # (x_post - x_pre) / dist, defined as 0 where dist == 0 (coincident
    # neurons with eps = 0): the distance has no gradient there to follow
    dist = dist[..., np.newaxis]
    return np.divide(disp, dist, out=np.zeros_like(disp), where=dist > 0.0)


def _distance_chain_rule(synapse_grad, disp, dist, n_pre, n_post,
                         pre_ind, post_ind):
    """Pull dL/d(dist) of every synapse back to the two sets of positions.

    Returns ``(pre_grad, post_grad)`` with
    ``pre_grad[i] = -sum_j synapse_grad_ij u_ij`` and
    ``post_grad[j] = +sum_i synapse_grad_ij u_ij``, where
    ``u_ij = (x_j - x_i) / dist_ij``.
    """
    contributions = synapse_grad[..., np.newaxis] * _unit_directions(disp,
                                                                    dist)
    if pre_ind is None:
        return -contributions.sum(axis=1), contributions.sum(axis=0)

    pre_ind = np.asarray(pre_ind, dtype=np.int64)
    post_ind = np.asarray(post_ind, dtype=np.int64)
    dimensions = disp.shape[-1]
    pre_grad = np.empty((n_pre, dimensions))
    post_grad = np.empty((n_post, dimensions))
    for k in range(dimensions):
        pre_grad[:, k] = -np.bincount(pre_ind, weights=contributions[:, k],
                                      minlength=n_pre)
        post_grad[:, k] = np.bincount(post_ind, weights=contributions[:, k],
                                      minlength=n_post)
    return pre_grad, post_grad


def position_gradients(delay_gradient, pre_positions, post_positions,
                       scale: float, offset: float = 0.0, eps: float = 0.0,
                       max_delay_steps: int = None, pre_ind=None,
                       post_ind=None):
    """Gradients of the loss with respect to the pre and post positions of
    one spatial connection, from its per-synapse delay gradients.

    ``dL/dx_i = scale * sum_j G_ij (x_i - x_j) / dist_ij`` (pre) and
    ``dL/dx_j = scale * sum_i G_ij (x_j - x_i) / dist_ij`` (post).
    The rounding of the delay is passed straight through; where
    ``max_delay_steps`` is given, synapses whose continuous delay lies
    outside ``[0, max_delay_steps]`` (see
    :func:`~ml_genn_spatial.geometry.clamp_mask`) contribute nothing. Where
    two neurons coincide and ``eps == 0`` the distance has no gradient and
    the synapse contributes zero.

    Args:
        delay_gradient: G, dL/d(delay) of every synapse [loss / timestep];
            dense shape ``(N_pre, N_post)``, sparse shape ``(n_syn,)``
        pre_positions: presynaptic positions, shape ``(N_pre, D)``
            [space units]
        post_positions: postsynaptic positions, shape ``(N_post, D)``
            [space units]
        scale: delay per unit distance [timesteps / space unit]
        offset: delay at zero distance [timesteps]; only used for the clamp
        eps: softening length of the distance [space units]
        max_delay_steps: largest delay of the synapse group [timesteps], or
            None to ignore the clamp
        pre_ind: presynaptic index of each synapse (sparse), or None (dense)
        post_ind: postsynaptic index of each synapse (sparse), or None (dense)

    Returns:
        ``(pre_grad, post_grad)`` of shapes ``(N_pre, D)`` and
        ``(N_post, D)`` [loss / space unit]
    """
    scale = check_finite_scalar(scale, "scale")
    offset = check_finite_scalar(offset, "offset")
    disp = displacement(pre_positions, post_positions, pre_ind, post_ind)
    dist = distance_from_displacement(disp, eps)
    delay_gradient = _check_synapse_values(delay_gradient, dist.shape,
                                           "delay_gradient")
    synapse_grad = scale * delay_gradient
    if max_delay_steps is not None:
        synapse_grad = np.where(
            clamp_mask(dist, scale, offset, max_delay_steps), 0.0,
            synapse_grad)
    return _distance_chain_rule(synapse_grad, disp, dist,
                                len(pre_positions), len(post_positions),
                                pre_ind, post_ind)


def sum_position_gradients(*grads) -> np.ndarray:
    """Total position gradient of one population from its connections.

    A neuron's position is shared by every spatial connection that touches
    it, so its gradient is the sum of their contributions; for a recurrent
    connection (one population on both sides) that is
    ``pre_grad + post_grad``.

    Args:
        grads: position gradients of one population, each of shape
            ``(N, D)`` [loss / space unit]

    Returns:
        float64 array of shape ``(N, D)``
    """
    if not grads:
        raise ValueError("sum_position_gradients needs at least one gradient")
    arrays = [np.asarray(g, dtype=np.float64) for g in grads]
    for array in arrays[1:]:
        if array.shape != arrays[0].shape:
            raise ValueError(f"position gradients of one population must "
                             f"share one shape (N, D); got {arrays[0].shape} "
                             f"and {array.shape}")
    return np.sum(arrays, axis=0)


def _check_strength(strength) -> float:
    return check_finite_scalar(strength, "strength", minimum=0.0)


def wiring_cost(weights, pre_positions, post_positions, strength: float,
                eps: float = 0.0, pre_ind=None, post_ind=None) -> float:
    """Wiring cost ``strength * sum_ij |w_ij| * dist_ij``.

    Args:
        weights: synaptic weights, dense shape ``(N_pre, N_post)`` or sparse
            shape ``(n_syn,)``; None to sum the distances of all existing
            synapses (every pair when dense)
        pre_positions: presynaptic positions, shape ``(N_pre, D)``
            [space units]
        post_positions: postsynaptic positions, shape ``(N_post, D)``
            [space units]
        strength: lambda, the cost per unit of ``|w| * distance`` (>= 0)
        eps: softening length of the distance [space units]
        pre_ind: presynaptic index of each synapse (sparse), or None (dense)
        post_ind: postsynaptic index of each synapse (sparse), or None (dense)

    Returns:
        the cost, a float
    """
    strength = _check_strength(strength)
    dist = distance_from_displacement(
        displacement(pre_positions, post_positions, pre_ind, post_ind), eps)
    if weights is None:
        return strength * float(np.sum(dist))
    weights = _check_synapse_values(weights, dist.shape, "weights")
    return strength * float(np.sum(np.abs(weights) * dist))


def wiring_cost_gradients(weights, pre_positions, post_positions,
                          strength: float, eps: float = 0.0, pre_ind=None,
                          post_ind=None):
    """Gradients of :func:`wiring_cost` with respect to the positions and
    the weights.

    ``d/dx_i = strength * sum_j |w_ij| (x_i - x_j) / dist_ij``,
    ``d/dx_j = strength * sum_i |w_ij| (x_j - x_i) / dist_ij`` and
    ``d/dw_ij = strength * sign(w_ij) * dist_ij`` (0 at ``w_ij == 0``).

    Args:
        weights: synaptic weights, dense shape ``(N_pre, N_post)`` or sparse
            shape ``(n_syn,)``; None for the weight-free cost
        pre_positions: presynaptic positions, shape ``(N_pre, D)``
            [space units]
        post_positions: postsynaptic positions, shape ``(N_post, D)``
            [space units]
        strength: lambda, the cost per unit of ``|w| * distance`` (>= 0)
        eps: softening length of the distance [space units]
        pre_ind: presynaptic index of each synapse (sparse), or None (dense)
        post_ind: postsynaptic index of each synapse (sparse), or None (dense)

    Returns:
        ``(pre_grad, post_grad, weight_grad)``: shapes ``(N_pre, D)``,
        ``(N_post, D)`` and that of ``weights`` (None when weights is None)
    """
    strength = _check_strength(strength)
    disp = displacement(pre_positions, post_positions, pre_ind, post_ind)
    dist = distance_from_displacement(disp, eps)
    if weights is None:
        abs_weights = np.ones(dist.shape)
        weight_grad = None
    else:
        weights = _check_synapse_values(weights, dist.shape, "weights")
        abs_weights = np.abs(weights)
        weight_grad = strength * np.sign(weights) * dist
    pre_grad, post_grad = _distance_chain_rule(
        strength * abs_weights, disp, dist, len(pre_positions),
        len(post_positions), pre_ind, post_ind)
    return pre_grad, post_grad, weight_grad
