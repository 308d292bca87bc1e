"""Side-by-side benchmarks of spatial delays against mlGeNN's weight-only
EventProp and its per-synapse delay learning (``python3 benchmarks/run.py``).

:mod:`benchmarks.measure` holds the pure parts (statistics, power-law fits,
grouping of GeNN arrays into memory categories, tables) and needs only
NumPy; :mod:`benchmarks.workloads` builds the networks and the synthetic
data, :mod:`benchmarks.worker` runs one mode in its own process.
"""
