"""Positions, distances and distance-derived delays (pure NumPy).

Every neuron of a spatial population has a position x_i in a D-dimensional
Euclidean space [space units]. A spatial connection i -> j derives its
synaptic delay from the distance between its two neurons::

    dist_ij  = sqrt( sum_k (x_i,k - x_j,k)^2 + eps^2 )       [space units]
    raw_ij   = offset + scale * dist_ij                         [timesteps]
    delay_ij = clamp( round_half_away(raw_ij), 0, max_delay )   [timesteps]

Connections are either dense (every pre neuron to every post neuron; arrays
of shape ``(N_pre, N_post, ...)``) or sparse (synapse ``s`` joins
``pre_ind[s]`` to ``post_ind[s]``; arrays of shape ``(n_syn, ...)``).

Nothing here imports GeNN: this is the maths that the GeNN code snippets
implement and that the tests check them against.
"""
import numbers

import numpy as np


# ----------------------------------------------------------------------------
# Argument checks shared by the spatial maths
# ----------------------------------------------------------------------------
def as_rng(rng=None) -> np.random.Generator:
    """Turn a seed into a NumPy random generator.

    Args:
        rng: a ``np.random.Generator`` (used as is), an int seed, a
            ``np.random.SeedSequence`` or ``None`` (fresh OS entropy, so not
            reproducible)
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)):
        raise ValueError(f"rng must be a np.random.Generator, an int seed or "
                         f"None, not {rng!r}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as error:
        raise ValueError(f"rng must be a np.random.Generator, an int seed or "
                         f"None, not {rng!r}") from error


def _check_int(value, name: str, minimum: int) -> int:
    if (isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Integral)):
        raise ValueError(f"{name} must be an int >= {minimum}, "
                         f"not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value}")
    return int(value)


def check_dimensions(dimensions) -> int:
    """Return ``dimensions`` as an int, raising ValueError unless it is >= 1.

    Args:
        dimensions: number of spatial dimensions D
    """
    return _check_int(dimensions, "dimensions", 1)


def check_max_delay_steps(max_delay_steps) -> int:
    """Return ``max_delay_steps`` as an int, raising ValueError unless >= 0.

    Args:
        max_delay_steps: largest delay a synapse group supports [timesteps]
    """
    if max_delay_steps is None:
        raise ValueError("max_delay_steps is required: the largest delay "
                         "[timesteps] the synapse group supports")
    return _check_int(max_delay_steps, "max_delay_steps", 0)


def check_finite_scalar(value, name: str, minimum: float = None) -> float:
    """Return ``value`` as a float, raising ValueError unless it is a finite
    real scalar (and ``>= minimum`` when a minimum is given).

    Args:
        value: the number to check
        name: its name in the error message
        minimum: smallest allowed value, or None
    """
    if (isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0
            or not isinstance(value, (numbers.Real, np.ndarray))):
        raise ValueError(f"{name} must be a finite real number, "
                         f"not {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, not {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value}")
    return value


def axis_values(value, dimensions: int, name: str) -> np.ndarray:
    """Broadcast a scalar or a length-D sequence to a float64 array of shape
    ``(dimensions,)``, raising ValueError if it is neither or not finite.

    Args:
        value: scalar or length-D sequence
        dimensions: number of spatial dimensions D
        name: its name in the error message
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a scalar or a length-{dimensions} "
                         f"sequence of numbers, not {value!r}") from error
    if array.ndim == 0:
        array = np.full(dimensions, float(array))
    elif array.shape != (dimensions,):
        raise ValueError(f"{name} must be a scalar or have length "
                         f"{dimensions} (one value per dimension), not shape "
                         f"{array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, not {array}")
    return array


def check_box_bounds(low, high, dimensions: int):
    """Return box bounds as two float64 arrays of shape ``(dimensions,)``,
    raising ValueError unless they are finite and ``low < high`` on every
    axis.

    Args:
        low: lower corner, scalar or length-D [space units]
        high: upper corner, scalar or length-D [space units]
        dimensions: number of spatial dimensions D
    """
    low = axis_values(low, dimensions, "low")
    high = axis_values(high, dimensions, "high")
    if np.any(low >= high):
        raise ValueError(f"every low bound must be below its high bound, "
                         f"not low={low}, high={high}")
    return low, high


