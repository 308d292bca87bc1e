"""Structural plasticity for spatial connections.

DEEP R (mlGeNN's ``EventPropCompiler(deep_r_conns=...)``) works on
:class:`~ml_genn_spatial.SpatialSparse` connections as it is: a regrown
synapse starts with zero weight, gradient and optimiser state (GeNN resets
every variable of a new synapse, Adam moments included), and its delay
follows from the positions of its two neurons with nothing stored per
synapse. This module adds *distance-aware* regrowth, where a new target is
drawn with probability proportional to ``exp(-dist / regrowth_length)``,
by swapping mlGeNN's second DEEP R pass for one that reads positions.
"""
from contextlib import contextmanager
from copy import deepcopy

import numpy as np

from pygenn import VarAccessMode, create_egp_ref, create_pre_var_ref, create_var_ref
from ml_genn.compilers import deep_r as mlgenn_deep_r
from ml_genn.compilers import event_prop_compiler as mlgenn_event_prop
from ml_genn.utils.model import (CustomConnectivityUpdateModel,
                                 CustomUpdateModel)

from . import codegen
from .placement import get_positions, get_space

# Distance-aware regrowth gives up rejecting candidates after this many per
# possible target and takes the next free one (see snippets/regrowth.c)
MAX_TRIES_PER_TARGET = 64


def distance_deep_r_2_model(dimensions: int) -> dict:
    """mlGeNN's second DEEP R pass with distance-aware regrowth."""
    model = deepcopy(mlgenn_deep_r.deep_r_2_model)
    model["params"] = model["params"] + [("RegrowthLength", "scalar"),
                                         ("Eps", "scalar"),
                                         ("MaxTries", "unsigned int")]
    model["pre_var_refs"] = [(f"X{k}", "scalar", VarAccessMode.READ_ONLY)
                             for k in range(dimensions)]
    model["extra_global_params"] = (model["extra_global_params"]
                                    + [("TargetPositions", "scalar*")])
    model["row_update_code"] = codegen.regrowth_code(dimensions)
    return model


def add_distance_deep_r(conn, synapse_group, genn_model, compiler,
                        l1_strength, delta_weight_var_ref, weight_var_ref,
                        source_genn_pop):
    """DEEP R for one spatial connection with distance-aware regrowth: the
    initialisation, first pass and L1 models are mlGeNN's own; the second
    pass draws targets by distance.

    Returns:
        the DEEP R second-pass custom connectivity update (as mlGeNN's
        ``add_deep_r``, so mlGeNN's rewiring records work unchanged) and
        the target-position array it reads, to be kept in sync with the
        positions.
    """
    space = get_space(conn.source())
    dimensions = space.dimensions
    num_row_words = (synapse_group.trg.num_neurons + 31) // 32
    num_words = synapse_group.src.num_neurons * num_row_words
    target_positions = get_positions(conn.target())

    deep_r_2 = CustomConnectivityUpdateModel(
        distance_deep_r_2_model(dimensions),
        param_vals={"NumRowWords": num_row_words,
                    "RegrowthLength": conn.connectivity.regrowth_length,
                    "Eps": space.eps,
                    "MaxTries": MAX_TRIES_PER_TARGET
                    * synapse_group.trg.num_neurons},
        pre_var_vals={"NumDormant": 0, "NumActivations": 0},
        pre_var_refs={f"X{k}": create_var_ref(source_genn_pop, f"X{k}")
                      for k in range(dimensions)},
        egp_vals={"Connectivity": np.zeros(num_words, dtype=np.uint32),
                  "NumRewirings": np.zeros(1, dtype=np.uint64),
                  "NumFailedRewirings": np.zeros(1, dtype=np.uint64),
                  "TargetPositions": target_positions.reshape(-1)
                  .astype(np.float32)})
    genn_deep_r_2 = compiler.add_custom_connectivity_update(
        genn_model, deep_r_2, synapse_group, "DeepR2",
        "DeepR2" + synapse_group.name)

    deep_r_1 = CustomConnectivityUpdateModel(
        mlgenn_deep_r.deep_r_1_model,
        param_vals={"NumRowWords": num_row_words},
        egp_vals={"Inhibitory": np.zeros(num_words, dtype=np.uint32)},
        pre_var_refs={"NumDormant": create_pre_var_ref(genn_deep_r_2,
                                                       "NumDormant")},
        var_refs={"g": weight_var_ref},
        egp_refs={"Connectivity": create_egp_ref(genn_deep_r_2,
                                                 "Connectivity")})
    genn_deep_r_1 = compiler.add_custom_connectivity_update(
        genn_model, deep_r_1, synapse_group, "DeepR1",
        "DeepR1" + synapse_group.name)

    if l1_strength > 0.0:
        compiler.add_custom_update(
            genn_model,
            CustomUpdateModel(
                mlgenn_deep_r.deep_r_l1_model,
                param_vals={"C": l1_strength, "NumRowWords": num_row_words},
                var_refs={"Variable": delta_weight_var_ref},
                egp_refs={"Inhibitory": create_egp_ref(genn_deep_r_1,
                                                       "Inhibitory")}),
            "DeepRL1", "DeepRL1" + synapse_group.name)

    compiler.add_custom_connectivity_update(
        genn_model,
        CustomConnectivityUpdateModel(
            mlgenn_deep_r.deep_r_init_model,
            param_vals={"NumRowWords": num_row_words},
            var_refs={"g": weight_var_ref},
            egp_refs={"Connectivity": create_egp_ref(genn_deep_r_2,
                                                     "Connectivity"),
                      "Inhibitory": create_egp_ref(genn_deep_r_1,
                                                   "Inhibitory")}),
        synapse_group, "DeepRInit", "DeepRInit" + synapse_group.name)
    return genn_deep_r_2


