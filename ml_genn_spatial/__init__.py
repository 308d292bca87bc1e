"""Spatial spiking neural networks for GeNN / mlGeNN.

Neurons have learnable positions in a D-dimensional space and every synaptic
delay of a spatial connection is derived from the distance between its two
neurons. The pure maths (:mod:`ml_genn_spatial.geometry`), the NumPy
reference model (:mod:`ml_genn_spatial.reference`) and the dataset loaders
(:mod:`ml_genn_spatial.datasets`) need only NumPy; the mlGeNN plugins
(spatial connectivity and compilers) import pygenn and ml_genn on first use.
"""
from importlib import import_module

from .space import Space

__version__ = "0.1.0"

# Public names that live in modules importing pygenn / ml_genn: imported on
# first access so that the package imports on a machine without GeNN
_GENN_NAMES = {
    "SpatialConnection": "ml_genn_spatial.connection",
    "SpatialDense": "ml_genn_spatial.connectivity",
    "SpatialSparse": "ml_genn_spatial.connectivity",
    "place": "ml_genn_spatial.placement",
    "get_positions": "ml_genn_spatial.placement",
    "layout": "ml_genn_spatial.export",
    "save_layout": "ml_genn_spatial.export",
    "pull_positions": "ml_genn_spatial.export",
    "prune": "ml_genn_spatial.rewiring",
    "ConnectivityRecord": "ml_genn_spatial.callbacks",
    "RecycleSilent": "ml_genn_spatial.callbacks",
    "GradientAccumulation": "ml_genn_spatial.optimisers",
    "SpatialEventPropCompiler": "ml_genn_spatial.compilers",
    "SpatialInferenceCompiler": "ml_genn_spatial.compilers",
}


def __getattr__(name):
    if name in _GENN_NAMES:
        from ._genn import require_genn
        require_genn(name)
        return getattr(import_module(_GENN_NAMES[name]), name)
    raise AttributeError(f"module 'ml_genn_spatial' has no attribute '{name}'")


__all__ = ["Space", *_GENN_NAMES]
