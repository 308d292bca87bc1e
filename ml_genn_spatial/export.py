"""Export of learned layouts: positions with the delay matrices they imply.

Works on an mlGeNN network whose placed populations hold their positions,
e.g. after ``Network.load`` of a checkpoint, or after
:func:`pull_positions` from a compiled network.
"""
import numbers

import numpy as np

from . import names
from .connectivity import is_spatial
from .geometry import delay_steps, distance
from .placement import get_positions, get_space, is_placed, set_positions
from .layout_io import write_layout


def device_positions(compiled_network, pop) -> np.ndarray:
    """Positions ``(N, D)`` [space units] of a placed population as a
    compiled network holds them on the device."""
    genn_pop = compiled_network.neuron_populations[pop]
    columns = []
    for k in range(get_space(pop).dimensions):
        genn_pop.vars[names.position(k)].pull_from_device()
        columns.append(np.array(genn_pop.vars[names.position(k)].values,
                                dtype=np.float64))
    return np.stack(columns, axis=1)


def pull_positions(compiled_network):
    """Copy the positions a compiled network holds on the device back into
    its (placed) populations [space units]."""
    for pop, genn_pop in compiled_network.neuron_populations.items():
        if is_placed(pop) and names.position(0) in genn_pop.vars:
            set_positions(pop, device_positions(compiled_network, pop))


def _values(value, shape):
    """A connectivity's weights as an array shaped like its distances (None
    for an initialiser that has not been realised). Checkpoints store dense
    weights flat, row by row."""
    if isinstance(value, np.ndarray) or np.ndim(value) > 0:
        value = np.asarray(value, dtype=np.float64)
        return value.reshape(shape) if value.size == np.prod(shape) else value
    if isinstance(value, numbers.Real):
        return np.full(shape, float(value))
    return None


def layout(network) -> dict:
    """Positions of every placed population and, for every spatial
    connection, its distances [space units], delays [timesteps] and
    weights.

    Returns:
        ``{"populations": {name: positions (N, D)},
        "connections": {name: {"source", "target", "distance", "delay",
        "weight", "pre_ind", "post_ind"}}}``; dense connections give
        ``(N_pre, N_post)`` matrices and ``pre_ind = post_ind = None``,
        sparse ones give per-synapse arrays with their indices.
    """
    populations = {p.name: get_positions(p) for p in network.populations
                   if is_placed(p)}
    connections = {}
    for conn in network.connections:
        if not is_spatial(conn):
            continue
        source, target = conn.source(), conn.target()
        space = get_space(source)
        connectivity = conn.connectivity
        pre_ind = getattr(connectivity, "pre_ind", None)
        post_ind = getattr(connectivity, "post_ind", None)
        if pre_ind is not None:
            pre_ind = np.asarray(pre_ind)
            post_ind = np.asarray(post_ind)
        dist = distance(populations[source.name], populations[target.name],
                        eps=space.eps, pre_ind=pre_ind, post_ind=post_ind)
        connections[conn.name] = {
            "source": source.name, "target": target.name,
            "eps": space.eps, "scale": connectivity.resolve_scale(space),
            "offset": connectivity.offset,
            "max_delay_steps": connectivity.max_delay_steps,
            "distance": dist,
            "delay": delay_steps(dist, connectivity.resolve_scale(space),
                                 connectivity.offset,
                                 connectivity.max_delay_steps),
            "weight": _values(connectivity.weight, dist.shape),
            "pre_ind": pre_ind, "post_ind": post_ind}
    return {"populations": populations, "connections": connections}


def save_layout(network, path: str):
    """Write :func:`layout` to a layout file
    (:func:`ml_genn_spatial.layout_io.write_layout`, whose
    :func:`~ml_genn_spatial.layout_io.load_layout` reads it back).

    Returns:
        the :func:`layout` written
    """
    data = layout(network)
    write_layout(path, data["populations"], data["connections"])
    return data
