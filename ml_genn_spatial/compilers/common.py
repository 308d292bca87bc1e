"""What both spatial compilers share: the network's spatial part, gathered
once per compile, and the GeNN pieces of a spatial synapse group.

Where a synapse group reads positions
-------------------------------------
The positions of a placed population live once on the device, as its
neuron variables ``X<k>`` (what the optimiser updates, checkpoints save and
``Network.load`` restores). A synapse group reads them in its synapse code
through ``pre_neuron_var_refs`` / ``post_neuron_var_refs`` -- no copy --
whenever GeNN keeps that population without delay slots.

GeNN marks every neuron variable that synapse code reads through such a
reference as *queued*; in a population that has delay slots a queued
variable is stored once per slot and copied from slot to slot in every
timestep (and mlGeNN's checkpoints would then save all slots). Under
EventProp every target of a spatial (or otherwise delayed) connection has
delay slots, because the backward pass reads its adjoints ``LambdaI`` and
``LambdaV`` ``delay`` steps back. So a synapse group keeps its own copy of
the positions of such a population -- weight-update pre/post variables
``XPre<k>`` / ``XPost<k>``, N * D values -- and a ``PositionSync`` custom
update refreshes the copy after each optimiser step. Either way the synapse
code reads ``XPre<k>`` / ``XPost<k>``, so the templates do not change.
With stored delays (the default for training) a spatial synapse group
reads its ``Delay`` instead and needs no positions at all: then only the
mirrors read them.
"""
import numpy as np

from pygenn import (SynapseMatrixConnectivity, VarAccess, VarAccessMode,
                    create_egp_ref, create_var_ref, create_wu_var_ref)
from ml_genn.callbacks import Callback, CustomUpdateOnBatchBegin
from ml_genn.utils.model import CustomUpdateModel
from ml_genn.utils.value import is_value_constant

from .. import codegen, names
from ..connection import SpatialConnection
from ..connectivity import is_spatial
from ..placement import get_positions, get_space


def spatial_connections(network) -> list:
    """The spatial connections of ``network``, sorted by name, checked to
    be :class:`~ml_genn_spatial.SpatialConnection` objects (which join two
    populations placed in one space)."""
    conns = [c for c in network.connections if is_spatial(c)]
    for c in conns:
        if not isinstance(c, SpatialConnection):
            raise TypeError(
                f"Connection {c.name} has spatial connectivity "
                f"({type(c.connectivity).__name__}) but is an mlGeNN "
                f"{type(c).__name__}: build spatial connections with "
                f"ml_genn_spatial.SpatialConnection(source, target, "
                f"connectivity, synapse, space=...)")
    return sorted(conns, key=lambda c: c.name)


def check_backend_batch(genn_model, batch_size: int):
    """Raise early when a batch size the backend cannot run is asked for."""
    if batch_size > 1 and "cpu" in genn_model.backend_name.lower():
        raise ValueError(f"GeNN's {genn_model.backend_name} backend runs "
                         f"batch size 1 only (asked for {batch_size}): use "
                         f"batch_size=1, or the CUDA backend on a machine "
                         f"with an NVIDIA GPU")


def has_delay(conn) -> bool:
    """Whether an mlGeNN connection has synaptic delays (as mlGeNN
    decides); a connectivity without a ``delay`` counts as delayed."""
    if is_spatial(conn):
        return True
    delay = getattr(conn.connectivity, "delay", None)
    if delay is None:
        return True
    return not is_value_constant(delay) or delay > 0


SPATIAL_PARAM_TYPES = [("Scale", "scalar"), ("Offset", "scalar"),
                       ("Eps", "scalar"), ("MaxDelay", "int")]


def position_vars(dimensions: int, prefix: str) -> list:
    """Read-only variables ``<prefix>0 ... <prefix><D-1>``."""
    return [(f"{prefix}{k}", "scalar", VarAccess.READ_ONLY)
            for k in range(dimensions)]


def position_refs(dimensions: int, prefix: str) -> list:
    """Read-only variable references ``<prefix>0 ... <prefix><D-1>``."""
    return [(f"{prefix}{k}", "scalar", VarAccessMode.READ_ONLY)
            for k in range(dimensions)]


class PositionEnd:
    """How one end (pre or post) of a synapse group reads the positions of
    its population: through neuron variable references, or from its own
    copy (see the module documentation)."""

    def __init__(self, population, positions, prefix: str, copy: bool):
        self.population = population
        self.prefix = prefix
        self.copy = copy
        dimensions = positions.shape[1]
        if copy:
            self.vars = position_vars(dimensions, prefix)
            self.var_vals = {f"{prefix}{k}": positions[:, k]
                             for k in range(dimensions)}
            self.refs, self.ref_targets = [], {}
        else:
            self.vars, self.var_vals = [], {}
            self.refs = position_refs(dimensions, prefix)
            self.ref_targets = {f"{prefix}{k}": names.position(k)
                                for k in range(dimensions)}


