"""mlGeNN compilers for networks with spatial connections.

:class:`SpatialEventPropCompiler` extends mlGeNN's EventProp with exact
gradients with respect to neuron positions, computed on the device:

1. Forward and backward passes of a spatial synapse compute its delay from
   the two neurons' positions (``snippets/distance_delay.c``); the back-spike
   code accumulates the per-synapse delay gradient ``PositionDelayGradient``
   exactly as mlGeNN's ``DelayGradient`` (``snippets/backward.c``).
2. At the end of each batch that gradient is summed over the batch
   (``PositionReduce``) and a weight-update custom update
   (``PositionTranspose``, ``snippets/transpose.c``) writes it, transposed,
   into a dense array of a *mirror* synapse group running from the target
   population back to the source. Every synapse writes its own element, so
   this needs no atomics and works for DENSE and SPARSE connections alike.
3. In the first D timesteps of the next batch the mirror group emits one
   event per neuron and timestep; its event code (``snippets/scatter.c``)
   turns the delay gradient into one component of the position gradient and
   adds it to both neurons through ``addToPre``/``addToPost`` into the
   additional input variable ``PositionGradientIn`` -- GeNN's own
   accumulation, atomic on GPUs. This is the postsynaptic reduction GeNN has
   no primitive for; no per-synapse array is copied to the host. The device
   works out the component from the time. For sparse connections one more
   timestep clears the array, so synapses removed by rewiring leave no
   stale values.
   Only batch lane 0 scatters: the transposed gradient is already the sum
   over the batch.
4. Neurons add that input to an array (``snippets/accumulate.c``), touching
   nothing in other timesteps; at the end of that batch a custom update
   hands it to the optimiser (``PositionGather``, ``snippets/gather.c``),
   which updates the positions ``X<k>`` (``PositionLearn``); they are then
   projected into the space's bounds and copied into the synapse groups
   (``PositionSync``).

Position updates therefore follow the weight updates one batch later, as
mlGeNN's backward pass itself follows the forward pass by one trial.
"""
import logging

import numpy as np

from pygenn import (VarAccess, VarAccessMode,
                    create_egp_ref, create_var_ref, create_wu_egp_ref,
                    create_wu_post_var_ref,
                    create_wu_pre_var_ref, create_wu_var_ref,
                    init_postsynaptic, init_weight_update,
                    create_weight_update_model)
from ml_genn.callbacks import Callback, CustomUpdateOnTimestepBegin
from ml_genn.compilers import EventPropCompiler, InferenceCompiler
from ml_genn.compilers.compiler import create_reset_custom_update
from ml_genn.neurons import LeakyIntegrateFire
from ml_genn.optimisers import Optimiser, default_optimisers
from ml_genn.synapses import Exponential
from ml_genn.utils.model import CustomUpdateModel, WeightUpdateModel
from ml_genn.utils.module import get_object

from . import codegen
from .connectivity import SpatialSparse, is_spatial
from .placement import get_positions, get_space, is_placed
from .rewiring import distance_aware_deep_r, target_position_sync_model

logger = logging.getLogger(__name__)

def spatial_connections(network) -> list:
    """The spatial connections of ``network``, checked: both ends placed in
    one space."""
    conns = [c for c in network.connections if is_spatial(c)]
    for c in conns:
        source, target = c.source(), c.target()
        for pop in (source, target):
            if not is_placed(pop):
                raise ValueError(
                    f"Spatial connection {c.name} joins population "
                    f"{pop.name}, which is not placed in a space: call "
                    f"ml_genn_spatial.place({pop.name}, space) first")
        if get_space(source) is not get_space(target):
            raise ValueError(
                f"Spatial connection {c.name} joins populations "
                f"{source.name} and {target.name} placed in different "
                f"spaces: place both in the same Space")
    return conns


def check_backend_batch(genn_model, batch_size: int):
    """Raise early when a batch size the backend cannot run is asked for."""
    if batch_size > 1 and "cpu" in genn_model.backend_name.lower():
        raise ValueError(f"GeNN's {genn_model.backend_name} backend runs "
                         f"batch size 1 only (asked for {batch_size}): use "
                         f"batch_size=1, or the CUDA backend on a machine "
                         f"with an NVIDIA GPU")


