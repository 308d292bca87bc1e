"""Tests of ml_genn_spatial.geometry against independent computations."""
import ctypes
import ctypes.util
import itertools
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from ml_genn_spatial.geometry import (clamp_mask, delay_steps, displacement,
                                      distance, grid_side, raw_delay,
                                      regular_grid, round_half_away,
                                      spread_box, uniform_ball, uniform_box,
                                      validate_positions)

DIMENSIONS = [1, 2, 3, 8]


def _half_up(value: float) -> float:
    # Decimal(float) is exact and ROUND_HALF_UP rounds halves away from zero
    return float(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _loop_distance(a, b, eps):
    return math.sqrt(sum((p - q) ** 2 for p, q in zip(a, b)) + eps ** 2)


# ----------------------------------------------------------------------------
# Distances
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dimensions", DIMENSIONS)
@pytest.mark.parametrize("eps", [0.0, 0.25])
def test_dense_distance_matches_loop(dimensions, eps):
    rng = np.random.default_rng(1)
    pre = rng.uniform(-1, 1, (5, dimensions))
    post = rng.uniform(-1, 1, (4, dimensions))
    dist = distance(pre, post, eps=eps)
    assert dist.shape == (5, 4)
    for i in range(5):
        for j in range(4):
            assert dist[i, j] == pytest.approx(
                _loop_distance(pre[i], post[j], eps), rel=1e-13)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_sparse_distance_and_displacement_match_loop(dimensions):
    rng = np.random.default_rng(2)
    pre = rng.uniform(-1, 1, (6, dimensions))
    post = rng.uniform(-1, 1, (3, dimensions))
    pre_ind = rng.integers(0, 6, 20)
    post_ind = rng.integers(0, 3, 20)
    dist = distance(pre, post, eps=0.1, pre_ind=pre_ind, post_ind=post_ind)
    disp = displacement(pre, post, pre_ind=pre_ind, post_ind=post_ind)
    assert dist.shape == (20,)
    assert disp.shape == (20, dimensions)
    for s, (i, j) in enumerate(zip(pre_ind, post_ind)):
        assert dist[s] == pytest.approx(
            _loop_distance(pre[i], post[j], 0.1), rel=1e-13)
        for k in range(dimensions):
            assert disp[s, k] == post[j, k] - pre[i, k]


def test_dense_displacement_points_from_pre_to_post():
    pre = np.array([[0.0, 0.0], [1.0, 2.0]])
    post = np.array([[3.0, -1.0]])
    disp = displacement(pre, post)
    assert disp.shape == (2, 1, 2)
    np.testing.assert_array_equal(disp[:, 0, :], [[3.0, -1.0], [2.0, -3.0]])


def test_distance_of_coincident_points_is_eps():
    x = np.array([[0.3, -0.2, 0.1]])
    assert distance(x, x)[0, 0] == 0.0
    assert distance(x, x, eps=0.5)[0, 0] == 0.5


def test_distance_rejects_different_spaces():
    with pytest.raises(ValueError, match="must share one space"):
        distance(np.zeros((3, 2)), np.zeros((3, 3)))


def test_distance_rejects_negative_eps():
    with pytest.raises(ValueError, match="eps must be >= 0"):
        distance(np.zeros((2, 2)), np.ones((2, 2)), eps=-0.1)


@pytest.mark.parametrize("pre_ind, post_ind, match", [
    ([0, 1], None, "both pre_ind and post_ind"),
    ([0, 3], [0, 0], r"pre_ind must lie in \[0, 3\)"),
    ([0, 1], [0, -1], r"post_ind must lie in \[0, 2\)"),
    ([0.0, 1.0], [0, 1], "pre_ind must hold integers"),
    ([0, 1, 2], [0, 1], "one entry per synapse"),
    ([[0, 1]], [[0, 1]], "1-D array of neuron indices"),
])
def test_sparse_indices_are_validated(pre_ind, post_ind, match):
    with pytest.raises(ValueError, match=match):
        displacement(np.zeros((3, 2)), np.ones((2, 2)), pre_ind=pre_ind,
                     post_ind=post_ind)


# ----------------------------------------------------------------------------
# Rounding and delays
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (2.5, 3.0), (0.5, 1.0), (1.5, 2.0), (-0.5, -1.0), (-2.5, -3.0),
    (2.4999999, 2.0), (0.49999999999999994, 0.0), (-1.2, -1.0),
    (3.0, 3.0), (0.0, 0.0), (4503599627370497.0, 4503599627370497.0),
])
def test_round_half_away_table(value, expected):
    assert round_half_away(value) == expected


