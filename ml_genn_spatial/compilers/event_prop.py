"""EventProp training with learnable neuron positions."""
import numpy as np

from pygenn import VarAccess
from ml_genn.compilers import EventPropCompiler
from ml_genn.neurons import LeakyIntegrateFire
from ml_genn.optimisers import Optimiser, default_optimisers
from ml_genn.synapses import Exponential
from ml_genn.utils.model import WeightUpdateModel
from ml_genn.utils.module import get_object

from .. import codegen, names
from ..connectivity import SpatialSparse
from ..geometry import check_finite_scalar
from ..placement import get_space
from .common import (PositionStorageCheck, SpatialDelays, SpatialLayout,
                     add_position_table, add_position_table_updates,
                     add_position_vars, add_stored_delays,
                     check_backend_batch, forward_model, has_delay,
                     needs_position_tables)
from .deep_r import DistanceAwareDeepR
from .position_gradients import add_position_gradient_pipeline


def check_optimiser_learning_rate(optimiser, name: str):
    """Refuse an optimiser with a negative or non-finite learning rate
    (mlGeNN's optimisers call it ``alpha``)."""
    alpha = getattr(optimiser, "alpha", None)
    if alpha is not None and np.ndim(alpha) == 0:
        check_finite_scalar(alpha, f"{name} learning rate (alpha)",
                            minimum=0.0)
    return optimiser


