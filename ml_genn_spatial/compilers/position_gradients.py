"""The device pipeline from per-synapse delay gradients to position updates.

1. The back-spike code of a spatial synapse accumulates its delay gradient
   ``PositionDelayGradient`` exactly as mlGeNN's ``DelayGradient``
   (``snippets/backward.c``).
2. At the end of each batch that gradient is summed over the batch
   (``PositionReduce``, ``snippets/batch_reduce.c``) and a weight-update
   custom update (``PositionTranspose``, ``snippets/transpose.c``) copies
   it into an array of a *mirror* synapse group, one element per mirror
   synapse. A DENSE connection's mirror is DENSE and runs from the target
   population back to the source (the copy transposes); a SPARSE
   connection's mirror runs from source to target with the connection's
   own rows (``snippets/mirror_rows.c``, ``snippets/mirror_rebuild.c``),
   so it costs no array of N_pre x N_post elements and the copy keeps the
   synapse index. Every synapse writes its own element: no atomics.
3. In the first D timesteps of the next batch the mirror group emits one
   event per neuron and timestep (``snippets/scatter_condition.c``); its
   event code (``snippets/scatter.c``) turns the delay gradient into one
   component of the position gradient and adds it to both neurons through
   ``addToPre``/``addToPost`` into the additional input variable
   ``PositionGradientIn`` -- GeNN's own accumulation, atomic on GPUs. This
   is the postsynaptic reduction GeNN has no primitive for; no per-synapse
   array is copied to the host. The device works out the component from
   the time. Only batch lane 0 scatters: the copied gradient is already
   the sum over the batch.
4. Neurons add that input to an array (``snippets/accumulate.c``),
   touching nothing in other timesteps; at the end of that batch a custom
   update hands it to the optimiser (``PositionGather``,
   ``snippets/gather.c``), which updates the positions ``X<k>``
   (``PositionLearn``); they are then projected into a ball bound
   (``PositionProject``; box bounds clamp in the optimiser) and copied
   into the synapse groups that keep a copy (``PositionSync``, see
   :mod:`.common` for which do).

Position updates therefore follow the weight updates one batch later, as
mlGeNN's backward pass itself follows the forward pass by one trial.
"""
import logging

import numpy as np

from pygenn import (VarAccessMode, create_egp_ref, create_var_ref,
                    create_weight_update_model, create_wu_egp_ref,
                    create_wu_post_var_ref, create_wu_pre_var_ref,
                    create_wu_var_ref, init_postsynaptic, init_weight_update)
from ml_genn.callbacks import Callback
from ml_genn.compilers.compiler import create_reset_custom_update
from ml_genn.utils.model import (CustomConnectivityUpdateModel,
                                 CustomUpdateModel)

from .. import codegen, names
from ..connectivity import SpatialSparse
from ..placement import get_space
from .common import SPATIAL_PARAM_TYPES, box_bounds

logger = logging.getLogger(__name__)

#: A sparse mirror's rows travel through a single-precision array, which
#: holds every integer below 2^24 exactly
MAX_EXACT_INDEX = 2 ** 24


def add_position_gradient_pipeline(compiler, genn_model, layout,
                                   neuron_populations,
                                   connection_populations):
    """Add the mirrors and custom updates of the pipeline for every spatial
    connection and placed population of ``layout``.

    Returns:
        the custom updates of the position optimiser, and the
        :class:`PositionScatter` callback that drives the pipeline
    """
    mirrors = {}
    for i, conn in enumerate(layout.connections):
        mirrors[conn] = _add_mirror(
            compiler, genn_model, layout, conn, connection_populations[conn],
            i, neuron_populations)

    optimiser_updates = []
    for i, pop in enumerate(layout.populations):
        genn_pop = neuron_populations[pop]
        gather = _add_position_gather(compiler, genn_model, pop, genn_pop, i)
        if pop.neuron.learn_positions:
            optimiser_updates.extend(_add_position_learning(
                compiler, genn_model, pop, genn_pop, gather, i))

    num_syncs = _add_position_sync(compiler, genn_model, layout,
                                   neuron_populations,
                                   connection_populations, mirrors)
    sparse = [c for c in layout.connections
              if isinstance(c.connectivity, SpatialSparse)]
    rewired = [c for c in sparse if c in compiler.deep_r_conns]
    callback = PositionScatter(
        list(mirrors.values()), has_learnable=bool(optimiser_updates),
        batch_reduce=compiler.batch_size > 1,
        project=any(get_space(p).radius is not None
                    and p.neuron.learn_positions
                    for p in layout.populations),
        sync=num_syncs > 0,
        originals=[(mirrors[c], connection_populations[c]) for c in sparse],
        row_groups=((names.MIRROR_ROWS, names.MIRROR_REBUILD)
                    if len(sparse) > len(rewired) else ()),
        rewired_row_groups=((names.MIRROR_ROWS_REWIRED,
                             names.MIRROR_REBUILD_REWIRED)
                            if rewired else ()))
    return optimiser_updates, callback