def test_round_half_away_differs_from_numpy_round_on_halves():
    halves = np.array([0.5, 2.5, 4.5, -0.5, -2.5])
    np.testing.assert_array_equal(round_half_away(halves),
                                  [1.0, 3.0, 5.0, -1.0, -3.0])
    # The reason the helper exists: np.round rounds these to even
    assert not np.array_equal(np.round(halves), round_half_away(halves))


def test_round_half_away_matches_decimal_on_random_values():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.uniform(-50, 50, 500),
                             rng.integers(-50, 50, 200) + 0.5])
    rounded = round_half_away(values)
    assert rounded.shape == values.shape
    for value, result in zip(values, rounded):
        assert result == _half_up(float(value))


_LIBM = ctypes.util.find_library("m")


@pytest.mark.skipif(_LIBM is None, reason="C maths library not found")
def test_round_half_away_matches_c_round_and_roundf():
    libm = ctypes.CDLL(_LIBM)
    libm.round.restype = ctypes.c_double
    libm.round.argtypes = [ctypes.c_double]
    libm.roundf.restype = ctypes.c_float
    libm.roundf.argtypes = [ctypes.c_float]
    rng = np.random.default_rng(4)
    values = np.concatenate([rng.uniform(-20, 20, 300),
                             np.arange(-10, 10) + 0.5,
                             [0.49999999999999994, -0.49999999999999994]])
    for value, result in zip(values, round_half_away(values)):
        assert result == libm.round(float(value))
    values32 = values.astype(np.float32)
    rounded32 = round_half_away(values32)
    assert rounded32.dtype == np.float32
    for value, result in zip(values32, rounded32):
        assert result == libm.roundf(float(value))


def test_raw_delay_is_affine():
    dist = np.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(raw_delay(dist, 4.0, offset=1.5),
                               [1.5, 3.5, 9.5])


def test_delay_steps_matches_loop():
    rng = np.random.default_rng(5)
    dist = rng.uniform(0, 3, (7, 9))
    scale, offset, max_delay = 6.3, -2.0, 12
    delays = delay_steps(dist, scale, offset, max_delay_steps=max_delay)
    assert delays.dtype == np.int64
    assert delays.shape == dist.shape
    for i in range(7):
        for j in range(9):
            raw = offset + scale * float(dist[i, j])
            expected = min(max(int(_half_up(raw)), 0), max_delay)
            assert delays[i, j] == expected
    # Both ends of the clamp are reached with these numbers
    assert delays.min() == 0 and delays.max() == max_delay


def test_delay_steps_rounds_halves_away_and_clamps():
    dist = np.array([0.25, 0.625, 1.25, 5.0, 0.0])
    # raw = 4 * dist - 0.5: 0.5, 2.0, 4.5, 19.5, -0.5
    np.testing.assert_array_equal(
        delay_steps(dist, 4.0, offset=-0.5, max_delay_steps=10),
        [1, 2, 5, 10, 0])


def test_clamp_mask_uses_continuous_bounds():
    # raw = dist - 1: -1, -1e-9, 0, 5, 5 + 1e-9, 7
    dist = np.array([0.0, 1.0 - 1e-9, 1.0, 6.0, 6.0 + 1e-9, 8.0])
    mask = clamp_mask(dist, 1.0, offset=-1.0, max_delay_steps=5)
    np.testing.assert_array_equal(mask, [True, True, False, False, True,
                                         True])
    # raw = -1e-9 rounds to a delay of 0, yet the clamp is what set it
    assert delay_steps(dist, 1.0, -1.0, max_delay_steps=5)[1] == 0


@pytest.mark.parametrize("function", [delay_steps, clamp_mask])
@pytest.mark.parametrize("kwargs, match", [
    (dict(scale=np.nan, max_delay_steps=5), "scale must be finite"),
    (dict(scale=np.inf, max_delay_steps=5), "scale must be finite"),
    (dict(scale=[1.0, 2.0], max_delay_steps=5), "scale must be a finite"),
    (dict(scale=1.0, offset=np.nan, max_delay_steps=5),
     "offset must be finite"),
    (dict(scale=1.0, max_delay_steps=-1), "max_delay_steps must be >= 0"),
    (dict(scale=1.0, max_delay_steps=2.0), "max_delay_steps must be an int"),
    (dict(scale=1.0, max_delay_steps=True), "max_delay_steps must be an int"),
    (dict(scale=1.0), "max_delay_steps is required"),
])
def test_delay_arguments_are_validated(function, kwargs, match):
    with pytest.raises(ValueError, match=match):
        function(np.ones(3), **kwargs)


