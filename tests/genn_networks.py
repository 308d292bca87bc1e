"""Small networks shared by the GeNN tests (imported only when pygenn is)."""
import numpy as np

from pygenn import SynapseMatrixConnectivity

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense, FixedProbability
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Optimiser
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes
from ml_genn.utils.model import CustomUpdateModel

from ml_genn_spatial import (Space, SpatialConnection, SpatialDense,
                             SpatialSparse, names, place)


class FrozenOptimiser(Optimiser):
    """An optimiser that changes nothing and leaves gradients in place, so
    tests can read the gradients mlGeNN accumulated."""

    def set_step(self, genn_cu, step):
        pass

    def get_model(self, gradient_ref, var_ref, zero_gradient, clamp_var=None):
        return CustomUpdateModel(
            {"var_refs": [("Gradient", "scalar"), ("Variable", "scalar")],
             "update_code": "Variable = Variable;"},
            {}, {}, {"Gradient": gradient_ref, "Variable": var_ref})


class Capture(Callback):
    """Pulls GeNN variables at the end of a given batch or timestep."""

    def __init__(self, targets, batch=None, timestep=None):
        self.targets = targets      # name -> (genn group, var name)
        self.batch = batch
        self.timestep = timestep
        self.values = {}
        self._current_batch = -1

    def on_batch_begin(self, batch):
        self._current_batch = batch

    def _pull(self):
        for name, (group, var) in self.targets.items():
            # A variable, or else an extra global parameter
            if var in group.vars:
                group.vars[var].pull_from_device()
                self.values[name] = np.array(group.vars[var].values,
                                             copy=True)
            else:
                egp = group.extra_global_params[var]
                egp.pull_from_device()
                self.values[name] = np.array(egp.view, copy=True)

    def on_timestep_end(self, timestep):
        if (self.timestep is not None and timestep == self.timestep
                and self._current_batch == self.batch):
            self._pull()

    def on_batch_end(self, batch, metrics):
        if self.timestep is None and batch == self.batch:
            self._pull()


def random_inputs(num_trials, num_inputs, timesteps, dt, rate, rng):
    """Poisson-like input spike trains, one PreprocessedSpikes per trial."""
    spikes = []
    for _ in range(num_trials):
        mask = rng.random((timesteps // 2, num_inputs)) < rate
        steps, ids = np.nonzero(mask)
        spikes.append(preprocess_spikes(steps * dt + dt, ids, num_inputs))
    return spikes


def build_network(num_inputs, num_hidden, num_outputs, positions, weights,
                  spatial, recurrent, max_delay_steps, scale, dimensions,
                  delays=None, masks=None, wiring_cost=0.0,
                  tau_refrac=None):
    """Input -> LIF hidden (-> hidden) -> leaky-integrator output.

    With ``spatial`` the input->hidden and hidden->hidden connections are
    spatial in a shared space; otherwise they are mlGeNN connections with
    the given integer ``delays``. With ``masks`` (boolean matrices per
    connection) those connections are sparse, else dense.
    """
    def connectivity(key):
        if masks is None:
            if spatial:
                return SpatialDense(weights[key], max_delay_steps,
                                    scale=scale, wiring_cost=wiring_cost)
            return Dense(weights[key], delays[key])
        pre_ind, post_ind = np.nonzero(masks[key])
        if spatial:
            return SpatialSparse(1.0, weights[key][pre_ind, post_ind],
                                 max_delay_steps, scale=scale,
                                 allow_self_connections=True,
                                 pre_ind=pre_ind, post_ind=post_ind,
                                 wiring_cost=wiring_cost)
        sparse = FixedProbability(1.0, weights[key][pre_ind, post_ind],
                                  allow_self_connections=True,
                                  delay=delays[key][pre_ind, post_ind])
        sparse.pre_ind, sparse.post_ind = pre_ind, post_ind
        return sparse

    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=1000), num_inputs)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=tau_refrac),
                         num_hidden)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"),
                         num_outputs)
        conns = {}
        if spatial:
            space = Space(dimensions)
            place(inp, space, positions["inp"])
            place(hid, space, positions["hid"])
        keys = ["inp_hid"] + (["hid_hid"] if recurrent else [])
        for key, source in zip(keys, (inp, hid)):
            if spatial:
                conns[key] = SpatialConnection(source, hid, connectivity(key),
                                               Exponential(5.0))
            else:
                conns[key] = Connection(source, hid, connectivity(key),
                                        Exponential(5.0),
                                        max_delay_steps=max_delay_steps)
        conns["hid_out"] = Connection(hid, out, Dense(weights["hid_out"]),
                                      Exponential(5.0))
    return network, inp, hid, out, conns


