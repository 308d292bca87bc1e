"""``layout.npz``: learned positions with the distances, delays and
weights of every spatial connection. This module writes the file and reads
it back; no GeNN import (:func:`ml_genn_spatial.export.save_layout` gathers
the values from an mlGeNN network and calls :func:`write_layout`).

Arrays in the file:

- ``positions/<population>``: ``(N, D)`` [space units];
- ``<connection>/source``, ``<connection>/target``: names of its
  populations (0-d strings);
- ``<connection>/distance`` [space units], ``/delay`` [timesteps],
  ``/weight``: ``(N_pre, N_post)`` when dense, one value per synapse when
  sparse, with ``/pre_ind`` and ``/post_ind``;
- ``<connection>/eps``, ``/scale``, ``/offset``, ``/max_delay_steps``:
  the distance-to-delay map (0-d).

Runs without positions (``--dimensions 0`` or ``inf``) write no layout.
"""
import os
import zipfile
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from .geometry import validate_positions

#: Fields of a connection in the file; ``source``, ``target``,
#: ``distance`` and ``delay`` are required
CONNECTION_FIELDS = ("source", "target", "distance", "delay", "weight",
                     "pre_ind", "post_ind", "eps", "scale", "offset",
                     "max_delay_steps")
_REQUIRED = ("source", "target", "distance", "delay")


@dataclass
class ConnectionLayout:
    """One spatial connection of a layout.

    Args:
        name: connection name
        source: name of the presynaptic population
        target: name of the postsynaptic population
        distance: distance of every synapse [space units]; dense
            ``(N_pre, N_post)``, sparse ``(n_syn,)``
        delay: delay of every synapse [timesteps], same shape
        weight: weight of every synapse, same shape, or None when not
            realised
        pre_ind: presynaptic index of each synapse (sparse) or None (dense)
        post_ind: postsynaptic index of each synapse (sparse) or None
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


def write_layout(path: str, positions: Dict[str, np.ndarray],
                 connections: Dict[str, dict]) -> None:
    """Write a layout file.

    Args:
        path: the ``.npz`` to write
        positions: ``{population: (N, D)}`` [space units]
        connections: ``{connection: {field: value}}`` with the fields of
            :data:`CONNECTION_FIELDS`; ``source``, ``target``,
            ``distance`` and ``delay`` required, None values left out
    """
    arrays = {f"positions/{name}": np.asarray(value, dtype=np.float64)
              for name, value in positions.items()}
    for name, fields in connections.items():
        missing = [f for f in _REQUIRED if fields.get(f) is None]
        unknown = sorted(set(fields) - set(CONNECTION_FIELDS))
        if missing or unknown:
            raise ValueError(f"connection {name!r}: fields {missing} "
                             f"missing, {unknown} unknown")
        for role in ("source", "target"):
            if fields[role] not in positions:
                raise ValueError(f"the {role} of connection {name!r}, "
                                 f"{fields[role]!r}, has no positions")
        for key, value in fields.items():
            if value is not None:
                arrays[f"{name}/{key}"] = np.asarray(value)
    # Through a temporary file: an interrupted write leaves no half file
    temporary = path + ".tmp.npz"
    np.savez(temporary, **arrays)
    os.replace(temporary, path)


def _name(array) -> str:
    value = np.asarray(array).item()
    return value.decode() if isinstance(value, bytes) else str(value)


def _read(path: str):
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable layout file ({exc}); "
                         f"write it again (ml_genn_spatial.export."
                         f"save_layout, or rerun the training script)")


def load_layout(path: str) -> Layout:
    """Read a layout file written by :func:`write_layout`.

    Raises:
        FileNotFoundError: if ``path`` does not exist
        ValueError: naming the file, if it is damaged, holds no positions,
            or a connection lacks a field or has mismatched shapes
    """
    arrays = _read(path)
    positions, fields = {}, {}
    for key, value in arrays.items():
        if key.startswith("positions/"):
            try:
                positions[key[len("positions/"):]] = validate_positions(
                    value, name=key)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}")
            continue
        connection, _, field_name = key.rpartition("/")
        if connection and field_name in CONNECTION_FIELDS:
            fields.setdefault(connection, {})[field_name] = value
    if not positions:
        raise ValueError(f"{path} holds no 'positions/<population>' "
                         f"arrays: is it a layout written by save_layout?")

    connections = {}
    for name, values in fields.items():
        missing = [f"{name}/{f}" for f in _REQUIRED if f not in values]
        if missing:
            raise ValueError(f"{path}: connection '{name}' lacks "
                             f"{', '.join(missing)}; files written before "
                             f"layouts named their populations must be "
                             f"written again (save_layout, or rerun)")
        if ("pre_ind" in values) != ("post_ind" in values):
            raise ValueError(f"{path}: connection '{name}' must store both "
                             f"pre_ind and post_ind (sparse) or neither "
                             f"(dense)")
        source, target = _name(values["source"]), _name(values["target"])
        for role, pop in (("source", source), ("target", target)):
            if pop not in positions:
                raise ValueError(f"{path}: the {role} of connection "
                                 f"'{name}' is '{pop}', which has no "
                                 f"positions in the layout")
        dist = np.asarray(values["distance"], dtype=np.float64)
        pre_ind, post_ind = values.get("pre_ind"), values.get("post_ind")
        if pre_ind is not None:
            pre_ind = np.asarray(pre_ind, dtype=np.int64)
            post_ind = np.asarray(post_ind, dtype=np.int64)
        expected = ((positions[source].shape[0], positions[target].shape[0])
                    if pre_ind is None else pre_ind.shape)
        weight = values.get("weight")
        delay = np.asarray(values["delay"])
        for field_name, array in (("distance", dist), ("delay", delay),
                                  ("weight", weight)):
            if array is not None and array.shape != tuple(expected):
                raise ValueError(f"{path}: {name}/{field_name} has shape "
                                 f"{array.shape}, not {tuple(expected)}")
        connections[name] = ConnectionLayout(
            name=name, source=source, target=target, distance=dist,
            delay=delay.astype(np.int64),
            weight=None if weight is None else np.asarray(weight,
                                                          dtype=np.float64),
            pre_ind=pre_ind, post_ind=post_ind)
    return Layout(positions=positions, connections=connections,
                  path=os.fspath(path))