@contextmanager
def distance_aware_deep_r(connections_by_group: dict, neuron_populations):
    """Within this context, mlGeNN's EventProp compiler builds DEEP R for
    the synapse groups named in ``connections_by_group`` (GeNN synapse
    group name -> spatial connection with a ``regrowth_length``) with
    distance-aware regrowth, and its own uniform DEEP R for the others.

    mlGeNN calls its module-level ``add_deep_r`` from
    ``EventPropCompiler.create_compiled_network``; dispatching there keeps
    every other step of mlGeNN's DEEP R (callbacks and their order, L1,
    rewiring records) exactly as upstream.
    """
    if not hasattr(mlgenn_event_prop, "add_deep_r"):
        raise ImportError("distance-aware DEEP R hooks into mlGeNN's "
                          "ml_genn.compilers.event_prop_compiler.add_deep_r,"
                          " which this mlGeNN does not have: use mlGeNN "
                          "2.4.0")
    upstream = mlgenn_event_prop.add_deep_r
    created = {}

    def dispatch(synapse_group, genn_model, compiler, l1_strength,
                 delta_weight_var_ref, weight_var_ref):
        conn = connections_by_group.get(synapse_group.name)
        if conn is None:
            return upstream(synapse_group, genn_model, compiler, l1_strength,
                            delta_weight_var_ref, weight_var_ref)
        genn_ccu = add_distance_deep_r(
            conn, synapse_group, genn_model, compiler, l1_strength,
            delta_weight_var_ref, weight_var_ref,
            neuron_populations[conn.source()])
        created[conn] = genn_ccu
        return genn_ccu

    mlgenn_event_prop.add_deep_r = dispatch
    try:
        yield created
    finally:
        mlgenn_event_prop.add_deep_r = upstream


def target_position_sync_model(dimensions: int) -> dict:
    """Custom update copying a population's positions ``X<k>`` into a
    distance-aware DEEP R update's ``TargetPositions`` array."""
    return {"var_refs": [(f"X{k}", "scalar", VarAccessMode.READ_ONLY)
                         for k in range(dimensions)],
            "extra_global_param_refs": [("TargetPositions", "scalar*")],
            "update_code": "\n".join(
                f"TargetPositions[(id * {dimensions}) + {k}] = X{k};"
                for k in range(dimensions))}


def prune(connection, sparsity: float, by: str = "weight"):
    """One-shot pruning of a trained spatial connection to a target
    sparsity, by weight magnitude or by connection length; compile the
    network again to fine-tune.

    The connection's weights must be arrays (e.g. after ``Network.load`` of
    a checkpoint) and its populations placed with their trained positions.
    Its connectivity is replaced by a :class:`SpatialSparse` with the kept
    synapses, their weights and the same distance-to-delay map.

    Args:
        connection: spatial mlGeNN connection
        sparsity:   fraction of all ``N_pre * N_post`` possible synapses to
                    remove
        by:         ``"weight"`` (keep the largest ``|w|``) or ``"length"``
                    (keep the shortest connections)
    """
    from .connectivity import SpatialSparse, is_spatial
    from .geometry import distance
    from .pruning import keep_count, select_synapses

    if not is_spatial(connection):
        raise ValueError(f"{connection.name} is not a spatial connection")
    old = connection.connectivity
    source, target = connection.source(), connection.target()
    num_pre = int(np.prod(source.shape))
    num_post = int(np.prod(target.shape))
    weight = np.asarray(old.weight, dtype=np.float64)
    if weight.ndim == 0 or not np.issubdtype(weight.dtype, np.number):
        raise ValueError(f"{connection.name} has no trained weight array: "
                         f"load a checkpoint (Network.load) first")
    pre_ind = getattr(old, "pre_ind", None)
    if pre_ind is None:
        pre_ind, post_ind = np.divmod(np.arange(num_pre * num_post),
                                      num_post)
        weight = weight.reshape(-1)
    else:
        pre_ind = np.asarray(pre_ind)
        post_ind = np.asarray(old.post_ind)
    space = get_space(source)
    dist = distance(get_positions(source), get_positions(target),
                    eps=space.eps, pre_ind=pre_ind, post_ind=post_ind)
    keep = keep_count(num_pre, num_post, sparsity)
    if keep > weight.size:
        raise ValueError(f"{connection.name} has {weight.size} synapses, "
                         f"fewer than the {keep} that sparsity "
                         f"{sparsity} keeps")
    kept = select_synapses(weight, dist, keep, by)
    connection.connectivity = SpatialSparse(
        1.0, weight[kept], old.max_delay_steps, scale=old.scale,
        offset=old.offset, allow_self_connections=True,
        pre_ind=pre_ind[kept], post_ind=post_ind[kept],
        wiring_cost=old.wiring_cost,
        regrowth_length=getattr(old, "regrowth_length", None))
    return connection