class SpatialLayout:
    """The spatial part of a network, gathered once per compile: its
    spatial connections, the populations they join with their spaces and
    positions, and which populations GeNN gives delay slots.

    Args:
        network:    the mlGeNN network being compiled
        delayed_fn: ``delayed_fn(network, spatial_connections)`` -> the
                    populations GeNN will give delay slots (their
                    positions are copied into the synapse groups that
                    read them)
    """

    def __init__(self, network, delayed_fn):
        self.connections = spatial_connections(network)
        self.populations = sorted({p for c in self.connections
                                   for p in (c.source(), c.target())},
                                  key=lambda p: p.name)
        self.positions = {p: get_positions(p) for p in self.populations}
        self._connection_set = set(self.connections)
        self.delayed = set(delayed_fn(network, self.connections))

    def is_spatial(self, conn) -> bool:
        """Whether ``conn`` is one of the network's spatial connections."""
        return conn in self._connection_set

    def end(self, pop, prefix: str) -> PositionEnd:
        """How a synapse group reads the positions of ``pop``."""
        return PositionEnd(pop, self.positions[pop], prefix,
                           copy=pop in self.delayed)

    def spatial_params(self, conn) -> dict:
        """GeNN parameters of a spatial synapse group."""
        space = get_space(conn.source())
        connectivity = conn.connectivity
        return {"Scale": connectivity.resolve_scale(space),
                "Offset": connectivity.offset, "Eps": space.eps,
                "MaxDelay": connectivity.max_delay_steps}


def add_position_vars(model, pop, layout, compile_state=None):
    """Add a placed population's positions ``X<k>`` to its neuron model
    (checkpointed when ``compile_state`` is given and they are learnt)."""
    positions = layout.positions[pop]
    for k in range(positions.shape[1]):
        model.add_var(names.position(k), "scalar", positions[:, k],
                      VarAccess.READ_ONLY)
        if compile_state is not None and pop.neuron.learn_positions:
            compile_state.checkpoint_population_vars.append(
                (pop, names.position(k)))


class NoPositions:
    """The end of a synapse group that reads no positions."""

    def __init__(self):
        self.copy = False
        self.vars, self.var_vals, self.refs, self.ref_targets = [], {}, [], {}


def forward_model(layout, conn, stored: bool = False) -> tuple:
    """Weight-update model fragments of a spatial synapse group's forward
    pass: (model dict, pre end, post end). With ``stored`` the delay is
    the synapse's stored ``Delay`` (:func:`add_stored_delays`) and the
    group reads no positions: neither end has references or copies."""
    dimensions = get_space(conn.source()).dimensions
    if stored:
        pre, post = NoPositions(), NoPositions()
    else:
        pre = layout.end(conn.source(), names.POSITION_PRE)
        post = layout.end(conn.target(), names.POSITION_POST)
    model = {"params": list(SPATIAL_PARAM_TYPES),
             "vars": [("g", "scalar", VarAccess.READ_ONLY)],
             "pre_vars": pre.vars, "post_vars": post.vars,
             "pre_neuron_var_refs": pre.refs,
             "post_neuron_var_refs": post.refs,
             "pre_spike_syn_code": codegen.forward_code(dimensions, stored)}
    if stored:
        model["vars"].append((names.SYNAPSE_DELAY,
                              delay_type(conn.connectivity.max_delay_steps),
                              VarAccess.READ_ONLY))
    return model, pre, post


def delay_type(max_delay_steps: int) -> str:
    """The smallest unsigned GeNN type that holds a stored delay of up to
    ``max_delay_steps`` timesteps."""
    if max_delay_steps <= 0xFF:
        return "uint8_t"
    if max_delay_steps <= 0xFFFF:
        return "uint16_t"
    return "uint32_t"


def add_position_table(model, pop, layout):
    """Add a placed population's ``PositionTable`` array (``i * D + k``)
    to its neuron model, for the updates that need the positions of
    arbitrary synapse ends (stored delays, the wiring cost's distances)."""
    model.add_egp(names.POSITION_TABLE, "scalar*",
                  np.ascontiguousarray(layout.positions[pop], dtype=np.float32)
                  .reshape(-1))


def needs_position_tables(layout, stored_delays: bool) -> bool:
    """Whether training needs the position tables: for stored delays, or
    for the distances of a wiring cost (read by ``PositionTranspose``)."""
    return stored_delays or any(c.connectivity.wiring_cost > 0.0
                                for c in layout.connections)


