"""mlGeNN callbacks that record the state of spatial connections."""
import numpy as np

from ml_genn.callbacks import Callback
from pygenn import SynapseMatrixConnectivity

from .export import device_positions
from .geometry import distance
from .placement import get_space


class ConnectivityRecord(Callback):
    """Records, at the end of every epoch (or batch), the sparsity and the
    mean connection length [space units] of a spatial connection, read
    from the device. DEEP R's rewirings and failed rewirings are recorded
    by mlGeNN (the compiler's ``deep_r_record_rewirings``).

    Args:
        connection: spatial mlGeNN connection
        key:        key of the recorded data in the training callback data
        per_batch:  record at every batch end rather than every epoch end
    """

    def __init__(self, connection, key, per_batch: bool = False):
        self.connection = connection
        self.key = key
        self.per_batch = per_batch

    def set_params(self, data, compiled_network, **kwargs):
        self._compiled = compiled_network
        data[self.key] = []
        self._data = data[self.key]

    def on_batch_end(self, batch, metrics):
        if self.per_batch:
            self._record()

    def on_epoch_end(self, epoch, metrics):
        if not self.per_batch:
            self._record()

    def get_data(self):
        return self.key, self._data

    def _record(self):
        conn = self.connection
        genn_syn = self._compiled.connection_populations[conn]
        source, target = conn.source(), conn.target()
        num_possible = (int(np.prod(source.shape))
                        * int(np.prod(target.shape)))
        pre = device_positions(self._compiled, source)
        post = device_positions(self._compiled, target)
        eps = get_space(source).eps
        if genn_syn.matrix_type & SynapseMatrixConnectivity.SPARSE:
            genn_syn.pull_connectivity_from_device()
            dist = distance(pre, post, eps=eps,
                            pre_ind=genn_syn.get_sparse_pre_inds(),
                            post_ind=genn_syn.get_sparse_post_inds())
        else:
            dist = distance(pre, post, eps=eps).reshape(-1)
        self._data.append({"num_synapses": int(dist.size),
                           "sparsity": 1.0 - dist.size / num_possible,
                           "mean_length": float(dist.mean())
                           if dist.size else 0.0})


class RecycleSilent(Callback):
    """Recycles the neurons of a population that stayed silent through a
    window of training trials, after ReDo (Sokar et al. 2023, "The dormant
    neuron phenomenon in deep reinforcement learning"): their incoming
    weights are drawn afresh from the connection's ``Normal`` initialiser
    and their outgoing weights set to zero, so the network's output is
    unchanged when they wake. A silent neuron gets no EventProp gradient,
    so without this it stays silent for good.

    Spikes are counted from GeNN's spike recording of the forward pass:
    the population needs ``record_spikes = True`` before compiling.
    Positions and delays are left as they are; so is the optimiser's state
    (the gradients of a silent neuron's weights are zero). Dense
    connections only (the weight of every pre/post pair is held). The
    window's count restarts with every ``train`` call (mlGeNN sets a
    callback's parameters then): a window never spans two calls, and
    the trials after an epoch's last full window recycle nothing.

    Args:
        population: the mlGeNN population whose neurons are recycled
        incoming:   connections into it, each with a ``Normal`` weight
                    initialiser
        outgoing:   connections out of it
        window:     trials without a spike that make a neuron silent
        rng:        seed or ``numpy.random.Generator`` of the new weights
        key:        key of the per-epoch counts of recycled neurons in the
                    training callback data
    """

    def __init__(self, population, incoming, outgoing, window: int,
                 rng=None, key="recycled"):
        from ml_genn.initializers import Normal
        if isinstance(window, bool) or int(window) != window or window < 1:
            raise ValueError(f"window must be a whole number of trials "
                             f">= 1, not {window!r}")
        for conn in incoming:
            if not isinstance(conn.connectivity.weight, Normal):
                raise ValueError(f"RecycleSilent draws incoming weights "
                                 f"from a Normal initialiser; "
                                 f"{conn.name!r} has "
                                 f"{conn.connectivity.weight!r}")
        for conn in (*incoming, *outgoing):
            if population not in (conn.source(), conn.target()):
                raise ValueError(f"{conn.name!r} does not connect "
                                 f"{population.name!r}")
        self.population = population
        self.incoming = list(incoming)
        self.outgoing = list(outgoing)
        self.window = int(window)
        self.rng = np.random.default_rng(rng)
        self.key = key

    def set_params(self, data, compiled_network, **kwargs):
        self._compiled = compiled_network
        genn_pop = compiled_network.neuron_populations[self.population]
        self._genn_pop = genn_pop
        if not genn_pop.spike_recording_enabled:
            raise RuntimeError(f"RecycleSilent counts spikes from GeNN's "
                               f"recording: set record_spikes = True on "
                               f"{self.population.name!r} before compiling")
        for conn in (*self.incoming, *self.outgoing):
            genn_syn = compiled_network.connection_populations[conn]
            if not genn_syn.matrix_type & SynapseMatrixConnectivity.DENSE:
                raise ValueError(f"RecycleSilent needs dense connections; "
                                 f"{conn.name!r} is not")
        self._batch_size = compiled_network.genn_model.batch_size
        self._counts = np.zeros(genn_pop.num_neurons, dtype=np.int64)
        self._trials = 0
        data[self.key] = []
        self._data = data[self.key]

    def on_epoch_begin(self, epoch):
        self._data.append(0)

    def on_batch_end(self, batch, metrics):
        self._compiled.genn_model.pull_recording_buffers_from_device()
        for _, ids in self._genn_pop.spike_recording_data:
            self._counts += np.bincount(ids, minlength=self._counts.size)
        self._trials += self._batch_size
        if self._trials >= self.window:
            silent = np.flatnonzero(self._counts == 0)
            if silent.size:
                self._recycle(silent)
                self._data[-1] += int(silent.size)
            self._counts[:] = 0
            self._trials = 0

    def get_data(self):
        return self.key, self._data

    def _recycle(self, silent):
        for conns, incoming in ((self.incoming, True),
                                (self.outgoing, False)):
            for conn in conns:
                genn_syn = self._compiled.connection_populations[conn]
                var = genn_syn.vars["g"]
                var.pull_from_device()
                g = var.view.reshape(-1, int(np.prod(conn.target().shape)))
                if incoming:
                    init = conn.connectivity.weight
                    g[:, silent] = self.rng.normal(
                        init.mean, init.sd, (g.shape[0], silent.size))
                else:
                    g[silent, :] = 0.0
                var.push_to_device()
