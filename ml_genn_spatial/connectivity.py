"""Spatial connectivity for mlGeNN connections.

A spatial connection's delays are not parameters: GeNN's generated code
computes ``delay = clamp(round(offset + scale * dist), 0, max_delay_steps)``
[timesteps] from the positions of its two neurons every time a spike is
sent, so a moved neuron changes every delay it touches at once.
"""
from __future__ import annotations

import numpy as np

from ml_genn.connectivity import Dense

from .geometry import check_finite_scalar, check_max_delay_steps

# GeNN holds dendritic delays of up to 65535 timesteps (mlGeNN's limit too)
MAX_GENN_DELAY_STEPS = 65534


class SpatialDense(Dense):
    """All-to-all connectivity whose delays are distances.

    Source and target populations must be placed in one
    :class:`~ml_genn_spatial.Space` (:func:`~ml_genn_spatial.place`).

    Args:
        weight:          connection weights: a constant, a
                         :class:`ml_genn.initializers.Initializer` or an
                         array of shape ``(source_size, target_size)``
        max_delay_steps: largest delay GeNN holds [timesteps]; longer
                         distances are clamped to it
        scale:           delay per unit distance [timesteps per space unit];
                         by default ``max_delay_steps`` divided by the
                         diameter of the space's bounds
        offset:          delay at zero distance [timesteps]
    """

    def __init__(self, weight, max_delay_steps: int, scale: float = None,
                 offset: float = 0.0):
        super().__init__(weight=weight, delay=0)
        self.max_delay_steps = check_max_delay_steps(max_delay_steps)
        if self.max_delay_steps > MAX_GENN_DELAY_STEPS:
            raise ValueError(f"max_delay_steps={self.max_delay_steps} "
                             f"exceeds the {MAX_GENN_DELAY_STEPS} delay "
                             f"steps GeNN can hold: use a larger dt or a "
                             f"smaller max_delay_steps")
        self.scale = (None if scale is None
                      else check_finite_scalar(scale, "scale"))
        self.offset = check_finite_scalar(offset, "offset")

    def resolve_scale(self, space) -> float:
        """The scale [timesteps per space unit] used in ``space``."""
        if self.scale is not None:
            return self.scale
        diameter = space_diameter(space)
        if diameter is None:
            raise ValueError("SpatialDense needs scale= when its space has "
                             "no bounds (nothing to derive it from)")
        return self.max_delay_steps / diameter


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
    return isinstance(connection.connectivity, SpatialDense)