def test_delay_steps_rejects_non_finite_distance():
    with pytest.raises(ValueError, match="finite"):
        delay_steps(np.array([1.0, np.nan]), 1.0, max_delay_steps=4)


def test_max_delay_steps_accepts_numpy_int():
    np.testing.assert_array_equal(
        delay_steps([3.0], 2.0, max_delay_steps=np.int32(4)), [4])


# ----------------------------------------------------------------------------
# Initialisers
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_uniform_box_within_per_axis_bounds(dimensions):
    low = np.linspace(-3.0, 0.0, dimensions)
    high = low + np.linspace(0.5, 2.0, dimensions)
    positions = uniform_box(2000, dimensions, low, high, rng=6)
    assert positions.shape == (2000, dimensions)
    assert positions.dtype == np.float64
    assert np.all(positions >= low) and np.all(positions < high)
    # Uniform: each axis mean is the box centre (4 standard errors)
    tolerance = 4 * (high - low) / math.sqrt(12 * 2000)
    assert np.all(np.abs(positions.mean(axis=0) - (low + high) / 2)
                  < tolerance)


def test_uniform_box_reproducible_given_seed():
    a = uniform_box(10, 3, rng=7)
    b = uniform_box(10, 3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, uniform_box(10, 3, rng=8))


def _smallest_gap(positions):
    return min(np.linalg.norm(a - b)
               for a, b in itertools.combinations(positions, 2))


def test_spread_box_is_the_most_spread_of_its_draws():
    rng = np.random.default_rng(3)
    draws = [rng.uniform(-1.0, 1.0, size=(3, 2)) for _ in range(20)]
    best = max(draws, key=_smallest_gap)
    np.testing.assert_array_equal(spread_box(3, 2, draws=20, rng=3), best)
    # One draw is a uniform draw
    np.testing.assert_array_equal(spread_box(4, 3, draws=1, rng=5),
                                  uniform_box(4, 3, rng=5))
    # Over seeds, the closest two neurons are farther apart than in
    # uniform draws
    spread = [_smallest_gap(spread_box(3, 3, draws=50, rng=s))
              for s in range(30)]
    uniform = [_smallest_gap(uniform_box(3, 3, rng=s)) for s in range(30)]
    assert min(spread) > np.median(uniform)
    positions = spread_box(5, 2, low=0.0, high=0.5, draws=10, rng=1)
    assert np.all((positions >= 0.0) & (positions < 0.5))
    assert spread_box(1, 2, rng=1).shape == (1, 2)
    with pytest.raises(ValueError, match="draws must be >= 1"):
        spread_box(3, 2, draws=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(low=1.0, high=1.0), "low bound must be below"),
    (dict(low=[0.0, 0.0, 0.0], high=1.0), "length 2"),
    (dict(low=-np.inf), "low must be finite"),
    (dict(rng="seed"), "rng must be"),
])
def test_uniform_box_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        uniform_box(5, 2, **kwargs)


@pytest.mark.parametrize("n, dimensions, match", [
    (-1, 2, "n must be >= 0"), (2.0, 2, "n must be an int"),
    (5, 0, "dimensions must be >= 1"), (5, 1.5, "dimensions must be an int"),
])
def test_initialisers_reject_bad_sizes(n, dimensions, match):
    for initialiser in (uniform_box, uniform_ball, regular_grid):
        with pytest.raises(ValueError, match=match):
            initialiser(n, dimensions)


@pytest.mark.parametrize("dimensions", [1, 2, 3])
def test_uniform_ball_is_uniform_in_volume(dimensions):
    n = 20000
    radius = 2.0
    centre = np.arange(dimensions) * 0.5
    positions = uniform_ball(n, dimensions, radius=radius, centre=centre,
                             rng=9)
    assert positions.shape == (n, dimensions)
    norms = np.linalg.norm(positions - centre, axis=1)
    assert np.all(norms <= radius)
    # Volume fraction of the ball of radius q * R is q^D
    for q in (0.5, 0.8):
        expected = q ** dimensions
        tolerance = 5 * math.sqrt(expected * (1 - expected) / n)
        assert abs(np.mean(norms <= q * radius) - expected) < tolerance
    # Isotropic: the mean sits at the centre
    assert np.all(np.abs(positions.mean(axis=0) - centre)
                  < 5 * radius / math.sqrt(n))