def _mirror_ends(conn) -> tuple:
    """The presynaptic and postsynaptic populations of a spatial
    connection's mirror: target and source for a DENSE connection,
    source and target (the connection's own rows) for a SPARSE one."""
    source, target = conn.source(), conn.target()
    if isinstance(conn.connectivity, SpatialSparse):
        return source, target
    return target, source


def _add_mirror(compiler, genn_model, layout, conn, genn_syn, index,
                neuron_populations):
    """Mirror synapse group that scatters the position gradient of a
    spatial connection, fed by a batch reduction and a copy of the spatial
    synapse group's delay gradient in the mirror's own synapse order.

    DENSE connection: a DENSE mirror target -> source, and the copy is a
    transposition. SPARSE connection: a SPARSE mirror source -> target
    with the connection's own rows (no array of N_pre x N_post elements),
    copied by two custom connectivity updates (:func:`_add_mirror_rows`)."""
    source, target = conn.source(), conn.target()
    dimensions = get_space(source).dimensions
    wiring = conn.connectivity.wiring_cost > 0.0
    mirror_arrays = [names.DELAY_GRADIENT_T] + (
        [names.WIRING_T] if wiring else [])
    sparse = isinstance(conn.connectivity, SpatialSparse)
    mirror_pre, mirror_post = _mirror_ends(conn)
    pre = layout.end(mirror_pre, names.POSITION_PRE)
    post = layout.end(mirror_post, names.POSITION_POST)
    mirror_model = create_weight_update_model(
        f"SpatialMirror{dimensions}D{'Wiring' if wiring else ''}",
        params=(SPATIAL_PARAM_TYPES + [(names.SCATTER_ENABLED, "int"),
                                       (names.SCATTER_STEPS, "int")]),
        extra_global_params=[(name, "scalar*") for name in mirror_arrays],
        pre_vars=pre.vars, post_vars=post.vars,
        pre_neuron_var_refs=pre.refs, post_neuron_var_refs=post.refs,
        pre_event_threshold_condition_code=codegen.scatter_condition_code(),
        pre_event_syn_code=codegen.scatter_code(dimensions, wiring))
    mirror = genn_model.add_synapse_population(
        names.mirror(conn.name), "SPARSE" if sparse else "DENSE",
        neuron_populations[mirror_pre], neuron_populations[mirror_post],
        init_weight_update(
            mirror_model,
            {**layout.spatial_params(conn), names.SCATTER_ENABLED: 0,
             names.SCATTER_STEPS: dimensions},
            {}, pre.var_vals, post.var_vals,
            {name: create_var_ref(neuron_populations[mirror_pre], var)
             for name, var in pre.ref_targets.items()},
            {name: create_var_ref(neuron_populations[mirror_post], var)
             for name, var in post.ref_targets.items()}),
        init_postsynaptic("DeltaCurr"))
    num_pre = mirror.src.num_neurons
    if sparse:
        # Empty until the first copy of the connection's rows, with its
        # row stride so that synapse k of row i has the same index in both
        mirror.set_sparse_connections(np.zeros(0, dtype=np.int64),
                                      np.zeros(0, dtype=np.int64))
        mirror.max_connections = genn_syn.max_connections
        elements = num_pre * genn_syn.max_connections
    else:
        elements = num_pre * mirror.trg.num_neurons
    for name in mirror_arrays:
        mirror.extra_global_params[name].set_init_values(
            np.zeros(elements, dtype=np.float32))
    mirror.set_wu_param_dynamic(names.SCATTER_ENABLED)
    mirror.pre_target_var = names.POSITION_GRADIENT_INPUT
    mirror.post_target_var = names.POSITION_GRADIENT_INPUT
    if sparse:
        _add_mirror_rows(compiler, genn_model, conn, genn_syn, mirror, index)

    delay_gradient_ref = create_wu_var_ref(genn_syn,
                                           names.POSITION_DELAY_GRADIENT)
    if compiler.batch_size > 1:
        # Sum over the batch into a shared variable, then transpose it
        compiler.add_custom_update(
            genn_model,
            CustomUpdateModel(
                {"var_refs": [("Gradient", "scalar"),
                              ("Reduced", "scalar",
                               VarAccessMode.REDUCE_SUM)],
                 "update_code": codegen.batch_reduce_code()},
                {}, {},
                {"Gradient": delay_gradient_ref,
                 "Reduced": create_wu_var_ref(
                     genn_syn, names.REDUCED_POSITION_DELAY_GRADIENT)}),
            names.POSITION_REDUCE, f"CU{names.POSITION_REDUCE}{index}")
        transpose_source = create_wu_var_ref(
            genn_syn, names.REDUCED_POSITION_DELAY_GRADIENT)
    else:
        transpose_source = delay_gradient_ref
    transpose_model = {
        "var_refs": [("Gradient", "scalar",
                      VarAccessMode.READ_ONLY if compiler.batch_size > 1
                      else VarAccessMode.READ_WRITE)],
        "extra_global_param_refs": [(name, "scalar*")
                                    for name in mirror_arrays],
        "update_code": codegen.transpose_code(
            zero_source=compiler.batch_size == 1, wiring_cost=wiring,
            dense=not sparse, dimensions=dimensions)}
    transpose_refs = {"Gradient": transpose_source}
    transpose_params = {}
    transpose_egp_refs = {name: create_wu_egp_ref(mirror, name)
                          for name in mirror_arrays}
    if wiring:
        # The weight part needs the distance: from the position tables
        # (see .common.add_position_table_updates)
        transpose_model["params"] = [("WiringCost", "scalar"),
                                     ("Eps", "scalar")]
        transpose_params["WiringCost"] = conn.connectivity.wiring_cost
        transpose_params["Eps"] = get_space(source).eps
        transpose_model["var_refs"] += [
            ("Weight", "scalar", VarAccessMode.READ_ONLY),
            ("WeightGradient", "scalar")]
        transpose_refs["Weight"] = create_wu_var_ref(genn_syn, "g")
        transpose_refs["WeightGradient"] = create_wu_var_ref(genn_syn,
                                                             "Gradient")
        transpose_model["extra_global_param_refs"] += [
            (names.PRE_POSITION_TABLE, "scalar*"),
            (names.POST_POSITION_TABLE, "scalar*")]
        transpose_egp_refs[names.PRE_POSITION_TABLE] = create_egp_ref(
            neuron_populations[source], names.POSITION_TABLE)
        transpose_egp_refs[names.POST_POSITION_TABLE] = create_egp_ref(
            neuron_populations[target], names.POSITION_TABLE)
    compiler.add_custom_update(
        genn_model,
        CustomUpdateModel(
            transpose_model, transpose_params, {}, transpose_refs, {},
            transpose_egp_refs),
        names.POSITION_TRANSPOSE, f"CU{names.POSITION_TRANSPOSE}{index}")
    compiler.add_custom_update(
        genn_model,
        create_reset_custom_update(
            [(names.POSITION_DELAY_GRADIENT, "scalar", 0.0)],
            lambda name: create_wu_var_ref(genn_syn, name)),
        names.POSITION_ZERO, f"CU{names.POSITION_ZERO}Conn{index}")
    return mirror


