"""Loading of exported layouts and of the run folders around them.

A layout file is the ``.npz`` that :func:`ml_genn_spatial.export.save_layout`
writes: ``positions/<population>`` (shape ``(N, D)`` [space units]) and, for
every spatial connection, ``<connection>/distance`` [space units],
``<connection>/delay`` [timesteps], ``<connection>/weight`` and, when the
connection is sparse, ``<connection>/pre_ind`` and ``<connection>/post_ind``.
Dense connections store ``(N_pre, N_post)`` matrices, sparse ones one value
per synapse.

The source and target population of each connection are taken, in this
order, from 0-d string arrays ``<connection>/source`` and
``<connection>/target`` in the file, from a JSON sidecar
(``{"connections": {"<connection>": {"source": ..., "target": ...}}}``,
by default ``<layout stem>.json`` next to the file), or else inferred: the
one pair of populations whose positions reproduce the stored distances
(``distance^2 - |x_post - x_pre|^2`` is the same ``eps^2 >= 0`` for every
synapse).

A run folder holds ``layout.npz`` and optionally ``hidden_class_counts.npy``
(spike counts of each hidden neuron per class, shape
``(num_hidden, num_classes)``) and ``results.json``.
"""
import json
import os
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from ..geometry import distance as pair_distance
from ..geometry import validate_positions

LAYOUT_FILE = "layout.npz"
CLASS_COUNTS_FILE = "hidden_class_counts.npy"
RESULTS_FILE = "results.json"

_CONNECTION_FIELDS = ("distance", "delay", "weight", "pre_ind", "post_ind",
                      "source", "target")


@dataclass
class ConnectionLayout:
    """One spatial connection of an exported layout.

    Args:
        name: connection name
        source: name of the presynaptic population
        target: name of the postsynaptic population
        distance: distance of every synapse [space units]; dense
            ``(N_pre, N_post)``, sparse ``(n_syn,)``
        delay: delay of every synapse [timesteps], same shape
        weight: weight of every synapse, same shape, or None when the
            export had no realised weights
        pre_ind: presynaptic index of each synapse (sparse) or None (dense)
        post_ind: postsynaptic index of each synapse (sparse) or None (dense)
    """
    name: str
    source: str
    target: str
    distance: np.ndarray
    delay: np.ndarray
    weight: Optional[np.ndarray] = None
    pre_ind: Optional[np.ndarray] = None
    post_ind: Optional[np.ndarray] = None

    @property
    def dense(self) -> bool:
        """True for a dense connection (``(N_pre, N_post)`` matrices)."""
        return self.pre_ind is None

    @property
    def recurrent(self) -> bool:
        """True when the connection joins a population to itself."""
        return self.source == self.target

    @property
    def num_synapses(self) -> int:
        """Number of synapses (every pair when dense)."""
        return int(self.distance.size)


@dataclass
class Layout:
    """Positions of the placed populations and the spatial connections.

    Args:
        positions: ``{population: positions (N, D)}`` [space units]
        connections: ``{connection: ConnectionLayout}``
        path: file the layout was read from, if any
    """
    positions: Dict[str, np.ndarray]
    connections: Dict[str, ConnectionLayout] = field(default_factory=dict)
    path: Optional[str] = None

    @property
    def dimensions(self) -> int:
        """Number of spatial dimensions D (shared by every population)."""
        return next(iter(self.positions.values())).shape[1]


@dataclass
class Run:
    """A layout with what the same training run wrote next to it.

    Args:
        layout: the exported layout
        class_counts: spike counts per neuron and class, shape
            ``(N, num_classes)``, or None
        results: contents of ``results.json``, or None
        dt: simulation timestep [ms] (from the results' ``config.dt``), or
            None when unknown
    """
    layout: Layout
    class_counts: Optional[np.ndarray] = None
    results: Optional[dict] = None
    dt: Optional[float] = None


