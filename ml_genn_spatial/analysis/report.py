"""All metrics of a run in one dictionary, and the report folder
(figures + ``summary.json``) that the command line writes."""
import json
import math
import os

import numpy as np

from .graph import connectivity_graph, graph_metrics
from .layout_file import Run, class_population
from .metrics import (class_distances, delay_histogram, length_histogram,
                      mean_wiring_length, preferred_class,
                      spatial_clustering_of_function,
                      weight_distance_correlation)
from .plots import (plot_delay_histogram, plot_layout,
                    plot_length_distribution, plot_weight_vs_distance,
                    save_figure)

#: Share of the strongest synapses of a dense recurrent connection kept in
#: its graph when neither a threshold nor a share is given
DEFAULT_TOP_FRACTION = 0.1
#: Communities drawn in their own colour in the community layout picture
_MAX_COMMUNITY_COLOURS = 10

SUMMARY_FILE = "summary.json"


def _connection_summary(conn, dt, bins: int) -> dict:
    counts, _ = delay_histogram(conn.delay)
    fraction, edges = length_histogram(conn.distance, bins=bins)
    summary = {
        "source": conn.source, "target": conn.target,
        "sparse": not conn.dense, "synapses": conn.num_synapses,
        "delay": {"min": int(conn.delay.min(initial=0)),
                  "max": int(conn.delay.max(initial=0)),
                  "mean": float(np.mean(conn.delay)) if conn.delay.size
                  else float("nan"),
                  "histogram": counts.tolist()},
        "length": {"min": float(conn.distance.min(initial=np.inf)),
                   "max": float(conn.distance.max(initial=0.0)),
                   "mean": mean_wiring_length(conn.distance),
                   "weighted_mean": None,
                   "histogram": {"edges": edges.tolist(),
                                 "fraction": fraction.tolist(),
                                 "weighted_fraction": None}},
        "weight_distance": None}
    if dt is not None:
        summary["delay"]["mean_ms"] = summary["delay"]["mean"] * dt
    if conn.weight is not None:
        summary["length"]["weighted_mean"] = mean_wiring_length(
            conn.distance, conn.weight)
        summary["length"]["histogram"]["weighted_fraction"] = \
            length_histogram(conn.distance, conn.weight, bins=bins,
                             value_range=(edges[0], edges[-1]))[0].tolist()
        summary["weight_distance"] = weight_distance_correlation(
            conn.distance, conn.weight)
    return summary


def recurrent_graph(conn, num_neurons: int, top_fraction: float = None,
                    threshold: float = None):
    """The graph of a recurrent connection (see
    :func:`~ml_genn_spatial.analysis.graph.connectivity_graph`).

    Sparse connections keep their synapses (those above ``threshold`` and
    in the strongest ``top_fraction`` when given); dense ones keep the
    strongest ``top_fraction``, :data:`DEFAULT_TOP_FRACTION` when neither
    a share nor a threshold is given.

    Args:
        conn: a recurrent :class:`ConnectionLayout`
        num_neurons: size of its population
        top_fraction: share of the strongest synapses kept, or None
        threshold: smallest ``|w|`` kept (exclusive), or None

    Returns:
        ``(graph, {"top_fraction", "threshold"})``: the DiGraph and the
        selection used
    """
    if conn.dense and top_fraction is None and threshold is None:
        top_fraction = DEFAULT_TOP_FRACTION
    return connectivity_graph(num_neurons, conn.weight, conn.pre_ind,
                              conn.post_ind, conn.distance,
                              threshold=threshold,
                              top_fraction=top_fraction), {
        "top_fraction": top_fraction, "threshold": threshold}


def community_labels(communities: list, num_neurons: int,
                     max_communities: int = None) -> np.ndarray:
    """Community index of every neuron (in the order given), -1 for
    neurons in a single-neuron community or beyond the first
    ``max_communities`` communities."""
    labels = np.full(num_neurons, -1, dtype=np.int64)
    for k, members in enumerate(communities[:max_communities]):
        if len(members) > 1:
            labels[members] = k
    return labels