def _add_mirror_rows(compiler, genn_model, conn, genn_syn, mirror, index):
    """The two custom connectivity updates that give a SPARSE connection's
    mirror the connection's rows: one on the spatial group writes each row
    into the mirror's ``DelayGradientT``, one on the mirror rebuilds its
    row from it. They run when training begins (:class:`PositionScatter`),
    and for a connection that DEEP R rewires also before every transpose,
    so the mirror always has the rows whose gradient it scatters."""
    if mirror.trg.num_neurons >= MAX_EXACT_INDEX:
        raise ValueError(
            f"{conn.name}: its mirror passes target indices through a "
            f"float array, exact below {MAX_EXACT_INDEX} neurons; the "
            f"target has {mirror.trg.num_neurons}")
    rewired = conn in compiler.deep_r_conns
    rows = names.MIRROR_ROWS_REWIRED if rewired else names.MIRROR_ROWS
    rebuild = (names.MIRROR_REBUILD_REWIRED if rewired
               else names.MIRROR_REBUILD)
    # Both read and write the mirror's DelayGradientT
    for group, update_group, name, code in (
            (genn_syn, rows, names.MIRROR_ROWS, codegen.mirror_rows_code()),
            (mirror, rebuild, names.MIRROR_REBUILD,
             codegen.mirror_rebuild_code())):
        compiler.add_custom_connectivity_update(
            genn_model,
            CustomConnectivityUpdateModel(
                {"extra_global_param_refs": [(names.DELAY_GRADIENT_T,
                                              "scalar*")],
                 "row_update_code": code},
                egp_refs={names.DELAY_GRADIENT_T: create_wu_egp_ref(
                    mirror, names.DELAY_GRADIENT_T)}),
            group, update_group, f"CCU{name}{index}")


