"""Spatial connectivity: the connectivity of a
:class:`~ml_genn_spatial.SpatialConnection`.

A spatial connection's delays are not parameters: GeNN's generated code
computes ``delay = clamp(round(offset + scale * dist), 0, max_delay_steps)``
[timesteps] from the positions of its two neurons every time a spike is
sent, so a moved neuron changes every delay it touches at once.
"""
from __future__ import annotations

import numpy as np

from pygenn import SynapseMatrixType
from ml_genn.connectivity import Dense, FixedProbability

from .geometry import check_finite_scalar, check_max_delay_steps

# GeNN holds dendritic delays of up to 65535 timesteps (mlGeNN's limit too)
MAX_GENN_DELAY_STEPS = 65534


class SpatialConnectivity:
    """What every spatial connectivity adds to its mlGeNN base class: the
    map from distance to delay.

    Args:
        max_delay_steps: largest delay GeNN holds [timesteps]; longer
                         distances are clamped to it
        scale:           delay per unit distance [timesteps per space unit],
                         >= 0; by default ``max_delay_steps`` divided by
                         the diameter of the space's bounds
        offset:          delay at zero distance [timesteps], >= 0
        wiring_cost:     strength of the training term
                         ``wiring_cost * sum |w| * distance`` of this
                         connection [per unit weight per space unit]; 0
                         for none
    """

    def _init_spatial(self, max_delay_steps, scale, offset,
                      wiring_cost=0.0):
        self.wiring_cost = check_finite_scalar(wiring_cost, "wiring_cost",
                                               minimum=0.0)
        self.max_delay_steps = check_max_delay_steps(max_delay_steps)
        if self.max_delay_steps > MAX_GENN_DELAY_STEPS:
            raise ValueError(f"max_delay_steps={self.max_delay_steps} "
                             f"exceeds the {MAX_GENN_DELAY_STEPS} delay "
                             f"steps GeNN can hold: use a larger dt or a "
                             f"smaller max_delay_steps")
        # A negative scale or offset would clamp delays at 0 and silently
        # stop position learning
        self.scale = (None if scale is None
                      else check_finite_scalar(scale, "scale", minimum=0.0))
        self.offset = check_finite_scalar(offset, "offset", minimum=0.0)

    def resolve_scale(self, space) -> float:
        """The scale [timesteps per space unit] used in ``space``."""
        if self.scale is not None:
            return self.scale
        diameter = space_diameter(space)
        if diameter is None:
            raise ValueError(f"{type(self).__name__} needs scale= when its "
                             f"space has no bounds (nothing to derive it "
                             f"from)")
        return self.max_delay_steps / diameter


class SpatialDense(SpatialConnectivity, Dense):
    """All-to-all connectivity whose delays are distances; give it to a
    :class:`~ml_genn_spatial.SpatialConnection`, which joins two
    populations of one :class:`~ml_genn_spatial.Space`.

    Args:
        weight:          connection weights: a constant, a
                         :class:`ml_genn.initializers.Initializer` or an
                         array of shape ``(source_size, target_size)``
        max_delay_steps: largest delay [timesteps]
        scale:           delay per unit distance [timesteps per space unit]
        offset:          delay at zero distance [timesteps]
        wiring_cost:     strength of the wiring cost training term
    """

    def __init__(self, weight, max_delay_steps: int, scale: float = None,
                 offset: float = 0.0, wiring_cost: float = 0.0):
        Dense.__init__(self, weight=weight, delay=0)
        self._init_spatial(max_delay_steps, scale, offset, wiring_cost)


class SpatialSparse(SpatialConnectivity, FixedProbability):
    """Sparse connectivity (each pair connected with probability ``p``, or
    given synapses) whose delays are distances; give it to a
    :class:`~ml_genn_spatial.SpatialConnection`. Built as a GeNN SPARSE
    matrix, so it can be rewired.

    Args:
        p:               probability of a connection, in [0, 1]
        weight:          connection weights: a constant or a
                         :class:`ml_genn.initializers.Initializer`
        max_delay_steps: largest delay [timesteps]
        scale:           delay per unit distance [timesteps per space unit]
        offset:          delay at zero distance [timesteps]
        allow_self_connections: whether a recurrent connection may connect
                         a neuron to itself
        pre_ind, post_ind: explicit synapses (source and target indices)
                         instead of a random draw
        wiring_cost:     strength of the wiring cost training term
        regrowth_length: with DEEP R rewiring (the compiler's
                         ``deep_r_conns``), draw each regrown synapse's
                         target with probability proportional to
                         ``exp(-distance / regrowth_length)`` [space units];
                         None draws uniformly, as mlGeNN's DEEP R
    """

    def __init__(self, p: float, weight, max_delay_steps: int,
                 scale: float = None, offset: float = 0.0,
                 allow_self_connections: bool = False, pre_ind=None,
                 post_ind=None, wiring_cost: float = 0.0,
                 regrowth_length: float = None):
        p = check_finite_scalar(p, "p (connection probability)",
                                minimum=0.0)
        if p > 1.0:
            raise ValueError(f"p (connection probability) must be <= 1, "
                             f"not {p}")
        FixedProbability.__init__(self, p, weight, allow_self_connections)
        self._init_spatial(max_delay_steps, scale, offset, wiring_cost)
        self.regrowth_length = (
            None if regrowth_length is None
            else check_finite_scalar(regrowth_length, "regrowth_length",
                                     minimum=0.0))
        if self.regrowth_length == 0.0:
            raise ValueError("regrowth_length must be > 0 [space units]")
        if (pre_ind is None) != (post_ind is None):
            raise ValueError("give both pre_ind and post_ind, or neither")
        if pre_ind is not None:
            self.pre_ind = np.asarray(pre_ind, dtype=np.int64)
            self.post_ind = np.asarray(post_ind, dtype=np.int64)
            if self.pre_ind.shape != self.post_ind.shape:
                raise ValueError("pre_ind and post_ind must have one shape")

    def get_snippet(self, connection, supported_matrix_type):
        snippet = super().get_snippet(connection, supported_matrix_type)
        if snippet.matrix_type != SynapseMatrixType.SPARSE:
            # Position variables need stored synapses, never procedural ones
            snippet = snippet._replace(matrix_type=SynapseMatrixType.SPARSE)
        return snippet


def space_diameter(space):
    """Largest distance between two points of a bounded space [space
    units], or None for an unbounded space."""
    if space.radius is not None:
        return 2.0 * float(space.radius)
    if space.bounds is not None:
        low, high = (np.broadcast_to(np.asarray(b, dtype=float),
                                     (space.dimensions,))
                     for b in space.bounds)
        return float(np.sqrt(np.sum((high - low) ** 2)))
    return None


def is_spatial(connection) -> bool:
    """True when ``connection`` has spatial connectivity."""
    return isinstance(connection.connectivity, SpatialConnectivity)
