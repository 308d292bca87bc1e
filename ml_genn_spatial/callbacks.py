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