def _add_position_gather(compiler, genn_model, pop, genn_pop, index):
    """Custom update handing a population's scattered position gradient
    to the optimiser as ``Gradient<k>`` (and clearing the array)."""
    dimensions = get_space(pop).dimensions
    gather_model = {
        "vars": [(names.gathered_gradient(k), "scalar")
                 for k in range(dimensions)],
        # A reference to the (unbatched) positions keeps it unbatched
        "var_refs": [(names.position(0), "scalar", VarAccessMode.READ_ONLY)],
        "extra_global_param_refs": [(names.POSITION_GRADIENT_ACC,
                                     "scalar*")],
        "update_code": codegen.gather_code(dimensions)}
    return compiler.add_custom_update(
        genn_model,
        CustomUpdateModel(
            gather_model, {},
            {names.gathered_gradient(k): 0.0 for k in range(dimensions)},
            {names.position(0): create_var_ref(genn_pop, names.position(0))},
            {},
            {names.POSITION_GRADIENT_ACC: create_egp_ref(
                genn_pop, names.POSITION_GRADIENT_ACC)}),
        names.POSITION_GATHER, names.gather_update(index))


def _add_position_learning(compiler, genn_model, pop, genn_pop, gather,
                           index):
    """Optimiser custom updates of the positions of ``pop``, followed by
    the projection into a ball bound (box bounds clamp in the optimiser)."""
    space = get_space(pop)
    low, high = box_bounds(space)
    updates = []
    for k in range(space.dimensions):
        clamp = None if low is None else (float(low[k]), float(high[k]))
        optimiser_model = compiler.position_optimiser.get_model(
            create_var_ref(gather, names.gathered_gradient(k)),
            create_var_ref(genn_pop, names.position(k)), False, clamp)
        updates.append(compiler.add_custom_update(
            genn_model, optimiser_model, names.POSITION_LEARN,
            names.learn_update(index, k)))

    if space.radius is not None:
        centre = np.broadcast_to(
            np.asarray(0.0 if space.centre is None else space.centre,
                       dtype=float), (space.dimensions,))
        project_model = {
            "params": ([("Radius", "scalar")]
                       + [(names.ball_centre(k), "scalar")
                          for k in range(space.dimensions)]),
            "var_refs": [(names.position(k), "scalar")
                         for k in range(space.dimensions)],
            "update_code": codegen.project_ball_code(space.dimensions)}
        compiler.add_custom_update(
            genn_model,
            CustomUpdateModel(
                project_model,
                {"Radius": float(space.radius),
                 **{names.ball_centre(k): float(centre[k])
                    for k in range(space.dimensions)}},
                {},
                {names.position(k): create_var_ref(genn_pop,
                                                   names.position(k))
                 for k in range(space.dimensions)}),
            names.POSITION_PROJECT, f"CU{names.POSITION_PROJECT}{index}")
    return updates


def _add_position_sync(compiler, genn_model, layout, neuron_populations,
                       connection_populations, mirrors) -> int:
    """``PositionSync`` custom updates refreshing every copy of learnt
    positions that a synapse group keeps (those of populations with delay
    slots; see :mod:`.common`). Returns how many it added."""
    copies = []
    for conn, mirror in mirrors.items():
        syn = connection_populations[conn]
        source, target = conn.source(), conn.target()
        mirror_pre, mirror_post = _mirror_ends(conn)
        if not compiler.stored_delays:
            # the spatial group's delays in both passes (stored delays
            # need no positions there)
            copies += [
                (source, syn, names.POSITION_PRE, create_wu_pre_var_ref),
                (target, syn, names.POSITION_POST, create_wu_post_var_ref)]
        copies += [
            # the mirror's directions of the position gradient
            (mirror_pre, mirror, names.POSITION_PRE, create_wu_pre_var_ref),
            (mirror_post, mirror, names.POSITION_POST,
             create_wu_post_var_ref)]
    count = 0
    for pop, syn, prefix, create_ref in copies:
        if pop not in layout.delayed or not pop.neuron.learn_positions:
            continue
        dimensions = get_space(pop).dimensions
        genn_pop = neuron_populations[pop]
        sync_model = {
            "var_refs": ([(names.position(k), "scalar",
                           VarAccessMode.READ_ONLY)
                          for k in range(dimensions)]
                         + [(f"Copy{k}", "scalar")
                            for k in range(dimensions)]),
            "update_code": codegen.position_sync_code(dimensions)}
        refs = {names.position(k): create_var_ref(genn_pop,
                                                  names.position(k))
                for k in range(dimensions)}
        refs.update({f"Copy{k}": create_ref(syn, f"{prefix}{k}")
                     for k in range(dimensions)})
        compiler.add_custom_update(
            genn_model, CustomUpdateModel(sync_model, {}, {}, refs),
            names.POSITION_SYNC, f"CU{names.POSITION_SYNC}{count}")
        count += 1
    return count


