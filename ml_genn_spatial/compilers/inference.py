"""Inference with spatial delays."""
from ml_genn.callbacks import CustomUpdateOnTimestepBegin
from ml_genn.compilers import InferenceCompiler
from ml_genn.utils.model import WeightUpdateModel
from ml_genn.utils.value import is_value_constant

from .common import (PositionStorageCheck, SpatialDelays, SpatialLayout,
                     add_position_vars, check_backend_batch, forward_model)
from ..connectivity import is_spatial


def inference_delayed_populations(network, spatial_conns) -> set:
    """Populations with delay slots under mlGeNN's inference compiler:
    sources of connections with a constant non-zero (axonal) delay.
    Spatial delays are dendritic and give none."""
    delayed = set()
    for c in network.connections:
        if is_spatial(c):
            continue
        delay = getattr(c.connectivity, "delay", None)
        if delay is None or (is_value_constant(delay) and delay > 0):
            delayed.add(c.source())
    return delayed


class SpatialInferenceCompiler(SpatialDelays, InferenceCompiler):
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
        self._layout = SpatialLayout(network, inference_delayed_populations)
        return super().pre_compile(network, genn_model, **kwargs)

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        if pop in self._layout.positions:
            add_position_vars(model, pop, self._layout)
        return model

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
        compiled.base_callbacks.append(PositionStorageCheck(self._layout))
        return compiled

    def build_weight_update_model(self, conn, connect_snippet,
                                  compile_state):
        if not self._layout.is_spatial(conn):
            return super().build_weight_update_model(
                conn, connect_snippet, compile_state)
        # Positions never change during inference: copies need no sync
        model, pre, post = forward_model(self._layout, conn)
        return WeightUpdateModel(
            model, self._layout.spatial_params(conn),
            {"g": connect_snippet.weight}, pre.var_vals, post.var_vals,
            pre_neuron_var_refs=pre.ref_targets,
            post_neuron_var_refs=post.ref_targets)