# ----------------------------------------------------------------------------
# Source / target populations
# ----------------------------------------------------------------------------
def endpoint_candidates(distance, positions: Dict[str, np.ndarray],
                        pre_ind=None, post_ind=None,
                        rtol: float = 1e-6) -> list:
    """Every ``(source, target)`` pair of populations whose positions give
    the stored distances.

    A pair fits when its shapes fit and ``distance^2 - |x_post - x_pre|^2``
    is one constant ``eps^2 >= 0`` (the softening length) for every
    synapse, to within ``rtol`` of the largest squared distance.

    Args:
        distance: stored distances [space units]; dense ``(N_pre, N_post)``,
            sparse ``(n_syn,)``
        positions: ``{population: positions (N, D)}`` [space units]
        pre_ind: presynaptic index of each synapse (sparse) or None
        post_ind: postsynaptic index of each synapse (sparse) or None
        rtol: tolerance, relative to the largest squared distance

    Returns:
        list of ``(source, target)`` names
    """
    distance = np.asarray(distance, dtype=np.float64)
    squared = distance * distance
    tolerance = rtol * max(1.0, float(np.max(squared, initial=0.0)))
    fits = []
    for source, pre in positions.items():
        for target, post in positions.items():
            if pre.shape[1] != post.shape[1]:
                continue
            if pre_ind is None:
                if distance.shape != (pre.shape[0], post.shape[0]):
                    continue
            elif (pre_ind.size and (pre_ind.max() >= pre.shape[0]
                                    or post_ind.max() >= post.shape[0])):
                continue
            plain = pair_distance(pre, post, eps=0.0, pre_ind=pre_ind,
                                  post_ind=post_ind)
            eps_squared = squared - plain * plain
            if eps_squared.size == 0:
                fits.append((source, target))
                continue
            centre = float(np.median(eps_squared))
            if (centre >= -tolerance
                    and np.max(np.abs(eps_squared - centre)) <= tolerance):
                fits.append((source, target))
    return fits


def infer_endpoints(name: str, distance, positions: Dict[str, np.ndarray],
                    pre_ind=None, post_ind=None) -> tuple:
    """The one ``(source, target)`` pair of populations whose positions
    give a connection's stored distances.

    Raises:
        ValueError: if no pair or more than one pair fits; the message says
            how to name them (a JSON sidecar, or ``source`` / ``target``
            arrays in the file)
    """
    fits = endpoint_candidates(distance, positions, pre_ind, post_ind)
    hint = (f"name them in a JSON sidecar next to the layout, "
            f'{{"connections": {{"{name}": {{"source": "...", '
            f'"target": "..."}}}}}}, or store 0-d string arrays '
            f"'{name}/source' and '{name}/target' in the npz")
    if not fits:
        raise ValueError(f"no pair of populations in the layout reproduces "
                         f"the distances of connection '{name}'; {hint}")
    if len(fits) > 1:
        raise ValueError(f"the source and target of connection '{name}' are "
                         f"ambiguous: {fits} all reproduce its distances; "
                         f"{hint}")
    return fits[0]