def test_uniform_ball_fraction_test_can_fail():
    # Points uniform in radius (not in volume) must fail the same check
    rng = np.random.default_rng(10)
    norms = rng.uniform(0, 1, 20000)
    expected = 0.5 ** 2
    tolerance = 5 * math.sqrt(expected * (1 - expected) / 20000)
    assert abs(np.mean(norms <= 0.5) - expected) > tolerance


def test_uniform_ball_reproducible_and_validated():
    np.testing.assert_array_equal(uniform_ball(8, 3, rng=11),
                                  uniform_ball(8, 3, rng=11))
    with pytest.raises(ValueError, match="radius must be > 0"):
        uniform_ball(8, 3, radius=0.0)
    with pytest.raises(ValueError, match="centre must be a scalar or have"):
        uniform_ball(8, 3, centre=[0.0, 0.0])


@pytest.mark.parametrize("n, dimensions, side", [
    (0, 2, 1), (1, 3, 1), (4, 2, 2), (5, 2, 3), (9, 2, 3), (10, 2, 4),
    (27, 3, 3), (28, 3, 4), (7, 1, 7), (3, 100, 2), (1000000, 3, 100),
    (1000001, 3, 101),
])
def test_grid_side_is_smallest(n, dimensions, side):
    assert grid_side(n, dimensions) == side


@pytest.mark.parametrize("n, dimensions", [(9, 2), (10, 2), (8, 3), (5, 1),
                                           (20, 3)])
def test_regular_grid_is_cell_centred_c_order(n, dimensions):
    low = np.array([-1.0, 0.0, 2.0])[:dimensions]
    high = np.array([1.0, 3.0, 2.5])[:dimensions]
    positions = regular_grid(n, dimensions, low, high)
    side = next(m for m in itertools.count(1) if m ** dimensions >= n)
    expected = []
    for cell in itertools.islice(
            itertools.product(range(side), repeat=dimensions), n):
        expected.append([low[k] + (c + 0.5) * (high[k] - low[k]) / side
                         for k, c in enumerate(cell)])
    assert positions.shape == (n, dimensions)
    np.testing.assert_allclose(positions, np.reshape(expected,
                                                     (n, dimensions)),
                               rtol=0, atol=1e-14)
    assert np.all(positions > low) and np.all(positions < high)


def test_regular_grid_three_by_three():
    positions = regular_grid(9, 2)
    values = [-2.0 / 3.0, 0.0, 2.0 / 3.0]
    np.testing.assert_allclose(positions,
                               [[a, b] for a in values for b in values],
                               atol=1e-15)


def test_regular_grid_high_dimension_does_not_overflow():
    positions = regular_grid(3, 100)
    assert positions.shape == (3, 100)
    np.testing.assert_array_equal(positions[0], -0.5)
    np.testing.assert_array_equal(positions[1, :-1], -0.5)
    assert positions[1, -1] == 0.5


# ----------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------
def test_validate_positions_returns_float64_copy():
    source = np.array([[1, 2], [3, 4]], dtype=np.int32)
    result = validate_positions(source, n=2, dimensions=2)
    assert result.dtype == np.float64
    result[0, 0] = 99.0
    assert source[0, 0] == 1
    floats = np.zeros((2, 2))
    copy = validate_positions(floats)
    copy[0, 0] = 1.0
    assert floats[0, 0] == 0.0


@pytest.mark.parametrize("positions, kwargs, match", [
    (np.zeros(4), {}, "2-D array of shape"),
    (np.zeros((2, 2, 2)), {}, "2-D array of shape"),
    (np.zeros((3, 0)), {}, r"at least one dimension \(D >= 1\)"),
    (np.zeros((3, 2)), dict(n=4), "expected 4 rows, got 3"),
    (np.zeros((3, 2)), dict(dimensions=3), "must have 3 columns"),
    (np.array([[0.0, np.nan]]), {}, "must be finite"),
    (np.array([[np.inf, 0.0]]), {}, "must be finite"),
    ([["a", "b"]], {}, "must be a real array"),
    (np.zeros((3, 2)), dict(dimensions=0), "dimensions must be >= 1"),
])
def test_validate_positions_errors(positions, kwargs, match):
    with pytest.raises(ValueError, match=match):
        validate_positions(positions, **kwargs)


def test_validate_positions_names_the_array():
    with pytest.raises(ValueError, match="hidden positions must be a 2-D"):
        validate_positions(np.zeros(3), name="hidden positions")
