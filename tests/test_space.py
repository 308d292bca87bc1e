"""Tests of ml_genn_spatial.Space (pure Python, no GeNN)."""
import numpy as np
import pytest

from ml_genn_spatial import Space


# ----------------------------------------------------------------------------
# Construction and validation
# ----------------------------------------------------------------------------
def test_defaults():
    space = Space(2)
    assert space.dimensions == 2
    assert space.bounds is None and space.radius is None
    assert not space.bounded
    assert space.init == "uniform_box"
    assert space.eps == 0.0
    assert "dimensions=2" in repr(space)


@pytest.mark.parametrize("dimensions, match", [
    (0, "dimensions must be >= 1"), (-3, "dimensions must be >= 1"),
    (2.5, "dimensions must be an int"), (True, "dimensions must be an int"),
    ("2", "dimensions must be an int"),
])
def test_bad_dimensions(dimensions, match):
    with pytest.raises(ValueError, match=match):
        Space(dimensions)


@pytest.mark.parametrize("kwargs, match", [
    (dict(bounds=(1.0, -1.0)), "low bound must be below"),
    (dict(bounds=(0.0, [1.0, 2.0, 3.0])), "high must be a scalar or have "
                                          "length 2"),
    (dict(bounds=(0.0, np.inf)), "high must be finite"),
    (dict(bounds=1.0), r"bounds must be a pair \(low, high\)"),
    (dict(bounds="box"), r"bounds must be a pair \(low, high\)"),
    (dict(bounds=(0.0, 1.0, 2.0)), r"bounds must be a pair \(low, high\)"),
    (dict(bounds=(0.0, "x")), "high must be a scalar or a length-2"),
    (dict(bounds=(-1.0, 1.0), radius=1.0), "not both"),
    (dict(radius=0.0), "radius must be > 0"),
    (dict(radius=np.nan), "radius must be finite"),
    (dict(centre=[0.0, 0.0]), "give radius as well"),
    (dict(radius=1.0, centre=[0.0, 0.0, 0.0]), "centre must be a scalar"),
    (dict(eps=-0.5), "eps must be >= 0"),
    (dict(eps=np.nan), "eps must be finite"),
    (dict(rng=1.5), "rng must be"),
])
def test_bad_bounds_and_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Space(2, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init="gaussian"), "init must be one of"),
    (dict(init="uniform_box", radius=1.0), "bounded by a ball"),
    (dict(init="grid", radius=1.0), "bounded by a ball"),
    (dict(init="uniform_ball", bounds=(0.0, 1.0)), "bounded by a box"),
    (dict(init=np.zeros((4, 3))), "must have 2 columns"),
    (dict(init=np.array([[0.0, np.nan]])), "must be finite"),
    (dict(init=5), "init must be one of"),
    (dict(init=np.array([[0.0, 2.0]]), bounds=(-1.0, 1.0)),
     "inside the space's bounds; 1 of 1"),
    (dict(init=np.array([[0.0, 2.0]]), radius=1.5),
     "inside the space's bounds"),
])
def test_bad_init(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Space(2, **kwargs)


def test_validate():
    space = Space(3)
    result = space.validate([[1, 2, 3]], n=1)
    assert result.dtype == np.float64 and result.shape == (1, 3)
    with pytest.raises(ValueError, match="must have 3 columns"):
        space.validate(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected 5 rows, got 2"):
        space.validate(np.zeros((2, 3)), n=5)


# ----------------------------------------------------------------------------
# Initial positions
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dimensions", [1, 2, 3, 8])
def test_unbounded_default_fills_minus_one_to_one(dimensions):
    positions = Space(dimensions, rng=1).initial_positions(500)
    assert positions.shape == (500, dimensions)
    assert positions.dtype == np.float64
    assert np.all(positions >= -1.0) and np.all(positions <= 1.0)
    # Spread over the whole square, not a corner of it
    assert positions.min() < -0.9 and positions.max() > 0.9


def test_box_initial_positions_within_per_axis_bounds():
    low, high = np.array([0.0, -5.0, 2.0]), np.array([1.0, -4.0, 10.0])
    space = Space(3, bounds=(low, high), rng=2)
    positions = space.initial_positions(1000)
    assert np.all(positions >= low) and np.all(positions <= high)
    assert np.all(space.contains(positions))
    np.testing.assert_array_equal(space.bounds[0], low)


def test_ball_initial_positions_default_to_uniform_ball():
    centre = np.array([1.0, -2.0, 0.5])
    space = Space(3, radius=0.5, centre=centre, rng=3)
    assert space.init == "uniform_ball"
    positions = space.initial_positions(4000)
    norms = np.linalg.norm(positions - centre, axis=1)
    assert np.all(norms <= 0.5)
    # Uniform in volume: an eighth of the points within half the radius
    assert abs(np.mean(norms <= 0.25) - 0.125) < 5 * np.sqrt(
        0.125 * 0.875 / 4000)


def test_unbounded_uniform_ball_uses_unit_ball():
    positions = Space(2, init="uniform_ball", rng=4).initial_positions(500)
    assert np.all(np.linalg.norm(positions, axis=1) <= 1.0)


def test_grid_initial_positions():
    space = Space(2, bounds=(0.0, 3.0), init="grid")
    positions = space.initial_positions(9)
    values = [0.5, 1.5, 2.5]
    np.testing.assert_allclose(positions,
                               [[a, b] for a in values for b in values],
                               atol=1e-14)


def test_explicit_positions_are_copied_and_checked():
    given = np.array([[0.0, 0.5], [-0.5, 0.25]])
    space = Space(2, bounds=(-1.0, 1.0), init=given)
    given[0, 0] = 0.9
    positions = space.initial_positions(2)
    np.testing.assert_array_equal(positions, [[0.0, 0.5], [-0.5, 0.25]])
    positions[0, 0] = 0.7
    assert space.initial_positions(2)[0, 0] == 0.0
    with pytest.raises(ValueError, match="for 2 neurons, not 3"):
        space.initial_positions(3)


def test_callable_init_gets_n_dimensions_and_rng():
    calls = []

    def init(n, dimensions, rng):
        calls.append((n, dimensions, rng))
        return rng.uniform(0.0, 0.5, (n, dimensions))

    space = Space(3, bounds=(0.0, 1.0), init=init, rng=5)
    positions = space.initial_positions(4)
    assert positions.shape == (4, 3)
    (n, dimensions, rng), = calls
    assert (n, dimensions) == (4, 3)
    assert isinstance(rng, np.random.Generator)
    np.testing.assert_array_equal(
        positions, np.random.default_rng(5).uniform(0.0, 0.5, (4, 3)))


@pytest.mark.parametrize("init, match", [
    (lambda n, d, rng: np.zeros((n, d + 1)), "must have 2 columns"),
    (lambda n, d, rng: np.zeros((n + 1, d)), "expected 3 rows"),
    (lambda n, d, rng: np.full((n, d), 5.0), "inside the space's bounds"),
])
def test_callable_init_output_is_validated(init, match):
    space = Space(2, bounds=(-1.0, 1.0), init=init)
    with pytest.raises(ValueError, match=match):
        space.initial_positions(3)


def test_initial_positions_reproducible_from_seed():
    a, b = Space(2, rng=6), Space(2, rng=6)
    first_a, second_a = a.initial_positions(5), a.initial_positions(5)
    first_b, second_b = b.initial_positions(5), b.initial_positions(5)
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(second_a, second_b)
    # Two populations of one space must not land on the same positions
    assert not np.array_equal(first_a, second_a)
    # An explicit rng overrides the space's own generator
    np.testing.assert_array_equal(a.initial_positions(5, rng=9),
                                  Space(2).initial_positions(5, rng=9))


# ----------------------------------------------------------------------------
# Projection
# ----------------------------------------------------------------------------
def test_box_projection_clamps_each_coordinate():
    space = Space(2, bounds=([-1.0, 0.0], [1.0, 2.0]))
    positions = np.array([[-3.0, 1.0], [0.5, 2.5], [0.2, 0.3], [9.0, -9.0]])
    projected = space.project(positions)
    expected = [[-1.0, 1.0], [0.5, 2.0], [0.2, 0.3], [1.0, 0.0]]
    np.testing.assert_array_equal(projected, expected)
    assert positions[0, 0] == -3.0


def test_ball_projection_is_radial():
    centre = np.array([1.0, 1.0, 0.0])
    space = Space(3, radius=2.0, centre=centre)
    rng = np.random.default_rng(7)
    positions = centre + rng.normal(scale=2.0, size=(200, 3))
    projected = space.project(positions)
    offsets = positions - centre
    norms = np.linalg.norm(offsets, axis=1)
    outside = norms > 2.0
    assert 0 < outside.sum() < 200
    # Inside: untouched
    np.testing.assert_array_equal(projected[~outside], positions[~outside])
    # Outside: on the sphere, along the same ray from the centre
    new_offsets = projected[outside] - centre
    np.testing.assert_allclose(np.linalg.norm(new_offsets, axis=1), 2.0,
                               rtol=1e-14)
    np.testing.assert_allclose(
        np.cross(new_offsets, offsets[outside]), 0.0, atol=1e-12)
    assert np.all(np.sum(new_offsets * offsets[outside], axis=1) > 0)
    assert np.all(space.contains(projected))
    # Projecting twice changes nothing (beyond the last bit of rounding)
    np.testing.assert_allclose(space.project(projected), projected,
                               rtol=0.0, atol=1e-15)


def test_unbounded_projection_is_identity_copy():
    positions = np.array([[100.0, -100.0]])
    projected = Space(2).project(positions)
    np.testing.assert_array_equal(projected, positions)
    projected[0, 0] = 0.0
    assert positions[0, 0] == 100.0


def test_projection_validates_positions():
    with pytest.raises(ValueError, match="must have 2 columns"):
        Space(2, bounds=(0.0, 1.0)).project(np.zeros((3, 3)))


def test_contains():
    space = Space(2, bounds=(0.0, 1.0))
    np.testing.assert_array_equal(
        space.contains([[0.5, 0.5], [1.0, 0.0], [1.1, 0.5]]),
        [True, True, False])
    np.testing.assert_array_equal(Space(2).contains([[1e9, -1e9]]), [True])
