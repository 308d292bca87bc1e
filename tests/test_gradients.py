"""Tests of ml_genn_spatial.gradients against finite differences and loops.

The losses below are written out in the tests with plain NumPy (never with
the functions under test), and their gradients are taken by central finite
differences.
"""
import numpy as np
import pytest

from ml_genn_spatial.gradients import (position_gradients,
                                       sum_position_gradients, wiring_cost,
                                       wiring_cost_gradients)

DIMENSIONS = [1, 2, 3, 8]
STEP = 1e-6


def _pair_distances(pre, post, eps, pre_ind=None, post_ind=None):
    if pre_ind is None:
        diff = pre[:, None, :] - post[None, :, :]
    else:
        diff = pre[pre_ind] - post[post_ind]
    return np.sqrt(np.sum(diff ** 2, axis=-1) + eps ** 2)


def _delay_loss(coefficients, pre, post, scale, offset, eps, pre_ind=None,
                post_ind=None):
    # L = sum_s c_s * (offset + scale * dist_s): the continuous delay map
    dist = _pair_distances(pre, post, eps, pre_ind, post_ind)
    return np.sum(coefficients * (offset + scale * dist))


def _finite_difference(loss, positions):
    grad = np.zeros_like(positions)
    for index in np.ndindex(positions.shape):
        plus = positions.copy()
        minus = positions.copy()
        plus[index] += STEP
        minus[index] -= STEP
        grad[index] = (loss(plus) - loss(minus)) / (2 * STEP)
    return grad


def _random_problem(dimensions, sparse, seed, n_pre=5, n_post=4, n_syn=15):
    rng = np.random.default_rng(seed)
    pre = rng.uniform(-1, 1, (n_pre, dimensions))
    post = rng.uniform(-1, 1, (n_post, dimensions))
    if sparse:
        # Repeated (pre, post) pairs are allowed and must accumulate
        pre_ind = rng.integers(0, n_pre, n_syn)
        post_ind = rng.integers(0, n_post, n_syn)
        coefficients = rng.normal(size=n_syn)
    else:
        pre_ind = post_ind = None
        coefficients = rng.normal(size=(n_pre, n_post))
    return rng, pre, post, pre_ind, post_ind, coefficients