class PositionScatter(Callback):
    """Drives the position-gradient pipeline of
    :class:`~ml_genn_spatial.SpatialEventPropCompiler` during training.

    In every training batch the mirrors scatter, in timesteps 1 ... D, the
    delay gradient transposed at the end of the previous batch; the device
    works out the component from the time, this callback only switches
    scattering on for training batches. At the end of every batch the
    scattered position gradient is handed to the optimiser
    (``PositionGather``), which runs when that gradient came from a trial
    of this training run. Then the delay gradient is batch-reduced and
    transposed into the mirrors, except at the end of batch 0 of an epoch,
    where it is discarded: the backward pass then holds the last
    validation trial (as for mlGeNN's weight gradients).

    The mirrors of sparse connections get their connection's rows when
    training begins and, where DEEP R rewires the connection, again just
    before each transpose (mlGeNN's DEEP R rewires after this callback):
    the rows a transpose writes are the rows the next scatter runs over.
    """

    def __init__(self, mirrors, has_learnable: bool, batch_reduce: bool,
                 project: bool, sync: bool, originals=(), row_groups=(),
                 rewired_row_groups=()):
        self._mirrors = mirrors
        self._has_learnable = has_learnable
        self._batch_reduce = batch_reduce
        self._project = project
        self.sync = sync
        #: (mirror, spatial synapse group) of the sparse connections
        self._originals = list(originals)
        #: (rows, rebuild) custom update groups of the sparse mirrors
        self._row_groups = tuple(row_groups)
        self._rewired_row_groups = tuple(rewired_row_groups)
        self._transposed_trial = False

    def set_params(self, compiled_network, num_batches=None, **kwargs):
        self._genn_model = compiled_network.genn_model
        for mirror, original in self._originals:
            if mirror.max_connections != original.max_connections:
                raise RuntimeError(
                    f"{original.name}: its max_connections changed to "
                    f"{original.max_connections} after "
                    f"SpatialEventPropCompiler.compile sized its position "
                    f"mirror for rows of {mirror.max_connections}; the "
                    f"mirror's rows must match the connection's, so "
                    f"max_connections cannot change after compiling a "
                    f"sparse spatial connection for training")
        if num_batches is not None and num_batches < 2 and self._has_learnable:
            logger.warning("With %d batch per epoch positions are not "
                           "trained: their gradient reaches the optimiser "
                           "one batch after its trial, and batch 0's is "
                           "discarded. Use at least 2 batches per epoch.",
                           num_batches)

    def _enable_scatter(self, enabled: bool):
        for mirror in self._mirrors:
            mirror.set_dynamic_param_value(names.SCATTER_ENABLED,
                                           int(enabled))

    def _copy_rows(self, groups):
        for group in groups:
            self._genn_model.custom_update(group)

    def on_train_begin(self):
        self._transposed_trial = False
        self._copy_rows(self._row_groups + self._rewired_row_groups)

    def on_batch_begin(self, batch: int):
        self._enable_scatter(True)

    def on_batch_end(self, batch: int, metrics):
        self._enable_scatter(False)
        self._genn_model.custom_update(names.POSITION_GATHER)
        if self._transposed_trial and self._has_learnable:
            self._genn_model.custom_update(names.POSITION_LEARN)
            if self._project:
                self._genn_model.custom_update(names.POSITION_PROJECT)
            if self.sync:
                self._genn_model.custom_update(names.POSITION_SYNC)
        if batch == 0:
            self._genn_model.custom_update(names.POSITION_ZERO)
        elif self._batch_reduce:
            self._genn_model.custom_update(names.POSITION_REDUCE)
        self._copy_rows(self._rewired_row_groups)
        self._genn_model.custom_update(names.POSITION_TRANSPOSE)
        self._transposed_trial = batch > 0