def add_position_table_updates(compiler, genn_model, layout,
                               neuron_populations) -> list:
    """Custom updates copying each placed population's positions into its
    ``PositionTable`` (``PositionTableUpdate``). Returns the callback that
    runs them at the start of every batch: positions change only between
    batches (optimiser, ``Network.load``, user code), so the tables of a
    batch always hold its positions."""
    for i, pop in enumerate(layout.populations):
        dimensions = get_space(pop).dimensions
        genn_pop = neuron_populations[pop]
        compiler.add_custom_update(
            genn_model,
            CustomUpdateModel(
                {"var_refs": position_refs(dimensions, names.POSITION),
                 "extra_global_param_refs": [(names.POSITION_TABLE,
                                              "scalar*")],
                 "update_code": codegen.position_table_code(dimensions)},
                {}, {},
                {names.position(k): create_var_ref(genn_pop,
                                                   names.position(k))
                 for k in range(dimensions)}, {},
                {names.POSITION_TABLE: create_egp_ref(
                    genn_pop, names.POSITION_TABLE)}),
            names.POSITION_TABLE_UPDATE,
            f"CU{names.POSITION_TABLE_UPDATE}{i}")
    return [CustomUpdateOnBatchBegin(names.POSITION_TABLE_UPDATE)]


def add_stored_delays(compiler, genn_model, layout, neuron_populations,
                      connection_populations) -> list:
    """Custom updates that store every spatial synapse's delay from the
    position tables of its two populations (``PositionDelay``, one value
    per synapse shared by all batch lanes). Returns the callback that runs
    them at the start of every batch, after the tables' update
    (:func:`add_position_table_updates`)."""
    for i, conn in enumerate(layout.connections):
        dimensions = get_space(conn.source()).dimensions
        genn_syn = connection_populations[conn]
        compiler.add_custom_update(
            genn_model,
            CustomUpdateModel(
                {"params": list(SPATIAL_PARAM_TYPES),
                 "var_refs": [(names.SYNAPSE_DELAY,
                               delay_type(conn.connectivity.max_delay_steps))],
                 "extra_global_param_refs": [
                     (names.PRE_POSITION_TABLE, "scalar*"),
                     (names.POST_POSITION_TABLE, "scalar*")],
                 "update_code": codegen.synapse_delay_code(
                     dimensions, dense=not (genn_syn.matrix_type
                                            & SynapseMatrixConnectivity
                                            .SPARSE))},
                layout.spatial_params(conn), {},
                {names.SYNAPSE_DELAY: create_wu_var_ref(
                    genn_syn, names.SYNAPSE_DELAY)}, {},
                {names.PRE_POSITION_TABLE: create_egp_ref(
                    neuron_populations[conn.source()], names.POSITION_TABLE),
                 names.POST_POSITION_TABLE: create_egp_ref(
                     neuron_populations[conn.target()],
                     names.POSITION_TABLE)}),
            names.POSITION_DELAY, f"CU{names.POSITION_DELAY}{i}")
    return [CustomUpdateOnBatchBegin(names.POSITION_DELAY)]


class SpatialDelays:
    """Compiler mixin: the dendritic delay buffer of a spatial connection
    holds its ``max_delay_steps``; other connections as mlGeNN does."""

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        if self._layout.is_spatial(conn):
            apply_spatial_delay(genn_pop, conn)
        else:
            super().apply_delay(genn_pop, conn, delay, compile_state)


def apply_spatial_delay(genn_pop, conn):
    max_delay_steps = conn.connectivity.max_delay_steps
    if conn.max_delay_steps not in (None, max_delay_steps):
        raise ValueError(f"{conn.name}: Connection(max_delay_steps="
                         f"{conn.max_delay_steps}) differs from its "
                         f"connectivity's max_delay_steps={max_delay_steps}"
                         f"; give it once, to the connectivity")
    genn_pop.max_dendritic_delay_timesteps = max_delay_steps + 1


def box_bounds(space):
    """``(low, high)`` arrays of length D of a box-bounded space, or
    ``(None, None)``."""
    if space.bounds is None:
        return None, None
    return tuple(np.broadcast_to(np.asarray(b, dtype=float),
                                 (space.dimensions,))
                 for b in space.bounds)


class PositionStorageCheck(Callback):
    """Checks, once the model is loaded, that GeNN stores every placed
    population's positions once: a population read directly whose
    positions GeNN nevertheless queued per delay slot would be
    checkpointed with all its slots."""

    def __init__(self, layout):
        self._layout = layout

    def set_params(self, compiled_network, **kwargs):
        for pop in self._layout.populations:
            genn_pop = compiled_network.neuron_populations[pop]
            shape = genn_pop.vars[names.position(0)].view.shape
            if shape[-1] != genn_pop.num_neurons or len(shape) != 1:
                raise RuntimeError(
                    f"GeNN stores the positions of {pop.name} per delay "
                    f"slot (shape {shape}): ml_genn_spatial expected it "
                    f"without delay slots and reads them directly. Please "
                    f"report this network's connections")