# ----------------------------------------------------------------------------
# Chain rule for delay gradients
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dimensions", DIMENSIONS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_position_gradients_match_finite_differences(dimensions, sparse, eps):
    _, pre, post, pre_ind, post_ind, c = _random_problem(dimensions, sparse,
                                                         seed=dimensions)
    scale, offset = 7.5, 1.25
    pre_grad, post_grad = position_gradients(
        c, pre, post, scale, offset=offset, eps=eps, pre_ind=pre_ind,
        post_ind=post_ind)
    assert pre_grad.shape == pre.shape and post_grad.shape == post.shape

    fd_pre = _finite_difference(
        lambda x: _delay_loss(c, x, post, scale, offset, eps, pre_ind,
                              post_ind), pre)
    fd_post = _finite_difference(
        lambda x: _delay_loss(c, pre, x, scale, offset, eps, pre_ind,
                              post_ind), post)
    np.testing.assert_allclose(pre_grad, fd_pre, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(post_grad, fd_post, rtol=1e-6, atol=1e-7)


def test_sparse_equals_dense_with_the_same_synapses():
    _, pre, post, _, _, c = _random_problem(3, sparse=False, seed=20)
    pre_ind, post_ind = np.nonzero(np.ones_like(c, dtype=bool))
    dense = position_gradients(c, pre, post, 2.0, eps=0.1)
    sparse = position_gradients(c[pre_ind, post_ind], pre, post, 2.0,
                                eps=0.1, pre_ind=pre_ind, post_ind=post_ind)
    for a, b in zip(dense, sparse):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dimensions", [1, 2, 3])
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_recurrent_gradient_is_pre_plus_post(dimensions, eps):
    # One population on both sides, self-synapses included: with eps = 0 the
    # diagonal has zero distance and must not spoil the gradient
    rng = np.random.default_rng(21 + dimensions)
    x = rng.uniform(-1, 1, (6, dimensions))
    c = rng.normal(size=(6, 6))
    scale = 3.0
    with np.errstate(all="raise"):
        pre_grad, post_grad = position_gradients(c, x, x, scale, eps=eps)
    total = sum_position_gradients(pre_grad, post_grad)
    # Self-synapses have a constant distance (eps), so dropping them from
    # the finite-difference loss changes nothing but keeps it smooth
    off_diagonal = c * (1 - np.eye(6))
    fd = _finite_difference(
        lambda y: _delay_loss(off_diagonal, y, y, scale, 0.0, eps), x)
    np.testing.assert_allclose(total, fd, rtol=1e-6, atol=1e-7)
    # Translation invariance of a closed system
    np.testing.assert_allclose(total.sum(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_gradients_of_one_connection_sum_to_zero(sparse):
    _, pre, post, pre_ind, post_ind, c = _random_problem(3, sparse, seed=22)
    pre_grad, post_grad = position_gradients(c, pre, post, 4.0, eps=0.05,
                                             pre_ind=pre_ind,
                                             post_ind=post_ind)
    np.testing.assert_allclose(pre_grad.sum(axis=0) + post_grad.sum(axis=0),
                               0.0, atol=1e-12)


def test_swapping_pre_and_post_swaps_the_gradients():
    _, pre, post, _, _, c = _random_problem(2, sparse=False, seed=23)
    pre_grad, post_grad = position_gradients(c, pre, post, 5.0)
    swapped_pre, swapped_post = position_gradients(c.T, post, pre, 5.0)
    np.testing.assert_allclose(swapped_pre, post_grad, rtol=1e-12)
    np.testing.assert_allclose(swapped_post, pre_grad, rtol=1e-12)


def test_single_synapse_gradients_are_equal_and_opposite():
    pre = np.array([[0.0, 0.0]])
    post = np.array([[3.0, 4.0]])
    pre_grad, post_grad = position_gradients(np.array([[2.0]]), pre, post,
                                             scale=0.5)
    # scale * G * unit vector from pre to post = 0.5 * 2 * (0.6, 0.8)
    np.testing.assert_allclose(post_grad, [[0.6, 0.8]], rtol=1e-14)
    np.testing.assert_allclose(pre_grad, [[-0.6, -0.8]], rtol=1e-14)
    # Moving the positions' roles flips the sign of the pair
    pre_grad2, post_grad2 = position_gradients(np.array([[2.0]]), post, pre,
                                               scale=0.5)
    np.testing.assert_allclose(pre_grad2, -pre_grad, rtol=1e-14)
    np.testing.assert_allclose(post_grad2, -post_grad, rtol=1e-14)


@pytest.mark.parametrize("sparse", [False, True])
def test_clamped_synapses_give_no_gradient(sparse):
    rng, pre, post, pre_ind, post_ind, c = _random_problem(
        2, sparse, seed=24, n_pre=8, n_post=7, n_syn=40)
    scale, offset, max_delay = 6.0, -2.0, 8
    # raw = 6 dist - 2 over dist in [0, 2.8]: both clamps are active here
    dist = _pair_distances(pre, post, 0.0, pre_ind, post_ind)
    raw = offset + scale * dist
    clamped = (raw < 0) | (raw > max_delay)
    assert 0 < clamped.sum() < clamped.size
    assert np.any(raw < 0) and np.any(raw > max_delay)

    pre_grad, post_grad = position_gradients(
        c, pre, post, scale, offset=offset, max_delay_steps=max_delay,
        pre_ind=pre_ind, post_ind=post_ind)
    free = np.where(clamped, 0.0, c)
    fd_pre = _finite_difference(
        lambda x: _delay_loss(free, x, post, scale, offset, 0.0, pre_ind,
                              post_ind), pre)
    fd_post = _finite_difference(
        lambda x: _delay_loss(free, pre, x, scale, offset, 0.0, pre_ind,
                              post_ind), post)
    np.testing.assert_allclose(pre_grad, fd_pre, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(post_grad, fd_post, rtol=1e-6, atol=1e-7)

    # Gradient only on clamped synapses: nothing reaches the positions
    only_clamped = np.where(clamped, c, 0.0)
    pre_grad, post_grad = position_gradients(
        only_clamped, pre, post, scale, offset=offset,
        max_delay_steps=max_delay, pre_ind=pre_ind, post_ind=post_ind)
    np.testing.assert_array_equal(pre_grad, 0.0)
    np.testing.assert_array_equal(post_grad, 0.0)


def test_without_max_delay_steps_nothing_is_masked():
    pre = np.array([[0.0]])
    post = np.array([[10.0]])
    # raw delay 100 would be clamped by any small max_delay_steps
    pre_grad, post_grad = position_gradients(np.array([[1.0]]), pre, post,
                                             10.0)
    assert post_grad[0, 0] == 10.0 and pre_grad[0, 0] == -10.0
    pre_grad, post_grad = position_gradients(np.array([[1.0]]), pre, post,
                                             10.0, max_delay_steps=50)
    assert post_grad[0, 0] == 0.0 and pre_grad[0, 0] == 0.0


def test_coincident_neurons_without_eps_give_finite_zero_gradient():
    x = np.array([[0.2, -0.4], [0.2, -0.4], [1.0, 0.0]])
    c = np.ones((3, 3))
    with np.errstate(all="raise"):
        pre_grad, post_grad = position_gradients(c, x, x, scale=1.0)
    assert np.all(np.isfinite(pre_grad)) and np.all(np.isfinite(post_grad))
    # Neurons 0 and 1 coincide: only neuron 2 pulls on them, along the
    # unit vector u = (0.8, 0.4) / |(0.8, 0.4)| from them to neuron 2
    u = np.array([0.8, 0.4]) / np.hypot(0.8, 0.4)
    np.testing.assert_allclose(pre_grad[0], -u, rtol=1e-14)
    np.testing.assert_allclose(post_grad[0], -u, rtol=1e-14)


def test_eps_softens_the_gradient_near_zero_distance():
    pre = np.array([[0.0, 0.0, 0.0]])
    for d, eps in [(1e-3, 0.1), (0.5, 0.1), (0.0, 0.1), (1e-3, 0.0)]:
        post = np.array([[d, 0.0, 0.0]])
        _, post_grad = position_gradients(np.array([[1.0]]), pre, post,
                                          scale=2.0, eps=eps)
        expected = 2.0 * d / np.sqrt(d * d + eps * eps) if d > 0 else 0.0
        np.testing.assert_allclose(post_grad, [[expected, 0.0, 0.0]],
                                   rtol=1e-13, atol=0.0)


def test_gradient_scales_linearly_with_scale():
    _, pre, post, _, _, c = _random_problem(2, sparse=False, seed=25)
    a = position_gradients(c, pre, post, 1.0)[0]
    b = position_gradients(c, pre, post, -3.0)[0]
    np.testing.assert_allclose(b, -3.0 * a, rtol=1e-13)


@pytest.mark.parametrize("kwargs, match", [
    (dict(delay_gradient=np.ones((4, 5))), "one value per synapse"),
    (dict(post_positions=np.zeros((4, 3))), "must share one space"),
    (dict(scale=np.nan), "scale must be finite"),
    (dict(eps=-1.0), "eps must be >= 0"),
    (dict(max_delay_steps=-2), "max_delay_steps must be >= 0"),
    (dict(pre_ind=[0, 1]), "both pre_ind and post_ind"),
])
def test_position_gradients_validate_arguments(kwargs, match):
    arguments = dict(delay_gradient=np.ones((5, 4)),
                     pre_positions=np.zeros((5, 2)),
                     post_positions=np.ones((4, 2)), scale=1.0)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        position_gradients(**arguments)


def test_sum_position_gradients():
    a = np.arange(6.0).reshape(3, 2)
    b = np.ones((3, 2))
    np.testing.assert_array_equal(sum_position_gradients(a, b, b),
                                  a + 2.0)
    with pytest.raises(ValueError, match="share one shape"):
        sum_position_gradients(a, np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least one"):
        sum_position_gradients()


# ----------------------------------------------------------------------------
# Wiring cost
# ----------------------------------------------------------------------------
def _away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, shape)


@pytest.mark.parametrize("sparse", [False, True])
def test_wiring_cost_matches_loop(sparse):
    rng, pre, post, pre_ind, post_ind, c = _random_problem(3, sparse,
                                                           seed=26)
    weights = _away_from_zero(rng, c.shape)
    cost = wiring_cost(weights, pre, post, 0.3, eps=0.1, pre_ind=pre_ind,
                       post_ind=post_ind)
    pairs = (zip(pre_ind, post_ind) if sparse
             else np.ndindex(len(pre), len(post)))
    expected = 0.0
    unweighted = 0.0
    for s, (i, j) in enumerate(pairs):
        dist = np.sqrt(sum((pre[i, k] - post[j, k]) ** 2 for k in range(3))
                       + 0.01)
        w = weights[s] if sparse else weights[i, j]
        expected += abs(w) * dist
        unweighted += dist
    assert cost == pytest.approx(0.3 * expected, rel=1e-12)
    assert wiring_cost(None, pre, post, 0.3, eps=0.1, pre_ind=pre_ind,
                       post_ind=post_ind) == pytest.approx(0.3 * unweighted,
                                                           rel=1e-12)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
@pytest.mark.parametrize("sparse", [False, True])
def test_wiring_cost_gradients_match_finite_differences(dimensions, sparse):
    rng, pre, post, pre_ind, post_ind, c = _random_problem(
        dimensions, sparse, seed=30 + dimensions)
    weights = _away_from_zero(rng, c.shape)
    strength, eps = 0.7, 0.05

    def cost(w, x_pre, x_post):
        dist = _pair_distances(x_pre, x_post, eps, pre_ind, post_ind)
        return strength * np.sum(np.abs(w) * dist)

    d_pre, d_post, d_weights = wiring_cost_gradients(
        weights, pre, post, strength, eps=eps, pre_ind=pre_ind,
        post_ind=post_ind)
    assert d_weights.shape == weights.shape
    np.testing.assert_allclose(
        d_pre, _finite_difference(lambda x: cost(weights, x, post), pre),
        rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        d_post, _finite_difference(lambda x: cost(weights, pre, x), post),
        rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        d_weights, _finite_difference(lambda w: cost(w, pre, post), weights),
        rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True])
def test_unweighted_wiring_cost_gradients(sparse):
    _, pre, post, pre_ind, post_ind, _ = _random_problem(2, sparse, seed=40)

    def cost(x_pre, x_post):
        return 1.5 * np.sum(_pair_distances(x_pre, x_post, 0.0, pre_ind,
                                            post_ind))

    d_pre, d_post, d_weights = wiring_cost_gradients(
        None, pre, post, 1.5, pre_ind=pre_ind, post_ind=post_ind)
    assert d_weights is None
    np.testing.assert_allclose(
        d_pre, _finite_difference(lambda x: cost(x, post), pre),
        rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        d_post, _finite_difference(lambda x: cost(pre, x), post),
        rtol=1e-6, atol=1e-7)


def test_wiring_cost_weight_gradient_is_zero_at_zero_weight():
    pre = np.array([[0.0, 0.0]])
    post = np.array([[3.0, 4.0], [1.0, 0.0]])
    weights = np.array([[0.0, -2.0]])
    d_pre, d_post, d_weights = wiring_cost_gradients(weights, pre, post, 2.0)
    np.testing.assert_allclose(d_weights, [[0.0, -2.0]], rtol=1e-14)
    # The zero-weight synapse exerts no pull on its post neuron
    np.testing.assert_array_equal(d_post[0], 0.0)
    np.testing.assert_allclose(d_post[1], [4.0, 0.0], rtol=1e-14)
    np.testing.assert_allclose(d_pre[0], [-4.0, 0.0], rtol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    (dict(strength=-0.1), "strength must be >= 0"),
    (dict(strength=np.inf), "strength must be finite"),
    (dict(weights=np.ones((4, 5))), "weights must have one value"),
])
def test_wiring_cost_validates_arguments(kwargs, match):
    arguments = dict(weights=np.ones((5, 4)), pre_positions=np.zeros((5, 2)),
                     post_positions=np.ones((4, 2)), strength=1.0)
    arguments.update(kwargs)
    for function in (wiring_cost, wiring_cost_gradients):
        with pytest.raises(ValueError, match=match):
            function(**arguments)
