"""Graph metrics of a recurrent spatial connection (networkx).

The recurrent connectivity of one population becomes a directed graph
(:func:`connectivity_graph`): one node per neuron, one edge per synapse
that survives the selection. Dense connections are all-to-all, so their
graph keeps a chosen share of the strongest synapses; sparse connections
keep their synapses as they are. Self-connections are left out (they
change no path and no community, and networkx counts them oddly in
clustering).

Graph measures follow the small-world literature and are taken on the
undirected graph (an edge where either direction exists):

- clustering: mean local clustering coefficient of the unweighted graph
  (nodes with fewer than two neighbours count 0), as in Watts & Strogatz;
- modularity: Newman's Q of the communities found by greedy modularity
  maximisation (Clauset-Newman-Moore) or Louvain, on the graph weighted by
  ``|w|`` (summed over the two directions of a reciprocal pair);
- small-world coefficient ``sigma = (C / C_rand) / (L / L_rand)``
  (Humphries & Gurney 2008): C the clustering above, L the mean shortest
  path length (in hops) within the largest connected component, and
  ``C_rand``, ``L_rand`` their means over a few Erdos-Renyi graphs with the
  same numbers of nodes and edges (``gnm_random_graph``, seeds
  ``seed, seed+1, ...``). Erdos-Renyi references, unlike the degree
  preserving rewiring of ``networkx.sigma``, cost one graph build each, so
  256 neurons at 10 % density take about a second. sigma > 1 marks a small
  world.

networkx is imported on first use.
"""
import numpy as np

from ._optional import require


def _nx():
    return require("networkx", "the graph analysis of ml_genn_spatial")


def connectivity_graph(num_neurons: int, weight=None, pre_ind=None,
                       post_ind=None, distance=None, threshold: float = None,
                       top_fraction: float = None):
    """Directed graph of a recurrent connection.

    Candidate edges are the synapses ``i -> j`` with ``i != j`` and
    ``w != 0`` (every ordered pair when dense). Of these the graph keeps
    those with ``|w| > threshold`` (when given) and then the
    ``ceil(top_fraction * count)`` with the largest ``|w|`` (when given;
    ties go to the lower synapse index). Parallel sparse synapses between
    one pair merge into one edge with their weights summed.

    Args:
        num_neurons: number of neurons N of the population (the nodes
            ``0 .. N-1``)
        weight: dense ``(N, N)`` or sparse ``(n_syn,)`` weights; None keeps
            every synapse with weight 1
        pre_ind: presynaptic index of each synapse (sparse) or None (dense)
        post_ind: postsynaptic index of each synapse (sparse) or None (dense)
        distance: distance of each synapse [space units], same shape as the
            weights, stored on the edges; optional
        threshold: smallest ``|w|`` kept (exclusive), or None
        top_fraction: share of the candidate synapses kept, in (0, 1], or
            None for all

    Returns:
        ``networkx.DiGraph`` whose edges carry ``weight`` (signed),
        ``abs_weight`` and, when given, ``distance`` [space units]
    """
    nx = _nx()
    n = int(num_neurons)
    if pre_ind is None:
        shape = (n, n)
        pre, post = (a.ravel() for a in np.indices(shape))
    else:
        pre = np.asarray(pre_ind, dtype=np.int64).ravel()
        post = np.asarray(post_ind, dtype=np.int64).ravel()
        shape = pre.shape
        if pre.size and (min(pre.min(), post.min()) < 0
                         or max(pre.max(), post.max()) >= n):
            raise ValueError(f"synapse indices must lie in [0, {n})")
    w = (np.ones(pre.size) if weight is None
         else np.asarray(weight, dtype=np.float64).reshape(-1))
    if w.size != pre.size:
        raise ValueError(f"weight must have shape {shape} (one value per "
                         f"synapse), not {np.shape(weight)}")
    d = (None if distance is None
         else np.asarray(distance, dtype=np.float64).reshape(-1))
    if d is not None and d.size != pre.size:
        raise ValueError(f"distance must have shape {shape}, not "
                         f"{np.shape(distance)}")

    keep = np.flatnonzero((pre != post) & (w != 0.0))
    if threshold is not None:
        keep = keep[np.abs(w[keep]) > float(threshold)]
    if top_fraction is not None:
        if not 0.0 < float(top_fraction) <= 1.0:
            raise ValueError(f"top_fraction must lie in (0, 1], not "
                             f"{top_fraction}")
        count = int(np.ceil(float(top_fraction) * keep.size))
        strongest = np.argsort(-np.abs(w[keep]), kind="stable")[:count]
        keep = np.sort(keep[strongest])

    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    for s in keep:
        i, j = int(pre[s]), int(post[s])
        if graph.has_edge(i, j):
            edge = graph.edges[i, j]
            edge["weight"] += float(w[s])
            edge["abs_weight"] = abs(edge["weight"])
            continue
        attributes = {"weight": float(w[s]), "abs_weight": abs(float(w[s]))}
        if d is not None:
            attributes["distance"] = float(d[s])
        graph.add_edge(i, j, **attributes)
    return graph