def _spatial_params(conn):
    """GeNN parameters of a spatial synapse group."""
    space = get_space(conn.source())
    connectivity = conn.connectivity
    return {"Scale": connectivity.resolve_scale(space),
            "Offset": connectivity.offset, "Eps": space.eps,
            "MaxDelay": connectivity.max_delay_steps}


_SPATIAL_PARAM_TYPES = [("Scale", "scalar"), ("Offset", "scalar"),
                        ("Eps", "scalar"), ("MaxDelay", "int")]


def _position_var_vals(positions: np.ndarray, prefix: str) -> dict:
    return {f"{prefix}{k}": positions[:, k] for k in range(positions.shape[1])}


def _position_vars(dimensions: int, prefix: str) -> list:
    return [(f"{prefix}{k}", "scalar", VarAccess.READ_ONLY)
            for k in range(dimensions)]


class _SpatialDelays:
    """Compiler mixin: the dendritic delay buffer of a spatial connection
    holds its ``max_delay_steps``; other connections as mlGeNN does."""

    def apply_delay(self, genn_pop, conn, delay, compile_state):
        if conn in self._spatial_conns:
            _apply_spatial_delay(genn_pop, conn)
        else:
            super().apply_delay(genn_pop, conn, delay, compile_state)


def _apply_spatial_delay(genn_pop, conn):
    max_delay_steps = conn.connectivity.max_delay_steps
    if conn.max_delay_steps not in (None, max_delay_steps):
        raise ValueError(f"{conn.name}: Connection(max_delay_steps="
                         f"{conn.max_delay_steps}) differs from its "
                         f"connectivity's max_delay_steps={max_delay_steps}"
                         f"; give it once, to the connectivity")
    genn_pop.max_dendritic_delay_timesteps = max_delay_steps + 1


class SpatialInferenceCompiler(_SpatialDelays, InferenceCompiler):
    """mlGeNN's :class:`ml_genn.compilers.InferenceCompiler` for networks
    with spatial connections: every spatial delay is computed from the
    positions of the placed populations, as in training.

    Takes the arguments of :class:`ml_genn.compilers.InferenceCompiler`;
    pass the same ``dt`` [ms] as in training. Unlike mlGeNN's default,
    ``reset_in_syn_between_batches`` is True: synaptic input, and spikes
    still travelling in the dendritic delay buffers, are cleared before each
    example, as EventProp training clears them at the end of each trial.
    Without it, input leaks from one example into the next and a network
    evaluates differently from how it trained (in one Yin-Yang run, chance
    accuracy instead of the training network's own validation accuracy).
    """

    def __init__(self, *args, reset_in_syn_between_batches=True, **kwargs):
        super().__init__(
            *args, reset_in_syn_between_batches=reset_in_syn_between_batches,
            **kwargs)

    def pre_compile(self, network, genn_model, **kwargs):
        check_backend_batch(genn_model, self.batch_size)
        self._spatial_conns = set(spatial_connections(network))
        return super().pre_compile(network, genn_model, **kwargs)

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        compiled = super().create_compiled_network(
            genn_model, neuron_populations, connection_populations,
            compile_state)
        # EventProp discards the input that would arrive in the last
        # timestep of a trial; do the same so that a network evaluates
        # exactly as it did in training
        for i, genn_syn in enumerate(connection_populations.values()):
            self.add_out_post_zero_custom_update(
                genn_model, genn_syn, "ZeroOutPost", f"CUZeroOutPostLast{i}")
        last_timestep = self.evaluate_timesteps - 1
        compiled.base_callbacks.append(CustomUpdateOnTimestepBegin(
            "ZeroOutPost", lambda t: t == last_timestep))
        return compiled

    def build_weight_update_model(self, conn, connect_snippet,
                                  compile_state):
        if conn not in self._spatial_conns:
            return super().build_weight_update_model(
                conn, connect_snippet, compile_state)
        dimensions = get_space(conn.source()).dimensions
        model = {"params": list(_SPATIAL_PARAM_TYPES),
                 "vars": [("g", "scalar", VarAccess.READ_ONLY)],
                 "pre_vars": _position_vars(dimensions, "XPre"),
                 "post_vars": _position_vars(dimensions, "XPost"),
                 "pre_spike_syn_code": codegen.forward_code(dimensions)}
        return WeightUpdateModel(
            model, _spatial_params(conn), {"g": connect_snippet.weight},
            _position_var_vals(get_positions(conn.source()), "XPre"),
            _position_var_vals(get_positions(conn.target()), "XPost"))