def analyse(run: Run, top_fraction: float = None, threshold: float = None,
            community_method: str = "greedy", random_graphs: int = 5,
            permutations: int = 1000, seed: int = 0,
            class_population_name: str = None, bins: int = 30) -> dict:
    """Every metric of a run (JSON-ready apart from NaN, see
    :func:`write_summary`).

    Args:
        run: the run, from :func:`load_run`
        top_fraction: share of the strongest synapses kept in the graph of
            a recurrent connection (default 0.1 for dense connections when
            no threshold is given; all for sparse ones)
        threshold: smallest ``|w|`` kept in a recurrent graph, or None
        community_method: ``"greedy"`` or ``"louvain"``
        random_graphs: reference graphs of the small-world coefficient
        permutations: label shuffles of the spatial clustering test
        seed: seed of every random choice (references, Louvain, shuffles)
        class_population_name: population the class counts belong to
            (default: inferred from their number of rows)
        bins: bins of the length histograms

    Returns:
        ``{"layout", "dimensions", "dt", "populations", "connections",
        "recurrent", "function", "results"}``: ``connections`` per spatial
        connection (delays [timesteps, and ms when dt is known], lengths
        [space units] plain and ``|w|``-weighted, weight-length
        correlations); ``recurrent`` per recurrent connection the
        :func:`~ml_genn_spatial.analysis.graph.graph_metrics`, the
        ``selection`` of the graph and ``community_distance_ratio``, the
        mean distance between neurons of one community over that between
        neurons of different communities (communities of >= 2 neurons);
        ``function`` the :func:`spatial_clustering_of_function` of the
        neurons' preferred classes (None without class counts)
    """
    layout = run.layout
    summary = {
        "layout": layout.path, "dimensions": layout.dimensions,
        "dt": run.dt,
        "populations": {name: {"neurons": int(x.shape[0])}
                        for name, x in layout.positions.items()},
        "connections": {name: _connection_summary(conn, run.dt, bins)
                        for name, conn in layout.connections.items()},
        "recurrent": {}, "function": None, "results": run.results}

    for name, conn in layout.connections.items():
        if not conn.recurrent:
            continue
        positions = layout.positions[conn.source]
        graph, selection = recurrent_graph(conn, positions.shape[0],
                                           top_fraction, threshold)
        metrics = graph_metrics(graph, community_method, random_graphs, seed)
        same, other = class_distances(
            positions, community_labels(metrics["community_members"],
                                        positions.shape[0]))
        metrics.update(population=conn.source, selection=selection,
                       community_distance_ratio=same / other)
        summary["recurrent"][name] = metrics

    if run.class_counts is not None:
        population = class_population(layout, run.class_counts,
                                      class_population_name)
        labels = preferred_class(run.class_counts)
        function = spatial_clustering_of_function(
            layout.positions[population], labels, permutations, seed)
        function.update(
            population=population,
            neurons_per_class=np.bincount(
                labels[labels >= 0],
                minlength=run.class_counts.shape[1]).tolist(),
            no_preference=int(np.count_nonzero(labels < 0)))
        summary["function"] = function
    return summary


def _json_ready(value):
    """Plain Python values; NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def write_summary(summary: dict, path: str) -> str:
    """Write a summary as JSON (NaN as null) and return the path."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_json_ready(summary), f, indent=2)
    return path


def _number(value, spec: str) -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(
        value, spec)


def write_figures(run: Run, summary: dict, output: str) -> list:
    """Draw the figures of a run into ``output`` and return their paths:
    ``layout.png``, ``layout_by_class.png`` (with class counts),
    ``layout_by_community.png`` (per recurrent connection),
    ``delay_histogram.png``, ``length_distribution.png`` and
    ``weight_vs_distance.png``."""

    layout = run.layout
    connections = layout.connections
    distances = {n: c.distance for n, c in connections.items()}
    weights = {n: c.weight for n, c in connections.items()}
    figures = [("layout.png", lambda: plot_layout(layout.positions))]
    function = summary.get("function")
    if function is not None:
        population = function["population"]
        figures.append(("layout_by_class.png", lambda: plot_layout(
            {population: layout.positions[population]},
            labels=preferred_class(run.class_counts),
            title=f"{population}: neurons by preferred class\n"
                  f"mean distance same / other class = "
                  f"{_number(function['ratio'], '.2f')}, permutation p = "
                  f"{_number(function['p_value'], '.3g')}")))
    for name, metrics in summary["recurrent"].items():
        def community_figure(name=name, metrics=metrics):
            positions = layout.positions[metrics["population"]]
            labels = community_labels(metrics["community_members"],
                                      positions.shape[0],
                                      _MAX_COMMUNITY_COLOURS)
            return plot_layout(
                {metrics["population"]: positions}, labels=labels,
                class_names=[f"community {k + 1}"
                             for k in range(labels.max(initial=-1) + 1)],
                unlabelled="other",
                title=f"{name}: communities of the graph\n"
                      f"modularity Q = {_number(metrics['modularity'], '.2f')}"
                      f", {metrics['communities']} communities")
        suffix = "" if len(summary["recurrent"]) == 1 else f"_{name}"
        figures.append((f"layout_by_community{suffix}.png",
                        community_figure))
    if connections:
        figures += [
            ("delay_histogram.png",
             lambda: plot_delay_histogram(
                 {n: c.delay for n, c in connections.items()}, run.dt)),
            ("length_distribution.png",
             lambda: plot_length_distribution(distances, weights)),
            ("weight_vs_distance.png",
             lambda: plot_weight_vs_distance(distances, weights))]
    return [save_figure(draw(), os.path.join(output, file_name))
            for file_name, draw in figures]


def write_report(run: Run, output: str, **options) -> dict:
    """Analyse a run and write its figures and ``summary.json`` into
    ``output`` (created if needed).

    Args:
        run: the run, from :func:`load_run`
        output: folder to write into
        **options: passed to :func:`analyse`

    Returns:
        ``{"summary": path of summary.json, "figures": [PNG paths]}``
    """
    os.makedirs(output, exist_ok=True)
    summary = analyse(run, **options)
    figures = write_figures(run, summary, output)
    summary["figures"] = [os.path.basename(p) for p in figures]
    path = write_summary(summary, os.path.join(output, SUMMARY_FILE))
    return {"summary": path, "figures": figures}