def undirected_graph(graph):
    """The undirected graph: an edge where either direction exists, with
    ``abs_weight`` summed over the two directions."""
    nx = _nx()
    undirected = nx.Graph()
    undirected.add_nodes_from(graph.nodes)
    for i, j, data in graph.edges(data=True):
        if i == j:
            continue
        magnitude = data.get("abs_weight", 1.0)
        if undirected.has_edge(i, j):
            undirected.edges[i, j]["abs_weight"] += magnitude
        else:
            undirected.add_edge(i, j, abs_weight=magnitude)
    return undirected


def clustering_coefficient(graph) -> float:
    """Mean local clustering coefficient of the undirected, unweighted
    graph (nodes with fewer than two neighbours count 0)."""
    nx = _nx()
    undirected = undirected_graph(graph)
    if undirected.number_of_nodes() == 0:
        return float("nan")
    return float(nx.average_clustering(undirected))


def modularity(graph, method: str = "greedy", seed: int = 0) -> dict:
    """Communities of the ``|w|``-weighted undirected graph and their
    modularity Q.

    Args:
        graph: a graph from :func:`connectivity_graph`
        method: ``"greedy"`` (Clauset-Newman-Moore greedy modularity
            maximisation, deterministic) or ``"louvain"`` (seeded)
        seed: seed of the Louvain method

    Returns:
        ``{"modularity": Q, "communities": [sorted node lists, largest
        first]}``; Q is NaN for a graph without edges
    """
    nx = _nx()
    undirected = undirected_graph(graph)
    if undirected.number_of_edges() == 0:
        return {"modularity": float("nan"),
                "communities": [[node] for node in sorted(undirected)]}
    if method == "greedy":
        found = nx.community.greedy_modularity_communities(
            undirected, weight="abs_weight")
    elif method == "louvain":
        found = nx.community.louvain_communities(
            undirected, weight="abs_weight", seed=seed)
    else:
        raise ValueError(f"method must be 'greedy' or 'louvain', not "
                         f"{method!r}")
    communities = sorted((sorted(c) for c in found),
                         key=lambda c: (-len(c), c[0]))
    q = nx.community.modularity(undirected, communities,
                                weight="abs_weight")
    return {"modularity": float(q), "communities": communities}


def _clustering_and_path_length(undirected):
    nx = _nx()
    clustering = nx.average_clustering(undirected)
    largest = max(nx.connected_components(undirected), key=len)
    if len(largest) < 2:
        return float(clustering), float("nan")
    path = nx.average_shortest_path_length(undirected.subgraph(largest))
    return float(clustering), float(path)


def small_world(graph, random_graphs: int = 5, seed: int = 0) -> dict:
    """Small-world coefficient ``sigma = (C / C_rand) / (L / L_rand)``
    against Erdos-Renyi graphs with the same numbers of nodes and edges.

    Args:
        graph: a graph from :func:`connectivity_graph`
        random_graphs: number of random reference graphs
        seed: seed of the first reference graph (the k-th uses
            ``seed + k``)

    Returns:
        ``{"sigma", "clustering", "path_length", "random_clustering",
        "random_path_length", "random_graphs"}``; path lengths in hops
        within the largest connected component; sigma NaN where a ratio is
        undefined
    """
    nx = _nx()
    if int(random_graphs) < 1:
        raise ValueError(f"random_graphs must be >= 1, not {random_graphs}")
    undirected = undirected_graph(graph)
    nodes, edges = undirected.number_of_nodes(), undirected.number_of_edges()
    nan = float("nan")
    result = {"sigma": nan, "clustering": nan, "path_length": nan,
              "random_clustering": nan, "random_path_length": nan,
              "random_graphs": int(random_graphs)}
    if edges == 0:
        return result
    clustering, path = _clustering_and_path_length(undirected)
    references = np.array([
        _clustering_and_path_length(
            nx.gnm_random_graph(nodes, edges, seed=seed + k))
        for k in range(int(random_graphs))])
    random_clustering, random_path = references.mean(axis=0)
    result.update(clustering=clustering, path_length=path,
                  random_clustering=float(random_clustering),
                  random_path_length=float(random_path))
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = (clustering / random_clustering) / (path / random_path)
    result["sigma"] = float(sigma) if np.isfinite(sigma) else nan
    return result


def graph_metrics(graph, community_method: str = "greedy",
                  random_graphs: int = 5, seed: int = 0) -> dict:
    """Every graph measure of this module for one recurrent graph.

    Returns:
        ``{"nodes", "edges", "density", "clustering", "modularity",
        "communities", "community_sizes", "community_members",
        "community_method", "small_world": small_world(...)}``;
        ``density`` is ``edges / (N (N - 1))`` of the directed graph,
        ``community_members`` the node lists of :func:`modularity`
    """
    nodes = graph.number_of_nodes()
    edges = graph.number_of_edges()
    communities = modularity(graph, community_method, seed)
    return {"nodes": nodes, "edges": edges,
            "density": (edges / (nodes * (nodes - 1)) if nodes > 1
                        else float("nan")),
            "clustering": clustering_coefficient(graph),
            "modularity": communities["modularity"],
            "communities": len(communities["communities"]),
            "community_sizes": [len(c) for c in communities["communities"]],
            "community_members": communities["communities"],
            "community_method": community_method,
            "small_world": small_world(graph, random_graphs, seed)}