# ----------------------------------------------------------------------------
# Position initialisers
# ----------------------------------------------------------------------------
def uniform_box(n: int, dimensions: int, low=-1.0, high=1.0,
                rng=None) -> np.ndarray:
    """Positions drawn uniformly from the box ``[low, high)^D``.

    Args:
        n: number of neurons
        dimensions: number of spatial dimensions D
        low: lower corner of the box, scalar or length-D [space units]
        high: upper corner of the box, scalar or length-D [space units]
        rng: np.random.Generator, int seed or None

    Returns:
        float64 array of shape ``(n, dimensions)``
    """
    n = _check_int(n, "n", 0)
    dimensions = check_dimensions(dimensions)
    low, high = check_box_bounds(low, high, dimensions)
    return as_rng(rng).uniform(low, high, size=(n, dimensions))


def spread_box(n: int, dimensions: int, low=-1.0, high=1.0, draws: int = 100,
               rng=None) -> np.ndarray:
    """The most spread of ``draws`` uniform draws from the box
    ``[low, high)^D``: the one whose two closest neurons are farthest
    apart. For a few neurons (a readout) that a uniform draw may put close
    together, so that every source sees them at almost the same distance.

    Args:
        n: number of neurons
        dimensions: number of spatial dimensions D
        low: lower corner of the box, scalar or length-D [space units]
        high: upper corner of the box, scalar or length-D [space units]
        draws: number of uniform draws to choose from, >= 1
        rng: np.random.Generator, int seed or None

    Returns:
        float64 array of shape ``(n, dimensions)``
    """
    draws = _check_int(draws, "draws", 1)
    rng = as_rng(rng)
    best, best_gap = None, -1.0
    for _ in range(draws):
        positions = uniform_box(n, dimensions, low, high, rng=rng)
        gaps = distance(positions, positions)[np.triu_indices(n, 1)]
        gap = float(gaps.min()) if gaps.size else 0.0
        if gap > best_gap:
            best, best_gap = positions, gap
    return best


def uniform_ball(n: int, dimensions: int, radius: float = 1.0, centre=None,
                 rng=None) -> np.ndarray:
    """Positions drawn uniformly (in volume) from a D-dimensional ball.

    A direction is drawn from the isotropic normal distribution and a radius
    as ``radius * U^(1/D)``, which makes the density uniform in volume.

    Args:
        n: number of neurons
        dimensions: number of spatial dimensions D
        radius: radius of the ball [space units]
        centre: centre of the ball, scalar or length-D (default: the origin)
            [space units]
        rng: np.random.Generator, int seed or None

    Returns:
        float64 array of shape ``(n, dimensions)``
    """
    n = _check_int(n, "n", 0)
    dimensions = check_dimensions(dimensions)
    radius = check_finite_scalar(radius, "radius")
    if radius <= 0.0:
        raise ValueError(f"radius must be > 0, not {radius}")
    centre = axis_values(0.0 if centre is None else centre, dimensions,
                         "centre")
    rng = as_rng(rng)
    directions = rng.standard_normal((n, dimensions))
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    # A zero normal vector has probability zero; guard it all the same
    directions = np.divide(directions, norms, out=np.zeros_like(directions),
                           where=norms > 0.0)
    radii = radius * rng.uniform(size=(n, 1)) ** (1.0 / dimensions)
    return centre + radii * directions


def grid_side(n: int, dimensions: int) -> int:
    """Smallest number of points per axis m with ``m ** dimensions >= n``.

    Args:
        n: number of neurons
        dimensions: number of spatial dimensions D
    """
    n = _check_int(n, "n", 0)
    dimensions = check_dimensions(dimensions)
    side = max(1, int(round(n ** (1.0 / dimensions))))
    # Python ints: exact, whatever the float root was
    while side ** dimensions < n:
        side += 1
    while side > 1 and (side - 1) ** dimensions >= n:
        side -= 1
    return side


def regular_grid(n: int, dimensions: int, low=-1.0, high=1.0) -> np.ndarray:
    """The first ``n`` points, in C order, of the smallest regular grid with
    at least ``n`` points in the box ``[low, high]^D``.

    The grid has ``m = grid_side(n, D)`` points per axis and is
    cell-centred: the box is cut into ``m^D`` equal cells and each point sits
    at the centre of its cell, so axis k takes the values
    ``low_k + (c + 0.5) * (high_k - low_k) / m`` for ``c = 0 .. m-1`` and
    every point lies strictly inside the box. C order means the last
    coordinate varies fastest. Deterministic: no random generator.

    Args:
        n: number of neurons
        dimensions: number of spatial dimensions D
        low: lower corner of the box, scalar or length-D [space units]
        high: upper corner of the box, scalar or length-D [space units]

    Returns:
        float64 array of shape ``(n, dimensions)``
    """
    n = _check_int(n, "n", 0)
    dimensions = check_dimensions(dimensions)
    low, high = check_box_bounds(low, high, dimensions)
    side = grid_side(n, dimensions)

    # Digits of 0 .. n-1 in base m, last axis least significant (C order);
    # never forms m ** D, which can overflow int64 when D is large
    cells = np.empty((n, dimensions), dtype=np.int64)
    remainder = np.arange(n, dtype=np.int64)
    for k in reversed(range(dimensions)):
        remainder, cells[:, k] = np.divmod(remainder, side)
    return low + (cells + 0.5) * ((high - low) / side)


