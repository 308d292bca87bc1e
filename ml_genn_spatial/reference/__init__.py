"""NumPy reference model (oracle) of mlGeNN's EventProp with spatial delays.

No GeNN import: :mod:`.network` describes populations and connections,
:mod:`.model` simulates a batch forward and backward exactly as mlGeNN's
``EventPropCompiler`` discretises it, and :mod:`.train` trains with mlGeNN's
Adam over mini-batches.
"""
from .model import (T_FIRST_SPIKE_NONE, EventProp, ForwardRecord, Gradients,
                    Result, SpikeEvents, input_spike_steps, spike_raster)
from .network import (Connection, LeakyIntegrate, LeakyIntegrateFire,
                      Network, Population, SpatialDelay, SpikeInput)
from .train import Adam, evaluate, train

__all__ = ["Adam", "Connection", "EventProp", "ForwardRecord", "Gradients",
           "LeakyIntegrate", "LeakyIntegrateFire", "Network", "Population",
           "Result", "SpatialDelay", "SpikeEvents", "SpikeInput",
           "T_FIRST_SPIKE_NONE", "evaluate", "input_spike_steps",
           "spike_raster", "train"]