class SpatialEventPropCompiler(DistanceAwareDeepR, SpatialDelays,
                               EventPropCompiler):
    """mlGeNN's :class:`ml_genn.compilers.EventPropCompiler` extended with
    learnable neuron positions.

    Every population at either end of a spatial connection gets GeNN
    variables ``X<k>`` (its positions, checkpointed like weights) and an
    array ``PositionGradientAcc`` of its position gradient; spatial
    synapses compute their delays from the positions, and the position
    gradients are reduced on the device
    (:mod:`ml_genn_spatial.compilers.position_gradients`). Sparse spatial
    connections in ``deep_r_conns`` are rewired by mlGeNN's DEEP R, with
    distance-aware regrowth where their connectivity has a
    ``regrowth_length`` (:mod:`ml_genn_spatial.compilers.deep_r`).

    Args:
        position_optimiser: optimiser of the positions [space units]: an
                            :class:`ml_genn.optimisers.Optimiser` or its
                            name (default: mlGeNN's Adam with its default
                            learning rate); box bounds of the space clamp
                            it, ball bounds project after each step
        stored_delays:      True (default): at the start of every batch
                            a custom update computes each spatial
                            synapse's delay [timesteps] from the
                            positions and stores it in one byte per
                            synapse (two beyond 255 timesteps), shared by
                            every batch lane; the forward and backward
                            passes read it. False: both passes compute the
                            distance, with its square root, at every spike
                            and nothing is stored per synapse. Both give
                            the same delays and gradients
                            (``benchmarks/README.md`` compares their time)
        kwargs:             the arguments of
                            :class:`ml_genn.compilers.EventPropCompiler`
                            (``example_timesteps``, ``losses``,
                            ``optimiser``, ``dt`` [ms], ``batch_size``...)
    """

    def __init__(self, *args, position_optimiser="adam",
                 stored_delays: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_delays = bool(stored_delays)
        check_optimiser_learning_rate(self._optimiser, "optimiser")
        check_optimiser_learning_rate(self._delay_optimiser,
                                      "delay_optimiser")
        #: Optimiser of the positions (the position-gradient pipeline
        #: builds its custom updates)
        self.position_optimiser = check_optimiser_learning_rate(
            get_object(position_optimiser, Optimiser, "Optimiser",
                       default_optimisers),
            "position_optimiser")

    def pre_compile(self, network, genn_model, **kwargs):
        check_backend_batch(genn_model, self.batch_size)
        if self.communicator is not None:
            raise NotImplementedError("SpatialEventPropCompiler does not "
                                      "reduce position gradients across "
                                      "processes: train on one GPU")
        self._layout = SpatialLayout(network, self._delayed_populations)
        conns = self._layout.connections
        dimensions = max((get_space(p).dimensions
                          for p in self._layout.populations), default=0)
        if conns and self.example_timesteps < dimensions + 1:
            raise ValueError(f"example_timesteps={self.example_timesteps} "
                             f"is too short: the position gradients of a "
                             f"{dimensions}-D space arrive in timesteps 1 "
                             f"... {dimensions} of a batch, so a trial "
                             f"needs at least {dimensions + 1}")
        for c in network.connections:
            check_time_constants(c)
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

    def _delayed_populations(self, network, spatial_conns) -> set:
        """Populations with delay slots under EventProp: targets of
        delayed connections, whose adjoints the backward pass reads
        ``delay`` steps back (mlGeNN's delays are dendritic, never
        axonal)."""
        return {c.target() for c in network.connections
                if has_delay(c) or c in self.delay_learn_conns}

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        if pop not in self._layout.positions:
            return model
        add_position_vars(model, pop, self._layout, compile_state)
        if needs_position_tables(self._layout, self.stored_delays):
            add_position_table(model, pop, self._layout)
        dimensions = get_space(pop).dimensions
        # Position gradient per neuron and component: an array rather than
        # variables, so it costs nothing outside the scatter timesteps
        model.add_egp(names.POSITION_GRADIENT_ACC, "scalar*",
                      np.zeros(int(np.prod(pop.shape)) * dimensions,
                               dtype=np.float32))
        model.add_additional_input_var(names.POSITION_GRADIENT_INPUT,
                                       "scalar", 0.0)
        model.append_sim_code(codegen.accumulate_code(dimensions))
        return model

    def build_weight_update_model(self, conn, connect_snippet,
                                  compile_state):
        if not self._layout.is_spatial(conn):
            return super().build_weight_update_model(
                conn, connect_snippet, compile_state)
        if not connect_snippet.trainable:
            raise NotImplementedError(f"Spatial connection {conn.name} "
                                      f"must have trainable weights")
        dimensions = get_space(conn.source()).dimensions
        feedback = isinstance(conn.source().neuron, LeakyIntegrateFire)
        model, pre, post = forward_model(self._layout, conn,
                                         self.stored_delays)
        model["params"] = [("TauSyn", "scalar")] + model["params"]
        model["vars"] += [("Gradient", "scalar"),
                          (names.POSITION_DELAY_GRADIENT, "scalar")]
        model["pre_neuron_var_refs"] = (model["pre_neuron_var_refs"]
                                        + [("BackSpike_pre", "uint8_t")])
        model["post_neuron_var_refs"] = (model["post_neuron_var_refs"]
                                         + [("LambdaI_post", "scalar"),
                                            ("LambdaV_post", "scalar")])
        model["pre_event_threshold_condition_code"] = (
            codegen.back_spike_condition_code())
        model["pre_event_syn_code"] = codegen.backward_code(
            dimensions, feedback, self.stored_delays)
        var_vals = {"g": connect_snippet.weight, "Gradient": 0.0,
                    names.POSITION_DELAY_GRADIENT: 0.0}
        if self.stored_delays:
            var_vals[names.SYNAPSE_DELAY] = 0   # PositionDelay sets it
        if self.batch_size > 1:
            # Target of the batch reduction of the delay gradient
            model["vars"].append((names.REDUCED_POSITION_DELAY_GRADIENT,
                                  "scalar", VarAccess.READ_ONLY))
            var_vals[names.REDUCED_POSITION_DELAY_GRADIENT] = 0.0
        wum = WeightUpdateModel(
            model, {"TauSyn": conn.synapse.tau,
                    **self._layout.spatial_params(conn)},
            var_vals, pre.var_vals, post.var_vals,
            pre_neuron_var_refs={**pre.ref_targets,
                                 "BackSpike_pre": "BackSpike"},
            post_neuron_var_refs={**post.ref_targets,
                                  "LambdaI_post": "LambdaI",
                                  "LambdaV_post": "LambdaV"})
        compile_state.add_optimiser_connection(conn, True, False)
        compile_state.checkpoint_connection_vars.append((conn, "g"))
        if feedback:
            compile_state.feedback_connections.append(conn)
        return wum

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        self._init_distance_deep_r(neuron_populations,
                                   connection_populations)
        compiled = super().create_compiled_network(
            genn_model, neuron_populations, connection_populations,
            compile_state)
        self._check_distance_deep_r()
        if not self._layout.connections:
            return compiled

        optimiser_updates, scatter = add_position_gradient_pipeline(
            self, genn_model, self._layout, neuron_populations,
            connection_populations)
        if self._add_target_positions_sync(genn_model, neuron_populations):
            scatter.sync = True
        if optimiser_updates:
            compiled.optimisers.append((self.position_optimiser,
                                        optimiser_updates))
        # First of the callbacks: at the end of a batch the delay gradient
        # is transposed before mlGeNN's DEEP R rewires the connections
        compiled.base_train_callbacks.insert(0, scatter)
        if needs_position_tables(self._layout, self.stored_delays):
            # Before anything else in a batch: the tables and delays of its
            # positions
            batch_updates = add_position_table_updates(
                self, genn_model, self._layout, neuron_populations)
            if self.stored_delays:
                batch_updates += add_stored_delays(
                    self, genn_model, self._layout, neuron_populations,
                    connection_populations)
            compiled.base_train_callbacks[:0] = batch_updates
            compiled.base_validate_callbacks[:0] = [
                type(c)(c.name) for c in batch_updates]
        compiled.base_train_callbacks.append(
            PositionStorageCheck(self._layout))
        return compiled


def check_time_constants(conn) -> None:
    """Refuse a LIF target whose ``tau_mem`` equals ``conn``'s
    Exponential ``tau``: EventProp's adjoint (mlGeNN's parameter ``A``)
    divides by their difference."""
    tau_mem = getattr(conn.target().neuron, "tau_mem", None)
    if (isinstance(conn.synapse, Exponential) and tau_mem is not None
            and np.any(np.isclose(tau_mem, conn.synapse.tau))):
        raise ValueError(f"{conn.name}: the target's tau_mem equals the "
                         f"synapse's tau ({conn.synapse.tau:g} ms); EventProp "
                         f"divides by their difference, so they must differ")
