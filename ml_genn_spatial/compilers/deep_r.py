"""Distance-aware DEEP R for spatial connections.

DEEP R (mlGeNN's ``EventPropCompiler(deep_r_conns=...)``) works on
:class:`~ml_genn_spatial.SpatialSparse` connections as it is: a regrown
synapse starts with zero weight, gradient and optimiser state (GeNN resets
every variable of a new synapse, Adam moments included), and its delay
follows from the positions of its two neurons (stored delays are
recomputed from the positions at the start of every batch, before a new
synapse's first spike; nothing else is kept per synapse). With ``regrowth_length`` a regrown synapse's target is drawn with
probability proportional to ``exp(-dist / regrowth_length)`` instead of
uniformly.

How it hooks into mlGeNN without replacing anything there: mlGeNN's
``add_deep_r`` adds its second pass through the compiler's own method
``add_custom_connectivity_update(genn_model, model, synapse_group,
"DeepR2", ...)``. :class:`DistanceAwareDeepR` overrides that method and,
for a connection with a ``regrowth_length``, adds a distance-aware version
of the model mlGeNN passed (same parameters, variables and arrays, plus the
positions). Everything else of mlGeNN's DEEP R -- the first pass, L1, the
initialisation, the callbacks and their order, rewiring records that read
the returned group -- stays upstream's.
"""
from copy import deepcopy

import numpy as np

from pygenn import VarAccessMode, create_egp_ref, create_var_ref
from ml_genn.utils.model import (CustomConnectivityUpdateModel,
                                 CustomUpdateModel)

from .. import codegen, names
from ..placement import get_space

# Distance-aware regrowth gives up rejecting candidates after this many per
# possible target and takes the next free one (see snippets/regrowth.c)
MAX_TRIES_PER_TARGET = 64


def distance_deep_r_2_model(upstream_model: dict, dimensions: int) -> dict:
    """mlGeNN's second DEEP R pass (``upstream_model``) with distance-aware
    regrowth: the source's positions through references, the target's in
    the array ``TargetPositions`` (``j * D + k``; the row code draws
    arbitrary targets, and GeNN gives it postsynaptic variables only for
    the synapses that exist)."""
    model = deepcopy(upstream_model)
    model["params"] = model["params"] + [("RegrowthLength", "scalar"),
                                         ("Eps", "scalar"),
                                         ("MaxTries", "unsigned int")]
    model["pre_var_refs"] = (
        list(model.get("pre_var_refs", []))
        + [(names.position(k), "scalar", VarAccessMode.READ_ONLY)
           for k in range(dimensions)])
    model["extra_global_params"] = (model["extra_global_params"]
                                    + [(names.TARGET_POSITIONS, "scalar*")])
    model["row_update_code"] = codegen.regrowth_code(dimensions)
    return model


def target_positions_sync_model(dimensions: int) -> dict:
    """Custom update copying a population's positions ``X<k>`` into a
    distance-aware DEEP R update's ``TargetPositions`` array."""
    return {"var_refs": [(names.position(k), "scalar",
                          VarAccessMode.READ_ONLY)
                         for k in range(dimensions)],
            "extra_global_param_refs": [(names.TARGET_POSITIONS, "scalar*")],
            "update_code": codegen.target_positions_code(dimensions)}


class DistanceAwareDeepR:
    """Compiler mixin: distance-aware regrowth for the spatial connections
    of ``deep_r_conns`` that have a ``regrowth_length``.

    Needs ``self._layout`` (:class:`.common.SpatialLayout`) and calls
    :meth:`_init_distance_deep_r` with the GeNN groups before mlGeNN's
    ``create_compiled_network``.
    """

    def _init_distance_deep_r(self, neuron_populations,
                              connection_populations):
        #: GeNN synapse group name -> spatial connection
        self._distance_rewired = {
            connection_populations[c].name: c for c in self.deep_r_conns
            if self._layout.is_spatial(c)
            and c.connectivity.regrowth_length is not None}
        self._neuron_populations = neuron_populations
        #: spatial connection -> its DeepR2 custom connectivity update
        self._regrowth_updates = {}

    def add_custom_connectivity_update(self, genn_model, model,
                                       synapse_group, group, name):
        conn = getattr(self, "_distance_rewired", {}).get(
            synapse_group.name)
        if group == names.DEEP_R_2 and conn is not None:
            model = self._distance_deep_r_2(model, conn, synapse_group)
        genn_ccu = super().add_custom_connectivity_update(
            genn_model, model, synapse_group, group, name)
        if group == names.DEEP_R_2 and conn is not None:
            self._regrowth_updates[conn] = genn_ccu
        return genn_ccu

    def _distance_deep_r_2(self, model, conn, synapse_group):
        space = get_space(conn.source())
        dimensions = space.dimensions
        source = self._neuron_populations[conn.source()]
        target_positions = self._layout.positions[conn.target()]
        return CustomConnectivityUpdateModel(
            distance_deep_r_2_model(model.model, dimensions),
            param_vals={**model.param_vals,
                        "RegrowthLength": conn.connectivity.regrowth_length,
                        "Eps": space.eps,
                        "MaxTries": MAX_TRIES_PER_TARGET
                        * synapse_group.trg.num_neurons},
            var_vals=model.var_vals,
            pre_var_vals=model.pre_var_vals,
            post_var_vals=model.post_var_vals,
            var_refs=model.var_refs,
            pre_var_refs={**model.pre_var_refs,
                          **{names.position(k): create_var_ref(
                              source, names.position(k))
                             for k in range(dimensions)}},
            post_var_refs=model.post_var_refs,
            egp_vals={**model.egp_vals,
                      names.TARGET_POSITIONS: target_positions.reshape(-1)
                      .astype(np.float32)},
            egp_refs=model.egp_refs)

    def _check_distance_deep_r(self):
        missing = [c.name for n, c in self._distance_rewired.items()
                   if c not in self._regrowth_updates]
        if missing:
            raise RuntimeError(
                f"Distance-aware DEEP R of {missing}: mlGeNN did not add "
                f"its second DEEP R pass through the compiler's "
                f"add_custom_connectivity_update('{names.DEEP_R_2}'), "
                f"which this mlGeNN version does differently: use "
                f"mlGeNN 2.4.0, or regrowth_length=None")

    def _add_target_positions_sync(self, genn_model,
                                   neuron_populations) -> int:
        """``PositionSync`` updates that copy each learnt target
        population's positions into its distance-aware DEEP R array --
        the one copy of positions DEEP R needs. Returns how many."""
        count = 0
        for i, (conn, genn_ccu) in enumerate(
                sorted(self._regrowth_updates.items(),
                       key=lambda item: item[0].name)):
            target = conn.target()
            if not target.neuron.learn_positions:
                continue
            dimensions = get_space(target).dimensions
            self.add_custom_update(
                genn_model,
                CustomUpdateModel(
                    target_positions_sync_model(dimensions), {}, {},
                    {names.position(k): create_var_ref(
                        neuron_populations[target], names.position(k))
                     for k in range(dimensions)}, {},
                    {names.TARGET_POSITIONS: create_egp_ref(
                        genn_ccu, names.TARGET_POSITIONS)}),
                names.POSITION_SYNC, f"CU{names.POSITION_SYNC}Regrowth{i}")
            count += 1
        return count