class SpatialEventPropCompiler(_SpatialDelays, EventPropCompiler):
    """mlGeNN's :class:`ml_genn.compilers.EventPropCompiler` extended with
    learnable neuron positions.

    Every population at either end of a spatial connection gets GeNN
    variables ``X<k>`` (its positions, checkpointed like weights) and an
    array ``PositionGradientAcc`` of its position gradient; spatial
    synapses compute their delays from the positions, and the position
    gradients are reduced on the device (see the module documentation for
    the mechanism).

    Args:
        position_optimiser: optimiser of the positions [space units]: an
                            :class:`ml_genn.optimisers.Optimiser` or its
                            name (default: mlGeNN's Adam with its default
                            learning rate); box bounds of the space clamp
                            it, ball bounds project after each step
        kwargs:             the arguments of
                            :class:`ml_genn.compilers.EventPropCompiler`
                            (``example_timesteps``, ``losses``,
                            ``optimiser``, ``dt`` [ms], ``batch_size``...)
    """

    def __init__(self, *args, position_optimiser="adam", **kwargs):
        super().__init__(*args, **kwargs)
        self._position_optimiser = get_object(
            position_optimiser, Optimiser, "Optimiser", default_optimisers)

    def pre_compile(self, network, genn_model, **kwargs):
        check_backend_batch(genn_model, self.batch_size)
        if self.communicator is not None:
            raise NotImplementedError("SpatialEventPropCompiler does not "
                                      "reduce position gradients across "
                                      "processes: train on one GPU")
        conns = spatial_connections(network)
        self._spatial_conns = set(conns)
        self._spatial_pops = {p for c in conns
                              for p in (c.source(), c.target())}
        dimensions = max((get_space(p).dimensions
                          for p in self._spatial_pops), default=0)
        if conns and self.example_timesteps < dimensions + 3:
            raise ValueError(f"example_timesteps={self.example_timesteps} "
                             f"is too short: the position gradients of a "
                             f"{dimensions}-D space are scattered in the "
                             f"first {dimensions + 2} timesteps of a "
                             f"batch, and need {dimensions + 3}")
        for c in conns:
            if not isinstance(c.synapse, Exponential):
                raise NotImplementedError(
                    f"Spatial connection {c.name}: EventProp needs "
                    f"Exponential synapses")
            if c in self.delay_learn_conns:
                raise ValueError(f"{c.name} is spatial: its delays follow "
                                 f"from positions, so it cannot also be in "
                                 f"delay_learn_conns")
            if c in self.deep_r_conns and not isinstance(c.connectivity,
                                                         SpatialSparse):
                raise ValueError(f"DEEP R rewires sparse connections only: "
                                 f"give {c.name} SpatialSparse "
                                 f"connectivity")
        return super().pre_compile(network, genn_model, **kwargs)

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        if pop not in self._spatial_pops:
            return model
        space = get_space(pop)
        positions = get_positions(pop)
        for k in range(space.dimensions):
            model.add_var(f"X{k}", "scalar", positions[:, k],
                          VarAccess.READ_ONLY)
            if pop.neuron.learn_positions:
                compile_state.checkpoint_population_vars.append(
                    (pop, f"X{k}"))
        # Position gradient per neuron and component: an array rather than
        # variables, so it costs nothing outside the scatter timesteps
        model.add_egp("PositionGradientAcc", "scalar*",
                      np.zeros(positions.size, dtype=np.float32))
        model.add_additional_input_var("PositionGradientIn", "scalar", 0.0)
        model.append_sim_code(codegen.accumulate_code(space.dimensions))
        return model

    def build_weight_update_model(self, conn, connect_snippet,
                                  compile_state):
        if conn not in self._spatial_conns:
            return super().build_weight_update_model(
                conn, connect_snippet, compile_state)
        if not connect_snippet.trainable:
            raise NotImplementedError(f"Spatial connection {conn.name} "
                                      f"must have trainable weights")
        dimensions = get_space(conn.source()).dimensions
        feedback = isinstance(conn.source().neuron, LeakyIntegrateFire)
        model = {
            "params": [("TauSyn", "scalar")] + _SPATIAL_PARAM_TYPES,
            "vars": [("g", "scalar", VarAccess.READ_ONLY),
                     ("Gradient", "scalar"),
                     ("PositionDelayGradient", "scalar")],
            "pre_vars": _position_vars(dimensions, "XPre"),
            "post_vars": _position_vars(dimensions, "XPost"),
            "pre_neuron_var_refs": [("BackSpike_pre", "uint8_t")],
            "post_neuron_var_refs": [("LambdaI_post", "scalar"),
                                     ("LambdaV_post", "scalar")],
            "pre_spike_syn_code": codegen.forward_code(dimensions),
            "pre_event_threshold_condition_code": "BackSpike_pre",
            "pre_event_syn_code": codegen.backward_code(dimensions,
                                                        feedback)}
        var_vals = {"g": connect_snippet.weight, "Gradient": 0.0,
                    "PositionDelayGradient": 0.0}
        if self.batch_size > 1:
            # Target of the batch reduction of the delay gradient
            model["vars"].append(("ReducedPositionDelayGradient", "scalar",
                                  VarAccess.READ_ONLY))
            var_vals["ReducedPositionDelayGradient"] = 0.0
        wum = WeightUpdateModel(
            model, {"TauSyn": conn.synapse.tau, **_spatial_params(conn)},
            var_vals,
            _position_var_vals(get_positions(conn.source()), "XPre"),
            _position_var_vals(get_positions(conn.target()), "XPost"),
            pre_neuron_var_refs={"BackSpike_pre": "BackSpike"},
            post_neuron_var_refs={"LambdaI_post": "LambdaI",
                                  "LambdaV_post": "LambdaV"})
        compile_state.add_optimiser_connection(conn, True, False)
        compile_state.checkpoint_connection_vars.append((conn, "g"))
        if feedback:
            compile_state.feedback_connections.append(conn)
        return wum

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        distance_rewired = {
            connection_populations[c].name: c for c in self.deep_r_conns
            if c in self._spatial_conns
            and c.connectivity.regrowth_length is not None}
        with distance_aware_deep_r(distance_rewired,
                                   neuron_populations) as regrowth_ccus:
            compiled = super().create_compiled_network(
                genn_model, neuron_populations, connection_populations,
                compile_state)
        if not self._spatial_conns:
            return compiled

        mirrors = {}
        for i, conn in enumerate(sorted(self._spatial_conns,
                                        key=lambda c: c.name)):
            mirrors[conn] = self._add_mirror(
                genn_model, conn, connection_populations[conn], i,
                neuron_populations)

        position_cus = []
        for i, pop in enumerate(sorted(self._spatial_pops,
                                       key=lambda p: p.name)):
            genn_pop = neuron_populations[pop]
            gather = self._add_position_gather(genn_model, pop, genn_pop, i)
            if pop.neuron.learn_positions:
                position_cus.extend(self._add_position_learning(
                    genn_model, pop, genn_pop, gather, i))

        self._add_position_sync(genn_model, neuron_populations,
                                connection_populations, mirrors)
        for i, (conn, genn_ccu) in enumerate(regrowth_ccus.items()):
            target = conn.target()
            if not target.neuron.learn_positions:
                continue
            dimensions = get_space(target).dimensions
            self.add_custom_update(
                genn_model,
                CustomUpdateModel(
                    target_position_sync_model(dimensions), {}, {},
                    {f"X{k}": create_var_ref(neuron_populations[target],
                                             f"X{k}")
                     for k in range(dimensions)}, {},
                    {"TargetPositions": create_egp_ref(genn_ccu,
                                                       "TargetPositions")}),
                "PositionSync", f"CUPositionSyncRegrowth{i}")

        if position_cus:
            compiled.optimisers.append((self._position_optimiser,
                                        position_cus))
        # First of the callbacks: at the end of a batch the delay gradient
        # is transposed before mlGeNN's DEEP R rewires the connections
        compiled.base_train_callbacks.insert(0, PositionScatter(
            list(mirrors.values()), has_learnable=bool(position_cus),
            batch_reduce=self.batch_size > 1,
            project=any(get_space(p).radius is not None
                        and p.neuron.learn_positions
                        for p in self._spatial_pops)))
        return compiled

    def _add_mirror(self, genn_model, conn, genn_syn, index,
                    neuron_populations):
        """Mirror synapse group target -> source that scatters the position
        gradient, fed by a batch reduction and a transposed copy of the
        spatial synapse group's delay gradient."""
        dimensions = get_space(conn.source()).dimensions
        num_source = int(np.prod(conn.source().shape))
        num_target = int(np.prod(conn.target().shape))
        params = _spatial_params(conn)
        wiring = conn.connectivity.wiring_cost > 0.0
        mirror_arrays = ["DelayGradientT"] + (["WiringT", "DistanceT"]
                                              if wiring else [])
        # Events in timesteps 0 ... ScatterSteps - 1 of a training batch,
        # handled one timestep later: D components, and for sparse
        # connections one more step that clears the array
        sparse = isinstance(conn.connectivity, SpatialSparse)
        mirror_model = create_weight_update_model(
            f"SpatialMirror{dimensions}D{'Wiring' if wiring else ''}",
            params=(_SPATIAL_PARAM_TYPES + [("ScatterEnabled", "int"),
                                            ("ScatterSteps", "int")]),
            extra_global_params=[(name, "scalar*")
                                 for name in mirror_arrays],
            pre_vars=_position_vars(dimensions, "XPre"),
            post_vars=_position_vars(dimensions, "XPost"),
            # Batch lane 0 only: the transposed gradient is shared by the
            # lanes, so one lane scatters it
            pre_event_threshold_condition_code=(
                "ScatterEnabled && batch == 0 "
                "&& t < ((ScatterSteps - 0.5) * dt)"),
            pre_event_syn_code=codegen.scatter_code(dimensions, wiring))
        mirror = genn_model.add_synapse_population(
            f"{conn.name}_PositionMirror", "DENSE",
            neuron_populations[conn.target()],
            neuron_populations[conn.source()],
            init_weight_update(
                mirror_model,
                {**params, "ScatterEnabled": 0,
                 "ScatterSteps": dimensions + int(sparse)},
                {},
                _position_var_vals(get_positions(conn.target()), "XPre"),
                _position_var_vals(get_positions(conn.source()), "XPost")),
            init_postsynaptic("DeltaCurr"))
        for name in mirror_arrays:
            mirror.extra_global_params[name].set_init_values(
                np.zeros(num_source * num_target, dtype=np.float32))
        mirror.set_wu_param_dynamic("ScatterEnabled")
        mirror.pre_target_var = "PositionGradientIn"
        mirror.post_target_var = "PositionGradientIn"

        delay_gradient_ref = create_wu_var_ref(genn_syn,
                                               "PositionDelayGradient")
        if self.batch_size > 1:
            # Sum over the batch into a shared variable, then transpose it
            reduce_model = {
                "var_refs": [("Gradient", "scalar"),
                             ("Reduced", "scalar", VarAccessMode.REDUCE_SUM)],
                "update_code": """
                Reduced = Gradient;
                Gradient = 0;
                """}
            self.add_custom_update(
                genn_model,
                CustomUpdateModel(
                    reduce_model, {}, {},
                    {"Gradient": delay_gradient_ref,
                     "Reduced": create_wu_var_ref(
                         genn_syn, "ReducedPositionDelayGradient")}),
                "PositionReduce", f"CUPositionReduce{index}")
            transpose_source = create_wu_var_ref(
                genn_syn, "ReducedPositionDelayGradient")
        else:
            transpose_source = delay_gradient_ref
        transpose_model = {
            "var_refs": [("Gradient", "scalar",
                          VarAccessMode.READ_ONLY if self.batch_size > 1
                          else VarAccessMode.READ_WRITE)],
            "extra_global_param_refs": [(name, "scalar*")
                                        for name in mirror_arrays],
            "update_code": codegen.transpose_code(
                zero_source=self.batch_size == 1, wiring_cost=wiring,
                dense=not sparse)}
        transpose_refs = {"Gradient": transpose_source}
        transpose_params = {}
        if wiring:
            transpose_model["params"] = [("WiringCost", "scalar")]
            transpose_params["WiringCost"] = conn.connectivity.wiring_cost
            transpose_model["var_refs"] += [
                ("Weight", "scalar", VarAccessMode.READ_ONLY),
                ("WeightGradient", "scalar")]
            transpose_refs["Weight"] = create_wu_var_ref(genn_syn, "g")
            transpose_refs["WeightGradient"] = create_wu_var_ref(genn_syn,
                                                                 "Gradient")
        self.add_custom_update(
            genn_model,
            CustomUpdateModel(
                transpose_model, transpose_params, {}, transpose_refs, {},
                {name: create_wu_egp_ref(mirror, name)
                 for name in mirror_arrays}),
            "PositionTranspose", f"CUPositionTranspose{index}")
        self.add_custom_update(
            genn_model,
            create_reset_custom_update(
                [("PositionDelayGradient", "scalar", 0.0)],
                lambda name: create_wu_var_ref(genn_syn, name)),
            "PositionZero", f"CUPositionZeroConn{index}")
        return mirror

    def _add_position_gather(self, genn_model, pop, genn_pop, index):
        """Custom update handing a population's scattered position gradient
        to the optimiser as ``Gradient<k>`` (and clearing the array)."""
        dimensions = get_space(pop).dimensions
        gather_model = {
            "vars": [(f"Gradient{k}", "scalar") for k in range(dimensions)],
            # A reference to the (unbatched) positions keeps it unbatched
            "var_refs": [("X0", "scalar", VarAccessMode.READ_ONLY)],
            "extra_global_param_refs": [("PositionGradientAcc", "scalar*")],
            "update_code": codegen.gather_code(dimensions)}
        return self.add_custom_update(
            genn_model,
            CustomUpdateModel(
                gather_model, {},
                {f"Gradient{k}": 0.0 for k in range(dimensions)},
                {"X0": create_var_ref(genn_pop, "X0")}, {},
                {"PositionGradientAcc": create_egp_ref(
                    genn_pop, "PositionGradientAcc")}),
            "PositionGather", f"CUPositionGather{index}")

    def _add_position_learning(self, genn_model, pop, genn_pop, gather,
                               index):
        """Optimiser custom updates of the positions of ``pop``, followed by
        the projection into the space's bounds."""
        space = get_space(pop)
        cus = []
        low = high = None
        if space.bounds is not None:
            low, high = (np.broadcast_to(np.asarray(b, dtype=float),
                                         (space.dimensions,))
                         for b in space.bounds)
        for k in range(space.dimensions):
            clamp = (None if low is None
                     else (float(low[k]), float(high[k])))
            optimiser_model = self._position_optimiser.get_model(
                create_var_ref(gather, f"Gradient{k}"),
                create_var_ref(genn_pop, f"X{k}"), False, clamp)
            cus.append(self.add_custom_update(
                genn_model, optimiser_model, "PositionLearn",
                f"CUPositionLearn{index}_{k}"))

        if space.radius is not None:
            centre = np.broadcast_to(
                np.asarray(0.0 if space.centre is None else space.centre,
                           dtype=float), (space.dimensions,))
            project_model = {
                "params": ([("Radius", "scalar")]
                           + [(f"Centre{k}", "scalar")
                              for k in range(space.dimensions)]),
                "var_refs": [(f"X{k}", "scalar")
                             for k in range(space.dimensions)],
                "update_code": codegen.project_ball_code(space.dimensions)}
            self.add_custom_update(
                genn_model,
                CustomUpdateModel(
                    project_model,
                    {"Radius": float(space.radius),
                     **{f"Centre{k}": float(centre[k])
                        for k in range(space.dimensions)}},
                    {},
                    {f"X{k}": create_var_ref(genn_pop, f"X{k}")
                     for k in range(space.dimensions)}),
                "PositionProject", f"CUPositionProject{index}")
        return cus

    def _add_position_sync(self, genn_model, neuron_populations,
                           connection_populations, mirrors):
        """Custom updates copying the positions ``X<k>`` of each population
        into the position variables of the synapse groups that use them."""
        targets = []
        for conn, mirror in mirrors.items():
            syn = connection_populations[conn]
            targets += [(conn.source(), syn, "XPre", create_wu_pre_var_ref),
                        (conn.target(), syn, "XPost", create_wu_post_var_ref),
                        (conn.target(), mirror, "XPre",
                         create_wu_pre_var_ref),
                        (conn.source(), mirror, "XPost",
                         create_wu_post_var_ref)]
        for i, (pop, syn, prefix, create_ref) in enumerate(targets):
            if not pop.neuron.learn_positions:
                continue
            dimensions = get_space(pop).dimensions
            genn_pop = neuron_populations[pop]
            sync_model = {
                "var_refs": ([(f"X{k}", "scalar", VarAccessMode.READ_ONLY)
                              for k in range(dimensions)]
                             + [(f"Y{k}", "scalar")
                                for k in range(dimensions)]),
                "update_code": "\n".join(f"Y{k} = X{k};"
                                         for k in range(dimensions))}
            refs = {f"X{k}": create_var_ref(genn_pop, f"X{k}")
                    for k in range(dimensions)}
            refs.update({f"Y{k}": create_ref(syn, f"{prefix}{k}")
                         for k in range(dimensions)})
            self.add_custom_update(
                genn_model, CustomUpdateModel(sync_model, {}, {}, refs),
                "PositionSync", f"CUPositionSync{i}")