def validate_positions(positions, n: int = None, dimensions: int = None,
                       name: str = "positions", copy: bool = True
                       ) -> np.ndarray:
    """Check an array of neuron positions and return it as float64.

    Args:
        positions: array-like of shape ``(n, dimensions)`` [space units]
        n: expected number of neurons, or None for any
        dimensions: expected number of spatial dimensions, or None for any
        name: what the array is called in error messages
        copy: return a copy (default) rather than, where possible, a view

    Returns:
        float64 array of shape ``(n, dimensions)``

    Raises:
        ValueError: if the array is not numeric, not 2-D, has D < 1, does not
            match ``n`` or ``dimensions``, or holds NaN or infinity
    """
    try:
        array = (np.array(positions, dtype=np.float64) if copy
                 else np.asarray(positions, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a real array of shape "
                         f"(n, dimensions): {error}") from error
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape "
                         f"(n, dimensions), not {array.ndim}-D with shape "
                         f"{array.shape}; for D = 1 use shape (n, 1)")
    if array.shape[1] < 1:
        raise ValueError(f"{name} must have at least one dimension "
                         f"(D >= 1), not shape {array.shape}")
    if n is not None and array.shape[0] != _check_int(n, "n", 0):
        raise ValueError(f"{name} must hold one position per neuron: "
                         f"expected {n} rows, got {array.shape[0]}")
    if (dimensions is not None
            and array.shape[1] != check_dimensions(dimensions)):
        raise ValueError(f"{name} must have {dimensions} columns (one per "
                         f"dimension of the space), got {array.shape[1]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; found "
                         f"{np.count_nonzero(~np.isfinite(array))} NaN or "
                         f"infinite values")
    return array


