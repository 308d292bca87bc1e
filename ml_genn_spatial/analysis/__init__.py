"""Analysis and pictures of learned spatial layouts (no GeNN needed).

Reads the layout ``.npz`` of :mod:`ml_genn_spatial.layout_io`
(and the class counts and ``results.json`` of the same run) and measures:

- delays [timesteps] and connection lengths [space units], plain and
  ``|w|``-weighted, and how weights depend on length
  (:mod:`~ml_genn_spatial.analysis.metrics`);
- clustering, modularity and the small-world coefficient of the recurrent
  connectivity (:mod:`~ml_genn_spatial.analysis.graph`, needs networkx);
- spatial clustering of function: are neurons preferring one class closer
  together than chance (permutation test);

and draws the layout and the distributions
(:mod:`~ml_genn_spatial.analysis.plots`, needs matplotlib). From the shell::

    python3 -m ml_genn_spatial.analysis RUN --output FOLDER

where RUN is a run folder holding ``layout.npz`` or a layout ``.npz``.

networkx and matplotlib (the ``examples`` extra of setup.py) are imported
only when a function that needs them runs, so the package and its NumPy
metrics import without them.
"""
from .graph import (clustering_coefficient, connectivity_graph,
                    graph_metrics, modularity, small_world, undirected_graph)
from .layout_file import (ConnectionLayout, Layout, Run, class_population,
                          load_layout, load_run)
from .metrics import (class_distances, delay_histogram, length_histogram,
                      mean_wiring_length, preferred_class,
                      principal_components, spatial_clustering_of_function,
                      weight_distance_correlation)
from .plots import (plot_delay_histogram, plot_layout,
                    plot_length_distribution, plot_weight_vs_distance,
                    save_figure)
from .report import analyse, write_figures, write_report, write_summary

__all__ = ["ConnectionLayout", "Layout", "Run", "class_population",
           "load_layout",
           "load_run", "class_distances", "delay_histogram",
           "length_histogram", "mean_wiring_length", "preferred_class",
           "principal_components", "spatial_clustering_of_function",
           "weight_distance_correlation", "clustering_coefficient",
           "connectivity_graph", "graph_metrics", "modularity",
           "small_world", "undirected_graph", "plot_delay_histogram",
           "plot_layout", "plot_length_distribution",
           "plot_weight_vs_distance", "save_figure", "analyse",
           "write_figures", "write_report", "write_summary"]