class PositionScatter(Callback):
    """Drives the position-gradient pipeline of
    :class:`SpatialEventPropCompiler` during training.

    In every training batch the mirrors scatter, in timesteps 1 ... D, the
    delay gradient transposed at the end of the previous batch (timestep
    D + 1 clears the arrays of sparse connections); the device works out
    the component from the time, this callback only switches scattering on
    for training batches. At the end of every batch the scattered position
    gradient is handed to the optimiser (``PositionGather``), which runs
    when that gradient came from a trial of this training run. Then the
    delay gradient is batch-reduced and transposed into the mirrors, except
    at the end of batch 0 of an epoch, where it is discarded: the backward
    pass then holds the last validation trial (as for mlGeNN's weight
    gradients).
    """

    def __init__(self, mirrors, has_learnable: bool, batch_reduce: bool,
                 project: bool):
        self._mirrors = mirrors
        self._has_learnable = has_learnable
        self._batch_reduce = batch_reduce
        self._project = project
        self._transposed_trial = False

    def set_params(self, compiled_network, num_batches=None, **kwargs):
        self._genn_model = compiled_network.genn_model
        if num_batches is not None and num_batches < 2 and self._has_learnable:
            logger.warning("With %d batch per epoch positions are not "
                           "trained: their gradient reaches the optimiser "
                           "one batch after its trial, and batch 0's is "
                           "discarded. Use at least 2 batches per epoch.",
                           num_batches)

    def _enable_scatter(self, enabled: bool):
        for mirror in self._mirrors:
            mirror.set_dynamic_param_value("ScatterEnabled", int(enabled))

    def on_train_begin(self):
        self._transposed_trial = False

    def on_batch_begin(self, batch: int):
        self._enable_scatter(True)

    def on_batch_end(self, batch: int, metrics):
        self._enable_scatter(False)
        self._genn_model.custom_update("PositionGather")
        if self._transposed_trial and self._has_learnable:
            self._genn_model.custom_update("PositionLearn")
            if self._project:
                self._genn_model.custom_update("PositionProject")
            self._genn_model.custom_update("PositionSync")
        if batch == 0:
            self._genn_model.custom_update("PositionZero")
        elif self._batch_reduce:
            self._genn_model.custom_update("PositionReduce")
        self._genn_model.custom_update("PositionTranspose")
        self._transposed_trial = batch > 0
