"""The space that spatial populations live in (pure Python and NumPy)."""
import numpy as np

from .geometry import (as_rng, axis_values, check_box_bounds,
                       check_dimensions, check_finite_scalar, regular_grid,
                       uniform_ball, uniform_box, validate_positions)

# Region used by the box initialisers when the space has no bounds: the
# [-1, 1]^D square of "Space as Time Through Neuron Position Learning"
_DEFAULT_LOW = -1.0
_DEFAULT_HIGH = 1.0
_DEFAULT_RADIUS = 1.0

_BOX_INITS = ("uniform_box", "grid")
_BALL_INITS = ("uniform_ball",)
_NAMED_INITS = _BOX_INITS + _BALL_INITS

# Slack [space units] when checking that given positions lie in the bounds,
# so that positions produced by project() in float arithmetic pass
_CONTAINS_ATOL = 1e-9


class Space:
    """A D-dimensional Euclidean space in which neurons have positions.

    Populations placed in one space can be joined by spatial connections,
    whose delays follow from the distances between neuron positions. A space
    may be unbounded, bounded by a box, or bounded by a ball; positions are
    kept inside the bounds by :meth:`project` after each optimiser step.

    Args:
        dimensions: number of spatial dimensions D (>= 1)
        bounds: box bounds ``(low, high)``, each a scalar or a length-D
            sequence [space units]; None for no box
        init: how :meth:`initial_positions` places neurons:
            ``"uniform_box"`` (uniform in the box, or in ``[-1, 1]^D``
            when the space has no bounds), ``"uniform_ball"`` (uniform in
            volume in the ball, or in the unit ball when the space has no
            bounds), ``"grid"`` (cell-centred regular grid in the box, see
            :func:`~ml_genn_spatial.geometry.regular_grid`), an explicit
            array of shape ``(N, D)`` [space units], or a callable
            ``init(n, dimensions, rng) -> array (n, D)``. None (default)
            picks ``"uniform_ball"`` for a ball and ``"uniform_box"``
            otherwise.
        radius: radius of a ball bound [space units]; None for no ball.
            Give ``bounds`` or ``radius``, not both.
        centre: centre of the ball, scalar or length-D [space units];
            default the origin
        eps: softening length added in quadrature to every distance, which
            keeps the distance differentiable where two neurons coincide
            [space units]
        rng: np.random.Generator, int seed or None. A generator is made once
            from it, so successive calls of :meth:`initial_positions` (one
            per population) give different positions and the whole sequence
            is reproducible from one seed.
    """

    def __init__(self, dimensions: int, bounds=None, init=None,
                 radius: float = None, centre=None, eps: float = 0.0,
                 rng=None):
        self._dimensions = check_dimensions(dimensions)
        self._low = self._high = self._radius = self._centre = None

        if bounds is not None and radius is not None:
            raise ValueError("give either box bounds=(low, high) or a ball "
                             "radius, not both")
        if bounds is not None:
            try:
                if isinstance(bounds, str):
                    raise TypeError
                low, high = bounds
            except (TypeError, ValueError):
                raise ValueError(f"bounds must be a pair (low, high) of "
                                 f"scalars or length-{self._dimensions} "
                                 f"sequences, not {bounds!r}") from None
            self._low, self._high = check_box_bounds(low, high,
                                                     self._dimensions)
        if radius is not None:
            radius = check_finite_scalar(radius, "radius")
            if radius <= 0.0:
                raise ValueError(f"radius must be > 0, not {radius}")
            self._radius = radius
            self._centre = axis_values(0.0 if centre is None else centre,
                                       self._dimensions, "centre")
        elif centre is not None:
            raise ValueError("centre is the centre of a ball bound: give "
                             "radius as well")

        self._eps = check_finite_scalar(eps, "eps", minimum=0.0)
        self._rng = as_rng(rng)
        self._init = self._check_init(init)

    # ------------------------------------------------------------------
    # Properties
    # ------------------------------------------------------------------
    @property
    def dimensions(self) -> int:
        """Number of spatial dimensions D."""
        return self._dimensions

    @property
    def bounds(self):
        """``(low, high)`` arrays of a box bound [space units], or None."""
        return (None if self._low is None
                else (self._low.copy(), self._high.copy()))

    @property
    def radius(self):
        """Radius of a ball bound [space units], or None."""
        return self._radius

    @property
    def centre(self):
        """Centre of a ball bound [space units], or None."""
        return None if self._centre is None else self._centre.copy()

    @property
    def eps(self) -> float:
        """Softening length of distances [space units]."""
        return self._eps

    @property
    def init(self):
        """Initialiser name, explicit positions array (a copy) or callable."""
        return (self._init.copy() if isinstance(self._init, np.ndarray)
                else self._init)

    @property
    def bounded(self) -> bool:
        """True when the space has a box or a ball bound."""
        return self._low is not None or self._radius is not None

    # ------------------------------------------------------------------
    # Public methods
    # ------------------------------------------------------------------
    def initial_positions(self, n: int, rng=None) -> np.ndarray:
        """Initial positions of a population of ``n`` neurons.

        Args:
            n: number of neurons
            rng: np.random.Generator, int seed or None to use the space's
                own generator

        Returns:
            float64 array of shape ``(n, dimensions)`` [space units]
        """
        rng = self._rng if rng is None else as_rng(rng)
        init = self._init
        if isinstance(init, np.ndarray):
            if init.shape[0] != n:
                raise ValueError(f"the space's explicit initial positions "
                                 f"are for {init.shape[0]} neurons, not {n}")
            return init.copy()
        if callable(init):
            positions = self.validate(init(n, self._dimensions, rng), n,
                                      name="positions returned by init")
            self._check_contained(positions, "positions returned by init")
            return positions
        if init == "uniform_ball":
            radius, centre = ((self._radius, self._centre)
                              if self._radius is not None
                              else (_DEFAULT_RADIUS, None))
            return uniform_ball(n, self._dimensions, radius, centre, rng=rng)
        low, high = ((self._low, self._high) if self._low is not None
                     else (_DEFAULT_LOW, _DEFAULT_HIGH))
        if init == "grid":
            return regular_grid(n, self._dimensions, low, high)
        return uniform_box(n, self._dimensions, low, high, rng=rng)

    def validate(self, positions, n: int = None,
                 name: str = "positions") -> np.ndarray:
        """Check that positions fit this space and return a float64 copy.

        Args:
            positions: array-like of shape ``(n, dimensions)`` [space units]
            n: expected number of neurons, or None for any
            name: what the array is called in error messages

        Raises:
            ValueError: if the shape does not match or values are not finite
        """
        return validate_positions(positions, n=n,
                                  dimensions=self._dimensions, name=name)

    def contains(self, positions, atol: float = _CONTAINS_ATOL) -> np.ndarray:
        """Which positions lie inside the bounds (all, when unbounded).

        Args:
            positions: array of shape ``(n, dimensions)`` [space units]
            atol: slack allowed outside the bounds [space units]

        Returns:
            bool array of shape ``(n,)``
        """
        positions = self.validate(positions)
        if self._low is not None:
            return np.all((positions >= self._low - atol)
                          & (positions <= self._high + atol), axis=1)
        if self._radius is not None:
            return (np.linalg.norm(positions - self._centre, axis=1)
                    <= self._radius + atol)
        return np.ones(len(positions), dtype=bool)

    def project(self, positions) -> np.ndarray:
        """Nearest positions inside the bounds.

        A box clamps each coordinate to ``[low, high]``; a ball moves points
        outside it radially onto its surface; an unbounded space returns the
        positions unchanged. Points already inside are never moved.

        Args:
            positions: array of shape ``(n, dimensions)`` [space units]

        Returns:
            new float64 array of shape ``(n, dimensions)`` [space units]
        """
        positions = self.validate(positions)
        if self._low is not None:
            return np.clip(positions, self._low, self._high)
        if self._radius is not None:
            offsets = positions - self._centre
            norms = np.linalg.norm(offsets, axis=1, keepdims=True)
            outside = norms > self._radius
            # Only points outside are rescaled, so norms > radius > 0 there
            factors = np.where(outside,
                               self._radius / np.where(outside, norms, 1.0),
                               1.0)
            return self._centre + offsets * factors
        return positions

    def __repr__(self) -> str:
        if self._low is not None:
            bounds = f", bounds=({self._low.tolist()}, {self._high.tolist()})"
        elif self._radius is not None:
            bounds = (f", radius={self._radius}, "
                      f"centre={self._centre.tolist()}")
        else:
            bounds = ""
        init = (f"array of shape {self._init.shape}"
                if isinstance(self._init, np.ndarray) else repr(self._init))
        return (f"Space(dimensions={self._dimensions}{bounds}, init={init}, "
                f"eps={self._eps})")

    # ------------------------------------------------------------------
    # Private methods
    # ------------------------------------------------------------------
    def _check_contained(self, positions, name):
        inside = self.contains(positions)
        if not np.all(inside):
            raise ValueError(f"{name} must lie inside the space's bounds; "
                             f"{np.count_nonzero(~inside)} of "
                             f"{len(inside)} do not (Space.project moves "
                             f"them inside)")

    def _check_init(self, init):
        if init is None:
            return ("uniform_ball" if self._radius is not None
                    else "uniform_box")
        if isinstance(init, str):
            if init not in _NAMED_INITS:
                raise ValueError(f"init must be one of {_NAMED_INITS}, an "
                                 f"array of shape (N, {self._dimensions}) or "
                                 f"a callable (n, dimensions, rng), not "
                                 f"{init!r}")
            if init in _BOX_INITS and self._radius is not None:
                raise ValueError(f"init {init!r} fills a box but this space "
                                 f"is bounded by a ball: use "
                                 f"init='uniform_ball'")
            if init in _BALL_INITS and self._low is not None:
                raise ValueError(f"init {init!r} fills a ball but this space "
                                 f"is bounded by a box: use "
                                 f"init='uniform_box' or 'grid'")
            return init
        if callable(init):
            return init
        try:
            positions = self.validate(init, name="init positions")
        except ValueError as error:
            raise ValueError(f"init must be one of {_NAMED_INITS}, an array "
                             f"of shape (N, {self._dimensions}) or a callable "
                             f"(n, dimensions, rng): {error}") from error
        self._check_contained(positions, "init positions")
        return positions