# ----------------------------------------------------------------------------
# Displacements and distances
# ----------------------------------------------------------------------------
def _check_indices(ind, size: int, name: str) -> np.ndarray:
    ind = np.asarray(ind)
    if ind.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of neuron indices, "
                         f"not shape {ind.shape}")
    if ind.size == 0:
        return ind.astype(np.int64)
    if not np.issubdtype(ind.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, not {ind.dtype}")
    if ind.min() < 0 or ind.max() >= size:
        raise ValueError(f"{name} must lie in [0, {size}) (the population "
                         f"size); found values in [{ind.min()}, "
                         f"{ind.max()}]")
    return ind.astype(np.int64, copy=False)


def displacement(pre_positions, post_positions, pre_ind=None,
                 post_ind=None) -> np.ndarray:
    """Displacement ``x_post - x_pre`` of every synapse [space units].

    Args:
        pre_positions: presynaptic positions, shape ``(N_pre, D)``
        post_positions: postsynaptic positions, shape ``(N_post, D)``
        pre_ind: presynaptic index of each synapse (sparse), or None (dense)
        post_ind: postsynaptic index of each synapse (sparse), or None (dense)

    Returns:
        dense: shape ``(N_pre, N_post, D)``; sparse: shape ``(n_syn, D)``

    Raises:
        ValueError: if the populations have different D (they must share one
            space) or the synapse indices are malformed
    """
    pre = validate_positions(pre_positions, name="pre_positions", copy=False)
    post = validate_positions(post_positions, name="post_positions",
                              copy=False)
    if pre.shape[1] != post.shape[1]:
        raise ValueError(f"pre and post populations must share one space: "
                         f"pre_positions have {pre.shape[1]} dimensions, "
                         f"post_positions {post.shape[1]}")
    if pre_ind is None and post_ind is None:
        return post[np.newaxis, :, :] - pre[:, np.newaxis, :]
    if pre_ind is None or post_ind is None:
        raise ValueError("give both pre_ind and post_ind (sparse) or "
                         "neither (dense)")
    pre_ind = _check_indices(pre_ind, pre.shape[0], "pre_ind")
    post_ind = _check_indices(post_ind, post.shape[0], "post_ind")
    if pre_ind.shape != post_ind.shape:
        raise ValueError(f"pre_ind and post_ind must have one entry per "
                         f"synapse, got {pre_ind.size} and {post_ind.size}")
    return post[post_ind] - pre[pre_ind]


def distance_from_displacement(disp, eps: float = 0.0) -> np.ndarray:
    """``sqrt(sum_k disp_k^2 + eps^2)`` over the last axis [space units].

    Args:
        disp: displacements, shape ``(..., D)`` [space units]
        eps: softening length that keeps distances (and their gradients)
            away from zero [space units]
    """
    eps = check_finite_scalar(eps, "eps", minimum=0.0)
    disp = np.asarray(disp, dtype=np.float64)
    return np.sqrt(np.sum(disp * disp, axis=-1) + eps * eps)


def distance(pre_positions, post_positions, eps: float = 0.0, pre_ind=None,
             post_ind=None) -> np.ndarray:
    """Softened Euclidean distance of every synapse [space units].

    ``dist_ij = sqrt( sum_k (x_i,k - x_j,k)^2 + eps^2 )``

    Args:
        pre_positions: presynaptic positions, shape ``(N_pre, D)``
        post_positions: postsynaptic positions, shape ``(N_post, D)``
        eps: softening length [space units], >= 0
        pre_ind: presynaptic index of each synapse (sparse), or None (dense)
        post_ind: postsynaptic index of each synapse (sparse), or None (dense)

    Returns:
        dense: shape ``(N_pre, N_post)``; sparse: shape ``(n_syn,)``
    """
    eps = check_finite_scalar(eps, "eps", minimum=0.0)
    return distance_from_displacement(
        displacement(pre_positions, post_positions, pre_ind, post_ind), eps)


# ----------------------------------------------------------------------------
# Delays
# ----------------------------------------------------------------------------
def round_half_away(x) -> np.ndarray:
    """Round to the nearest integer, halves away from zero, like C's
    ``round()`` / ``roundf()`` (``np.round`` rounds halves to even).

    Exact for every finite float: ``x - trunc(x)`` is computed without
    rounding error, unlike ``floor(|x| + 0.5)`` which maps
    0.49999999999999994 to 1. Float32 input stays float32 (``roundf``).

    Args:
        x: array-like of real numbers

    Returns:
        floating array of rounded values (same shape)
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    whole = np.trunc(x)
    # inf - inf is NaN; the comparison below then keeps +-inf as it is
    with np.errstate(invalid="ignore"):
        fraction = x - whole
    return whole + np.where(np.abs(fraction) >= 0.5, np.sign(x),
                            0.0).astype(x.dtype)


def raw_delay(dist, scale: float, offset: float = 0.0) -> np.ndarray:
    """Continuous (unrounded, unclamped) delay ``offset + scale * dist``
    [timesteps].

    Args:
        dist: distances [space units]
        scale: delay per unit distance [timesteps / space unit]
        offset: delay at zero distance [timesteps]
    """
    scale = check_finite_scalar(scale, "scale")
    offset = check_finite_scalar(offset, "offset")
    return offset + scale * np.asarray(dist, dtype=np.float64)


def delay_steps(dist, scale: float, offset: float = 0.0,
                max_delay_steps: int = None) -> np.ndarray:
    """Integer synaptic delay
    ``clamp( round_half_away(offset + scale * dist), 0, max_delay_steps )``
    [timesteps], as the GeNN code computes it.

    Args:
        dist: distances [space units]
        scale: delay per unit distance [timesteps / space unit]
        offset: delay at zero distance [timesteps]
        max_delay_steps: largest delay the synapse group supports
            [timesteps]; required

    Returns:
        int64 array, same shape as ``dist``
    """
    max_delay_steps = check_max_delay_steps(max_delay_steps)
    raw = raw_delay(dist, scale, offset)
    if not np.all(np.isfinite(raw)):
        raise ValueError("distances must be finite to give a delay")
    return np.clip(round_half_away(raw), 0, max_delay_steps).astype(np.int64)


def clamp_mask(dist, scale: float, offset: float = 0.0,
               max_delay_steps: int = None) -> np.ndarray:
    """True where the continuous delay lies outside ``[0, max_delay_steps]``.

    There the clamp, not the distance, sets the delay, so the delay gradient
    does not reach the positions. The test is on the raw delay
    (``raw < 0`` or ``raw > max_delay_steps``), not on the rounded one.

    Args:
        dist: distances [space units]
        scale: delay per unit distance [timesteps / space unit]
        offset: delay at zero distance [timesteps]
        max_delay_steps: largest delay the synapse group supports
            [timesteps]; required

    Returns:
        bool array, same shape as ``dist``
    """
    max_delay_steps = check_max_delay_steps(max_delay_steps)
    raw = raw_delay(dist, scale, offset)
    return (raw < 0.0) | (raw > max_delay_steps)
