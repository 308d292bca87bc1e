"""mlGeNN compilers for networks with spatial connections.

- :mod:`.common`: the network's spatial part gathered once per compile,
  where synapse groups read positions, the GeNN pieces of a spatial
  synapse group;
- :mod:`.inference`: :class:`SpatialInferenceCompiler`;
- :mod:`.event_prop`: :class:`SpatialEventPropCompiler`, EventProp with
  learnable positions;
- :mod:`.position_gradients`: the device pipeline from per-synapse delay
  gradients to position updates, and its callback :class:`PositionScatter`;
- :mod:`.deep_r`: distance-aware DEEP R regrowth.
"""
from .event_prop import SpatialEventPropCompiler
from .inference import SpatialInferenceCompiler
from .position_gradients import PositionScatter

__all__ = ["SpatialEventPropCompiler", "SpatialInferenceCompiler",
           "PositionScatter"]