def random_spatial_network(num_inputs, num_hidden, num_outputs, dimensions,
                           max_delay_steps, recurrent, sparse, seed=0):
    """:func:`build_network` with spatial connections, positions uniform in
    [-1, 1]^D and random weights (``sparse``: each connection keeps about
    60 % of its synapses); delays of 4 timesteps per space unit."""
    rng = np.random.default_rng(seed)
    positions = {"inp": rng.uniform(-1, 1, (num_inputs, dimensions)),
                 "hid": rng.uniform(-1, 1, (num_hidden, dimensions))}
    weights = {"inp_hid": rng.normal(1.5, 0.5, (num_inputs, num_hidden)),
               "hid_hid": rng.normal(0.0, 0.3, (num_hidden, num_hidden)),
               "hid_out": rng.normal(0.3, 0.3, (num_hidden, num_outputs))}
    masks = None
    if sparse:
        masks = {key: rng.random(w.shape) < 0.6
                 for key, w in weights.items()}
    return build_network(num_inputs, num_hidden, num_outputs, positions,
                         weights, True, recurrent, max_delay_steps, 4.0,
                         dimensions, masks=masks)


def dense_values(genn_syn, values, num_pre, num_post):
    """Per-synapse values of a GeNN synapse group as a dense matrix (zero
    where there is no synapse)."""
    values = np.asarray(values).reshape(-1)
    if not genn_syn.matrix_type & SynapseMatrixConnectivity.SPARSE:
        return values.reshape(num_pre, num_post)
    genn_syn.pull_connectivity_from_device()
    dense = np.zeros((num_pre, num_post))
    dense[genn_syn.get_sparse_pre_inds(),
          genn_syn.get_sparse_post_inds()] = values
    return dense


def mirror_values(compiled, conn, values):
    """A spatial connection's values in the array of its position mirror
    (``DelayGradientT``) as a dense (num_pre, num_post) matrix of the
    connection, zero where there is no synapse: a DENSE mirror holds them
    transposed, a SPARSE one in the connection's own rows (synapse k of row
    i at ``i * row_stride + k``)."""
    genn_syn = compiled.connection_populations[conn]
    mirror = compiled.genn_model.synapse_populations[names.mirror(conn.name)]
    num_pre, num_post = genn_syn.src.num_neurons, genn_syn.trg.num_neurons
    values = np.asarray(values).reshape(-1)
    if not mirror.matrix_type & SynapseMatrixConnectivity.SPARSE:
        return values.reshape(num_post, num_pre).T
    mirror.pull_connectivity_from_device()
    stride = mirror.max_connections
    lengths = np.asarray(mirror._row_lengths.view)
    compact = np.concatenate([values[i * stride:(i * stride) + n]
                              for i, n in enumerate(lengths)])
    dense = np.zeros((num_pre, num_post))
    dense[mirror.get_sparse_pre_inds(), mirror.get_sparse_post_inds()] = (
        compact)
    return dense


def gather_targets(compiled, pops, dimensions):
    """Capture targets of the position gradients that
    SpatialEventPropCompiler hands to its optimiser (its PositionGather
    custom updates, numbered by population name), keyed (name, component).
    """
    spatial = sorted(pops.values(), key=lambda p: p.name)
    return {(name, k): (compiled.genn_model.custom_updates[
                names.gather_update(spatial.index(pop))],
                        names.gathered_gradient(k))
            for name, pop in pops.items() for k in range(dimensions)}


def gathered(values, names, dimensions):
    """Stack captured gather components into (neurons, D) arrays."""
    return {name: np.stack([values[(name, k)] for k in range(dimensions)],
                           axis=1) for name in names}


def gradient_target(compiled, conn, var="Gradient", batch_size=1):
    """Capture target of the batch-summed gradient ``var`` ("Gradient" or
    mlGeNN's "DelayGradient") of ``conn`` as the optimiser gets it: the
    synapse group's own variable at batch size 1, else the variable of
    mlGeNN's batch reduction (GradientBatchReduce), same synapse layout."""
    genn_conn = compiled.connection_populations[conn]
    if batch_size == 1:
        return genn_conn, var
    prefix = {"Gradient": "CUBatchReduceWeight",
              "DelayGradient": "CUBatchReduceDelay"}[var]
    for name, cu in compiled.genn_model.custom_updates.items():
        if (name.startswith(prefix)
                and cu.synapse_group.name == genn_conn.name):
            return cu, "ReducedGradient"
    raise KeyError(f"no batch reduction of {var} of {conn.name}")
