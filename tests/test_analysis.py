"""Tests of ml_genn_spatial.analysis against independent computations.

Metrics are checked against plain-Python loops (or networkx / NumPy
routines the code under test does not call), the graph and clustering
measures on synthetic layouts whose answer is known (two spatially
separated clusters with dense within-cluster wiring versus a random
layout), and the command line on a layout file written here with the array
names of ml_genn_spatial.export.save_layout.
"""
import itertools
import json
import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available
from ml_genn_spatial.analysis import (class_distances, class_population,
                                      delay_histogram,
                                      length_histogram, load_layout, load_run,
                                      mean_wiring_length, preferred_class,
                                      principal_components,
                                      spatial_clustering_of_function,
                                      weight_distance_correlation)
from ml_genn_spatial.analysis._optional import require
from ml_genn_spatial.geometry import delay_steps, distance
from ml_genn_spatial.gradients import wiring_cost
from ml_genn_spatial.runs import write_layout

FIGURES = ["layout.png", "layout_by_class.png", "layout_by_community.png",
           "delay_histogram.png", "length_distribution.png",
           "weight_vs_distance.png"]


# ----------------------------------------------------------------------------
# Synthetic layouts
# ----------------------------------------------------------------------------
def _two_clusters(n=40, dimensions=2, seed=0):
    """Two tight clusters far apart along x0; the cluster of each neuron."""
    rng = np.random.default_rng(seed)
    cluster = np.repeat([0, 1], n // 2)
    centres = np.zeros((2, dimensions))
    centres[:, 0] = [-0.6, 0.6]
    return centres[cluster] + 0.1 * rng.standard_normal((n, dimensions)), \
        cluster


def _cluster_weights(cluster, seed=0):
    """Strong within-cluster, weak between-cluster recurrent weights."""
    rng = np.random.default_rng(seed)
    n = cluster.size
    same = cluster[:, None] == cluster[None, :]
    return (0.05 * rng.standard_normal((n, n))
            + np.where(same, rng.uniform(0.5, 1.0, (n, n)), 0.0))


def _write_run(folder, hidden, cluster, recurrent_weight, seed=0, dt=0.5):
    """A run folder as the examples write it: layout.npz (write_layout),
    hidden_class_counts.npy and results.json."""
    rng = np.random.default_rng(seed)
    dimensions = hidden.shape[1]
    n = hidden.shape[0]
    inp = rng.uniform(-1, 1, (4, dimensions))
    out = rng.uniform(-1, 1, (3, dimensions))
    positions = {"input": inp, "hidden": hidden, "output": out}
    connections = {}

    def connection(name, source, target, weight, pre_ind=None,
                   post_ind=None):
        dist = distance(positions[source], positions[target], eps=1e-3,
                        pre_ind=pre_ind, post_ind=post_ind)
        connections[name] = {
            "source": source, "target": target, "distance": dist,
            "delay": delay_steps(dist, 10.0, 0.0, 25), "weight": weight,
            "pre_ind": pre_ind, "post_ind": post_ind}

    connection("input_hidden", "input", "hidden",
               rng.normal(1.0, 0.5, (4, n)))
    connection("hidden_hidden", "hidden", "hidden", recurrent_weight)
    pre_ind, post_ind = rng.integers(0, n, 50), rng.integers(0, 3, 50)
    connection("hidden_output", "hidden", "output",
               rng.normal(0.9, 0.1, 50), pre_ind, post_ind)
    folder.mkdir(parents=True, exist_ok=True)
    write_layout(str(folder / "layout.npz"), positions, connections)

    counts = rng.poisson(1.0, (n, 2))
    counts[np.arange(n), cluster] += 8
    np.save(folder / "hidden_class_counts.npy", counts)
    with open(folder / "results.json", "w") as f:
        json.dump({"test_accuracy": 0.5, "config": {"dt": dt},
                   "epochs": []}, f)
    return connections


# ----------------------------------------------------------------------------
# Delays, lengths, weights
# ----------------------------------------------------------------------------
def test_delay_histogram_counts_every_delay():
    delay = np.random.default_rng(0).integers(0, 9, (7, 5))
    counts, steps = delay_histogram(delay, max_delay_steps=12)
    expected = Counter(int(d) for d in delay.ravel())
    assert steps.tolist() == list(range(13))
    assert counts.tolist() == [expected.get(k, 0) for k in range(13)]
    assert delay_histogram(delay)[0].size == delay.max() + 1
    with pytest.raises(ValueError, match="beyond"):
        delay_histogram(delay, max_delay_steps=3)
    with pytest.raises(ValueError, match="non-negative"):
        delay_histogram([1, -1])


@pytest.mark.parametrize("weighted", [False, True])
def test_length_histogram_matches_loop(weighted):
    rng = np.random.default_rng(1)
    dist = rng.uniform(0.0, 2.0, 200)
    weight = rng.normal(size=200) if weighted else None
    fraction, edges = length_histogram(dist, weight, bins=8,
                                       value_range=(0.0, 2.0))
    expected = np.zeros(8)
    for s, d in enumerate(dist):
        b = min(int(d / 0.25), 7)
        expected[b] += abs(weight[s]) if weighted else 1.0
    np.testing.assert_allclose(edges, np.linspace(0.0, 2.0, 9))
    np.testing.assert_allclose(fraction, expected / expected.sum(),
                               rtol=1e-12)
    assert fraction.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("sparse", [False, True])
def test_mean_wiring_length_matches_loops_and_wiring_cost(sparse):
    rng = np.random.default_rng(2)
    pre, post = rng.uniform(-1, 1, (6, 3)), rng.uniform(-1, 1, (5, 3))
    pre_ind = rng.integers(0, 6, 17) if sparse else None
    post_ind = rng.integers(0, 5, 17) if sparse else None
    dist = distance(pre, post, eps=0.01, pre_ind=pre_ind, post_ind=post_ind)
    weight = rng.normal(size=dist.shape)

    pairs = (list(zip(pre_ind, post_ind)) if sparse
             else list(itertools.product(range(6), range(5))))
    lengths = [math.sqrt(math.dist(pre[i], post[j]) ** 2 + 0.01 ** 2)
               for i, j in pairs]
    magnitudes = [abs(w) for w in weight.ravel()]
    assert mean_wiring_length(dist) == pytest.approx(
        sum(lengths) / len(lengths), rel=1e-12)
    weighted = mean_wiring_length(dist, weight)
    assert weighted == pytest.approx(
        sum(m * d for m, d in zip(magnitudes, lengths)) / sum(magnitudes),
        rel=1e-12)
    # |w|-weighted mean times total |w| is the wiring cost at strength 1
    assert weighted * np.abs(weight).sum() == pytest.approx(
        wiring_cost(weight, pre, post, 1.0, eps=0.01, pre_ind=pre_ind,
                    post_ind=post_ind), rel=1e-12)
    assert math.isnan(mean_wiring_length(dist, np.zeros_like(dist)))


def _average_ranks(values):
    """Ranks 1..n, ties sharing their mean rank (plain Python)."""
    ordered = sorted(values)
    return [sum(k + 1 for k, v in enumerate(ordered) if v == x)
            / ordered.count(x) for x in values]


def _python_pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def test_weight_distance_correlation_matches_python():
    rng = np.random.default_rng(3)
    dist = rng.uniform(0, 2, (8, 6))
    # Rounded weights make ties for the rank correlation
    weight = np.round(1.0 - 0.4 * dist + 0.3 * rng.normal(size=dist.shape),
                      1)
    result = weight_distance_correlation(dist, weight)
    d, w = dist.ravel().tolist(), weight.ravel().tolist()
    assert result["pearson"] == pytest.approx(_python_pearson(d, w),
                                              rel=1e-10)
    assert result["pearson_abs"] == pytest.approx(
        _python_pearson(d, [abs(v) for v in w]), rel=1e-10)
    assert result["spearman_abs"] == pytest.approx(
        _python_pearson(_average_ranks(d),
                        _average_ranks([abs(v) for v in w])), rel=1e-10)
    assert result["pearson_abs"] < -0.5
    assert math.isnan(weight_distance_correlation(
        dist, np.ones_like(dist))["pearson"])


def test_spearman_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(4)
    dist = rng.uniform(0, 1, 300)
    weight = np.round(rng.normal(size=300), 1)
    expected = stats.spearmanr(dist, np.abs(weight)).statistic
    assert weight_distance_correlation(dist, weight)["spearman_abs"] == \
        pytest.approx(expected, rel=1e-10)


# ----------------------------------------------------------------------------
# Spatial clustering of function
# ----------------------------------------------------------------------------
def test_preferred_class_marks_silent_and_tied_neurons():
    counts = np.array([[0, 5, 1], [0, 0, 0], [3, 3, 1], [2, 0, 7]])
    assert preferred_class(counts).tolist() == [1, -1, -1, 2]
    with pytest.raises(ValueError, match="non-negative"):
        preferred_class([[1, -1]])


def test_class_distances_match_pair_loop():
    rng = np.random.default_rng(5)
    positions = rng.uniform(-1, 1, (12, 3))
    labels = rng.integers(-1, 3, 12)
    same, other = [], []
    for i, j in itertools.combinations(range(12), 2):
        if labels[i] < 0 or labels[j] < 0:
            continue
        (same if labels[i] == labels[j] else other).append(
            math.dist(positions[i], positions[j]))
    mean_same, mean_other = class_distances(positions, labels)
    assert mean_same == pytest.approx(sum(same) / len(same), rel=1e-12)
    assert mean_other == pytest.approx(sum(other) / len(other), rel=1e-12)


def test_permutation_p_value_matches_exhaustive_enumeration():
    rng = np.random.default_rng(6)
    positions = rng.uniform(-1, 1, (8, 2))
    labels = np.array([0, 0, 1, 0, 1, 1, 0, 1])

    def ratio(lab):
        same, other = [], []
        for i, j in itertools.combinations(range(8), 2):
            (same if lab[i] == lab[j] else other).append(
                math.dist(positions[i], positions[j]))
        return (sum(same) / len(same)) / (sum(other) / len(other))

    # Every distinct labelling with four neurons per class is equally likely
    # under shuffling
    observed = ratio(labels)
    ratios = []
    for members in itertools.combinations(range(8), 4):
        lab = np.ones(8, dtype=int)
        lab[list(members)] = 0
        ratios.append(ratio(lab))
    exact = np.mean(np.array(ratios) <= observed + 1e-12)

    result = spatial_clustering_of_function(positions, labels,
                                            permutations=4000, rng=7)
    assert result["ratio"] == pytest.approx(observed, rel=1e-12)
    assert result["neurons"] == 8 and result["classes"] == 2
    assert result["p_value"] == pytest.approx(exact, abs=0.03)


def test_two_clusters_are_spatially_clustered_and_random_labels_are_not():
    positions, cluster = _two_clusters(60, seed=8)
    clustered = spatial_clustering_of_function(positions, cluster,
                                               permutations=500, rng=0)
    assert clustered["ratio"] < 0.5
    assert clustered["p_value"] < 0.01
    # Same seed, same answer
    assert spatial_clustering_of_function(
        positions, cluster, permutations=500, rng=0) == clustered

    random_positions = np.random.default_rng(9).uniform(-1, 1, (60, 2))
    shuffled = spatial_clustering_of_function(random_positions, cluster,
                                              permutations=500, rng=0)
    assert 0.8 < shuffled["ratio"] < 1.2
    assert shuffled["p_value"] > 0.05


def test_principal_components_match_covariance_eigenvectors():
    rng = np.random.default_rng(10)
    points = rng.normal(size=(200, 5)) * [3.0, 2.0, 1.0, 0.5, 0.2]
    projected, explained = principal_components(points, 2)
    covariance = np.cov(points, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    top = eigenvectors[:, ::-1][:, :2]
    centred = points - points.mean(axis=0)
    for k in range(2):
        np.testing.assert_allclose(np.abs(projected[:, k]),
                                   np.abs(centred @ top[:, k]), atol=1e-10)
    np.testing.assert_allclose(explained,
                               eigenvalues[::-1][:2] / eigenvalues.sum())
    with pytest.raises(ValueError, match="components"):
        principal_components(points, 6)


# ----------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------
def test_load_layout_reads_sources_and_targets(tmp_path):
    positions, cluster = _two_clusters(20, dimensions=3)
    connections = _write_run(tmp_path, positions, cluster,
                             _cluster_weights(cluster))
    layout = load_layout(str(tmp_path / "layout.npz"))
    assert list(layout.connections) == ["input_hidden", "hidden_hidden",
                                        "hidden_output"]
    assert layout.dimensions == 3
    ends = {n: (c.source, c.target) for n, c in layout.connections.items()}
    assert ends["input_hidden"] == ("input", "hidden")
    assert ends["hidden_hidden"] == ("hidden", "hidden")
    assert ends["hidden_output"] == ("hidden", "output")
    sparse = layout.connections["hidden_output"]
    assert not sparse.dense and sparse.num_synapses == 50
    np.testing.assert_array_equal(sparse.pre_ind,
                                  connections["hidden_output"]["pre_ind"])
    assert layout.connections["hidden_hidden"].recurrent


def test_layout_without_endpoints_is_refused_not_guessed(tmp_path):
    # Twin populations would make a guess from distances ambiguous; the
    # file must name a connection's populations
    rng = np.random.default_rng(11)
    twin = rng.uniform(-1, 1, (5, 2))
    np.savez(tmp_path / "twin.npz", **{"positions/a": twin,
                                       "positions/b": twin.copy(),
                                       "c/distance": distance(twin, twin),
                                       "c/delay": np.zeros((5, 5), int)})
    with pytest.raises(ValueError, match="twin.npz.*lacks c/source"):
        load_layout(str(tmp_path / "twin.npz"))


def test_load_run_reads_counts_results_and_class_population(tmp_path):
    positions, cluster = _two_clusters(20)
    _write_run(tmp_path, positions, cluster, _cluster_weights(cluster),
               dt=0.25)
    run = load_run(str(tmp_path))
    assert run.dt == 0.25 and run.results["test_accuracy"] == 0.5
    assert run.class_counts.shape == (20, 2)
    assert class_population(run.layout, run.class_counts) == "hidden"
    with pytest.raises(ValueError, match="rows"):
        class_population(run.layout, run.class_counts, "input")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no layout.npz"):
        load_run(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="neither"):
        load_run(str(tmp_path / "missing"))


def test_missing_optional_package_names_the_install():
    with pytest.raises(ImportError, match=r"pip install .*examples"):
        require("no_such_module_for_ml_genn_spatial", "a picture")


# ----------------------------------------------------------------------------
# Graph measures
# ----------------------------------------------------------------------------
def test_connectivity_graph_keeps_strongest_synapses():
    pytest.importorskip("networkx")
    from ml_genn_spatial.analysis import connectivity_graph
    rng = np.random.default_rng(12)
    weight = rng.normal(size=(10, 10))
    graph = connectivity_graph(10, weight, top_fraction=0.2)
    off_diagonal = sorted(((abs(weight[i, j]), (i, j))
                           for i in range(10) for j in range(10) if i != j),
                          reverse=True)
    assert set(graph.edges) == {edge for _, edge in off_diagonal[:18]}
    assert graph.edges[off_diagonal[0][1]]["weight"] == \
        weight[off_diagonal[0][1]]

    above = connectivity_graph(10, weight, threshold=1.0)
    assert set(above.edges) == {(i, j) for i in range(10) for j in range(10)
                                if i != j and abs(weight[i, j]) > 1.0}

    pre, post = np.array([0, 1, 2, 2, 3]), np.array([1, 2, 2, 0, 1])
    sparse = connectivity_graph(4, np.ones(5), pre, post)
    assert set(sparse.edges) == {(0, 1), (1, 2), (2, 0), (3, 1)}


def test_clustering_coefficient_matches_triangle_count():
    pytest.importorskip("networkx")
    from ml_genn_spatial.analysis import (clustering_coefficient,
                                          connectivity_graph)
    rng = np.random.default_rng(13)
    weight = rng.normal(size=(30, 30))
    graph = connectivity_graph(30, weight, top_fraction=0.15)
    adjacency = np.zeros((30, 30))
    for i, j in graph.edges:
        adjacency[i, j] = adjacency[j, i] = 1.0
    degree = adjacency.sum(axis=1)
    triangles = np.diag(adjacency @ adjacency @ adjacency) / 2.0
    local = np.divide(2.0 * triangles, degree * (degree - 1.0),
                      out=np.zeros(30), where=degree > 1)
    assert clustering_coefficient(graph) == pytest.approx(local.mean(),
                                                          rel=1e-12)


def _newman_modularity(graph, communities):
    """Q = 1/(2m) sum_ij [A_ij - k_i k_j / (2m)] delta(c_i, c_j) on the
    undirected |w| graph (reciprocal edges summed)."""
    n = graph.number_of_nodes()
    adjacency = np.zeros((n, n))
    for i, j, data in graph.edges(data=True):
        adjacency[i, j] += data["abs_weight"]
        adjacency[j, i] += data["abs_weight"]
    strength = adjacency.sum(axis=1)
    two_m = adjacency.sum()
    community = np.empty(n, dtype=int)
    for c, members in enumerate(communities):
        community[members] = c
    same = community[:, None] == community[None, :]
    return float(np.sum((adjacency - np.outer(strength, strength) / two_m)
                        * same) / two_m)


@pytest.mark.parametrize("method", ["greedy", "louvain"])
def test_modularity_is_high_for_clusters_and_low_for_random(method):
    pytest.importorskip("networkx")
    from ml_genn_spatial.analysis import connectivity_graph, modularity
    _, cluster = _two_clusters(60)
    clustered = connectivity_graph(60, _cluster_weights(cluster),
                                   top_fraction=0.1)
    result = modularity(clustered, method, seed=0)
    assert result["modularity"] == pytest.approx(
        _newman_modularity(clustered, result["communities"]), rel=1e-10)
    assert result["modularity"] > 0.4
    assert sorted(map(sorted, result["communities"])) == [
        list(range(30)), list(range(30, 60))]

    random_weight = np.random.default_rng(14).normal(size=(60, 60))
    shuffled = connectivity_graph(60, random_weight, top_fraction=0.1)
    random_result = modularity(shuffled, method, seed=0)
    assert random_result["modularity"] == pytest.approx(
        _newman_modularity(shuffled, random_result["communities"]),
        rel=1e-10)
    assert random_result["modularity"] < result["modularity"] - 0.15


def test_small_world_sigma_against_references():
    nx = pytest.importorskip("networkx")
    from ml_genn_spatial.analysis import connectivity_graph, small_world
    # A ring lattice with few shortcuts is a small world; a random graph is
    # its own reference
    lattice = nx.watts_strogatz_graph(100, 8, 0.05, seed=1)
    ring = nx.DiGraph(lattice)
    result = small_world(ring, random_graphs=3, seed=5)
    references = [nx.gnm_random_graph(100, lattice.number_of_edges(),
                                      seed=5 + k) for k in range(3)]
    c_rand = np.mean([nx.average_clustering(g) for g in references])
    l_rand = np.mean([nx.average_shortest_path_length(g.subgraph(
        max(nx.connected_components(g), key=len))) for g in references])
    c = nx.average_clustering(lattice)
    length = nx.average_shortest_path_length(lattice)
    assert result["sigma"] == pytest.approx((c / c_rand) / (length / l_rand),
                                            rel=1e-10)
    assert result["sigma"] > 2.0

    weight = np.random.default_rng(15).normal(size=(100, 100))
    random = small_world(connectivity_graph(100, weight, top_fraction=0.1),
                         random_graphs=3, seed=5)
    assert 0.8 < random["sigma"] < 1.2


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------
def _png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_command_line_writes_figures_and_summary(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("networkx")
    from ml_genn_spatial.analysis.__main__ import main
    positions, cluster = _two_clusters(40)
    _write_run(tmp_path / "run", positions, cluster,
               _cluster_weights(cluster))
    output = tmp_path / "report"
    main([str(tmp_path / "run"), "--output", str(output),
          "--permutations", "200", "--random-graphs", "2"])
    printed = capsys.readouterr().out
    for name in FIGURES:
        assert _png(output / name), name
        assert str(output / name) in printed
    assert str(output / "summary.json") in printed

    with open(output / "summary.json") as f:
        summary = json.load(f)
    assert set(summary) >= {"layout", "dimensions", "dt", "populations",
                            "connections", "recurrent", "function",
                            "results", "figures"}
    assert summary["figures"] == FIGURES and summary["dt"] == 0.5
    connection = summary["connections"]["hidden_hidden"]
    assert set(connection) >= {"source", "target", "sparse", "synapses",
                               "delay", "length", "weight_distance"}
    assert connection["length"]["weighted_mean"] < connection["length"][
        "mean"]
    assert connection["weight_distance"]["pearson_abs"] < -0.5
    assert connection["delay"]["mean_ms"] == pytest.approx(
        0.5 * connection["delay"]["mean"])
    recurrent = summary["recurrent"]["hidden_hidden"]
    assert set(recurrent) >= {"clustering", "modularity", "communities",
                              "small_world", "selection"}
    assert recurrent["modularity"] > 0.4
    assert recurrent["selection"]["top_fraction"] == 0.1
    assert summary["function"]["p_value"] < 0.05
    assert summary["function"]["population"] == "hidden"


@pytest.mark.parametrize("dimensions", [1, 3, 5])
def test_command_line_on_a_layout_file_in_other_dimensions(tmp_path, capsys,
                                                           dimensions):
    pytest.importorskip("matplotlib")
    pytest.importorskip("networkx")
    positions = np.random.default_rng(16).uniform(-1, 1, (24, dimensions))
    cluster = np.repeat([0, 1], 12)
    _write_run(tmp_path, positions, cluster,
               np.random.default_rng(17).normal(size=(24, 24)))
    arguments = [str(tmp_path / "layout.npz"), "--output",
                 str(tmp_path / "out"), "--permutations", "200",
                 "--random-graphs", "2", "--communities", "louvain"]
    if dimensions == 3:
        # Once as a module, as a user would run it
        completed = subprocess.run(
            [sys.executable, "-m", "ml_genn_spatial.analysis", *arguments],
            capture_output=True, text=True, check=True)
        printed = completed.stdout
    else:
        from ml_genn_spatial.analysis.__main__ import main
        main(arguments)
        printed = capsys.readouterr().out
    assert "summary.json" in printed
    with open(tmp_path / "out" / "summary.json") as f:
        summary = json.load(f)
    assert summary["dimensions"] == dimensions
    # A random layout is not spatially clustered
    assert summary["function"]["p_value"] > 0.05
    assert all(_png(tmp_path / "out" / name) for name in summary["figures"])


def test_command_line_error_is_a_message(tmp_path):
    from ml_genn_spatial.analysis.__main__ import main
    with pytest.raises(SystemExit, match="layout.npz"):
        main([str(tmp_path), "--output", str(tmp_path / "out")])


@pytest.mark.parametrize("argv, culprit", [
    (["--top-fraction", "0"], "--top-fraction"),
    (["--top-fraction", "1.5"], "--top-fraction"),
    (["--threshold", "-1"], "--threshold"),
    (["--threshold", "nan"], "--threshold"),
    (["--random-graphs", "0"], "--random-graphs"),
    (["--permutations", "2.5"], "--permutations"),
    (["--seed", "-3"], "--seed"),
    (["--communities", "magic"], "--communities"),
    (["--class-counts", "MISSING"], "--class-counts"),
    (["--output", "FILE"], "--output"),
    (["RUN_MISSING"], "RUN"),
])
def test_command_line_bad_options_are_usage_errors(tmp_path, argv, culprit):
    positions, cluster = _two_clusters(20)
    _write_run(tmp_path / "run", positions, cluster, _cluster_weights(cluster))
    (tmp_path / "file").write_text("")
    replace = {"FILE": str(tmp_path / "file"),
               "MISSING": str(tmp_path / "missing.npy"),
               "RUN_MISSING": str(tmp_path / "nothing")}
    argv = [replace.get(a, a) for a in argv]
    run = [] if argv[0].startswith(str(tmp_path)) else [str(tmp_path / "run")]
    output = [] if "--output" in argv else ["--output", str(tmp_path / "o")]
    done = subprocess.run([sys.executable, "-m", "ml_genn_spatial.analysis",
                           *run, *argv, *output], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "error:" in last and culprit in last, last


@pytest.mark.parametrize("damage", ["layout", "counts", "results"])
def test_command_line_damaged_files_are_named(tmp_path, damage):
    positions, cluster = _two_clusters(20)
    _write_run(tmp_path, positions, cluster, _cluster_weights(cluster))
    name = {"layout": "layout.npz", "counts": "hidden_class_counts.npy",
            "results": "results.json"}[damage]
    (tmp_path / name).write_bytes(b"\x93NUMPY garbage")
    done = subprocess.run([sys.executable, "-m", "ml_genn_spatial.analysis",
                           str(tmp_path), "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert name in done.stderr


# ----------------------------------------------------------------------------
# The file save_layout really writes
# ----------------------------------------------------------------------------
@pytest.mark.genn
def test_loads_what_save_layout_writes(tmp_path):
    try:
        from ml_genn import Network, Population
        from ml_genn.compilers.event_prop_compiler import default_params
        from ml_genn.neurons import LeakyIntegrateFire, SpikeInput
        from ml_genn.synapses import Exponential
        from ml_genn_spatial import (Space, SpatialConnection,
                                     SpatialDense, SpatialSparse,
                                     place, save_layout)
    except ImportError:
        if genn_available():
            raise
        pytest.skip("GeNN is not installed")
    rng = np.random.default_rng(18)
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 5, name="inp")
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 12, name="hid")
        space = Space(2, bounds=(-1.0, 1.0), rng=3)
        place(inp, space)
        place(hid, space)
        SpatialConnection(inp, hid,
                          SpatialDense(rng.normal(size=(5, 12)), 20),
                          Exponential(5.0), name="inp_hid")
        pre_ind, post_ind = rng.integers(0, 12, 30), rng.integers(0, 12, 30)
        SpatialConnection(hid, hid,
                          SpatialSparse(0.1, rng.normal(size=30), 20,
                                        pre_ind=pre_ind, post_ind=post_ind),
                          Exponential(5.0), name="hid_hid")
    exported = save_layout(network, str(tmp_path / "layout.npz"))
    layout = load_layout(str(tmp_path / "layout.npz"))
    for name, fields in exported["connections"].items():
        loaded = layout.connections[name]
        assert (loaded.source, loaded.target) == (fields["source"],
                                                  fields["target"])
        np.testing.assert_array_equal(loaded.delay, fields["delay"])
        np.testing.assert_array_equal(loaded.weight, fields["weight"])
    assert not layout.connections["hid_hid"].dense