# ----------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------
def _read_sidecar(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        sidecar = json.load(f)
    connections = sidecar.get("connections", {}) if isinstance(
        sidecar, dict) else None
    if not isinstance(connections, dict):
        raise ValueError(f"{path}: a layout sidecar must be a JSON object "
                         f'{{"connections": {{name: {{"source": ..., '
                         f'"target": ...}}}}}}')
    return connections


def _name(array) -> str:
    """A population name stored as a 0-d string (or bytes) array."""
    value = np.asarray(array).item()
    return value.decode() if isinstance(value, bytes) else str(value)


def load_layout(path: str, sidecar: str = None) -> Layout:
    """Read a layout ``.npz`` written by
    :func:`ml_genn_spatial.export.save_layout`.

    Args:
        path: the ``.npz`` file
        sidecar: JSON file naming the source and target population of each
            connection; by default ``<stem>.json`` next to ``path`` when it
            exists. Not needed when the file stores ``<connection>/source``
            and ``/target`` or the populations can be inferred.

    Returns:
        a :class:`Layout`

    Raises:
        ValueError: if the file holds no positions, a connection lacks its
            distances or delays, or its populations cannot be determined
    """
    if sidecar is None:
        default = os.path.splitext(path)[0] + ".json"
        sidecar = default if os.path.isfile(default) else None
    named = _read_sidecar(sidecar) if sidecar is not None else {}

    positions, fields = {}, {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            if key.startswith("positions/"):
                name = key[len("positions/"):]
                positions[name] = validate_positions(data[key], name=key)
                continue
            connection, _, field_name = key.rpartition("/")
            if connection and field_name in _CONNECTION_FIELDS:
                fields.setdefault(connection, {})[field_name] = data[key]
    if not positions:
        raise ValueError(f"{path} holds no 'positions/<population>' arrays: "
                         f"is it a layout written by save_layout?")

    connections = {}
    for name, values in fields.items():
        missing = [f for f in ("distance", "delay") if f not in values]
        if missing:
            raise ValueError(f"{path}: connection '{name}' lacks "
                             f"{', '.join(f'{name}/{m}' for m in missing)}")
        if ("pre_ind" in values) != ("post_ind" in values):
            raise ValueError(f"{path}: connection '{name}' must store both "
                             f"pre_ind and post_ind (sparse) or neither "
                             f"(dense)")
        dist = np.asarray(values["distance"], dtype=np.float64)
        pre_ind = values.get("pre_ind")
        post_ind = values.get("post_ind")
        if pre_ind is not None:
            pre_ind = np.asarray(pre_ind, dtype=np.int64)
            post_ind = np.asarray(post_ind, dtype=np.int64)
        if "source" in values and "target" in values:
            source, target = (_name(values["source"]),
                              _name(values["target"]))
        elif name in named:
            source, target = named[name]["source"], named[name]["target"]
        else:
            source, target = infer_endpoints(name, dist, positions, pre_ind,
                                             post_ind)
        for role, pop in (("source", source), ("target", target)):
            if pop not in positions:
                raise ValueError(f"{path}: the {role} of connection '{name}' "
                                 f"is '{pop}', which has no positions in "
                                 f"the layout")
        weight = values.get("weight")
        delay = np.asarray(values["delay"])
        for field_name, array in (("delay", delay), ("weight", weight)):
            if array is not None and array.shape != dist.shape:
                raise ValueError(f"{path}: {name}/{field_name} has shape "
                                 f"{array.shape}, {name}/distance "
                                 f"{dist.shape}")
        connections[name] = ConnectionLayout(
            name=name, source=source, target=target, distance=dist,
            delay=delay.astype(np.int64),
            weight=None if weight is None else np.asarray(weight,
                                                          dtype=np.float64),
            pre_ind=pre_ind, post_ind=post_ind)
    return Layout(positions=positions, connections=connections,
                  path=os.fspath(path))


def load_run(path: str, sidecar: str = None,
             class_counts: str = None) -> Run:
    """Read a run folder (or a layout ``.npz`` and the files beside it).

    Args:
        path: run folder holding ``layout.npz``, or a layout ``.npz``
        sidecar: JSON sidecar naming each connection's populations (see
            :func:`load_layout`)
        class_counts: ``.npy`` of spike counts per neuron and class; by
            default ``hidden_class_counts.npy`` beside the layout when it
            exists

    Returns:
        a :class:`Run`
    """
    if os.path.isdir(path):
        folder, layout_path = path, os.path.join(path, LAYOUT_FILE)
        if not os.path.isfile(layout_path):
            raise FileNotFoundError(f"{path} holds no {LAYOUT_FILE}: pass "
                                    f"the layout .npz itself, or a run "
                                    f"folder that save_layout wrote into")
    elif os.path.isfile(path):
        folder, layout_path = os.path.dirname(path) or ".", path
    else:
        raise FileNotFoundError(f"{path} is neither a run folder nor a "
                                f"layout .npz")
    layout = load_layout(layout_path, sidecar)

    if class_counts is None:
        default = os.path.join(folder, CLASS_COUNTS_FILE)
        class_counts = default if os.path.isfile(default) else None
    counts = None
    if class_counts is not None:
        counts = np.load(class_counts, allow_pickle=False)
        if counts.ndim != 2:
            raise ValueError(f"{class_counts} must have shape (num_neurons, "
                             f"num_classes), not {counts.shape}")

    results, dt = None, None
    results_path = os.path.join(folder, RESULTS_FILE)
    if os.path.isfile(results_path):
        with open(results_path, encoding="utf-8") as f:
            results = json.load(f)
        config = results.get("config", {}) if isinstance(results, dict) \
            else {}
        if isinstance(config, dict) and isinstance(config.get("dt"),
                                                   (int, float)):
            dt = float(config["dt"])
    return Run(layout=layout, class_counts=counts, results=results, dt=dt)


def class_population(layout: Layout, class_counts, name: str = None) -> str:
    """The population that the rows of ``class_counts`` belong to.

    Args:
        layout: the layout
        class_counts: spike counts, shape ``(N, num_classes)``
        name: the population, when the caller knows it

    Returns:
        the population name: ``name`` if given, else the one population of
        N neurons; among several, ``"hidden"`` or else the one with a
        recurrent spatial connection

    Raises:
        ValueError: if no population, or more than one, fits
    """
    n = np.shape(class_counts)[0]
    if name is not None:
        if name not in layout.positions:
            raise ValueError(f"population '{name}' is not in the layout "
                             f"(it has {sorted(layout.positions)})")
        if layout.positions[name].shape[0] != n:
            raise ValueError(f"class counts have {n} rows but population "
                             f"'{name}' has "
                             f"{layout.positions[name].shape[0]} neurons")
        return name
    fits = [p for p, x in layout.positions.items() if x.shape[0] == n]
    if len(fits) > 1:
        recurrent = {c.source for c in layout.connections.values()
                     if c.recurrent}
        fits = (["hidden"] if "hidden" in fits
                else [p for p in fits if p in recurrent])
    if len(fits) != 1:
        raise ValueError(f"cannot tell which population the {n} rows of the "
                         f"class counts belong to; name it (--class-population"
                         f")")
    return fits[0]
