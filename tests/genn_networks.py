"""Small networks shared by the GeNN tests (imported only when pygenn is)."""
import numpy as np

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Optimiser
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes
from ml_genn.utils.model import CustomUpdateModel

from ml_genn_spatial import Space, SpatialDense, place


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
            group.vars[var].pull_from_device()
            self.values[name] = np.array(group.vars[var].values, copy=True)

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
                  delays=None):
    """Input -> LIF hidden (-> hidden) -> leaky-integrator output.

    With ``spatial`` the input->hidden and hidden->hidden connections are
    SpatialDense in a shared space; otherwise they are mlGeNN Dense
    connections with the given integer ``delays``.
    """
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=1000), num_inputs)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), num_hidden)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"),
                         num_outputs)
        conns = {}
        if spatial:
            space = Space(dimensions)
            place(inp, space, positions["inp"])
            place(hid, space, positions["hid"])
            conns["inp_hid"] = Connection(
                inp, hid, SpatialDense(weights["inp_hid"], max_delay_steps,
                                       scale=scale), Exponential(5.0))
            if recurrent:
                conns["hid_hid"] = Connection(
                    hid, hid, SpatialDense(weights["hid_hid"],
                                           max_delay_steps, scale=scale),
                    Exponential(5.0))
        else:
            conns["inp_hid"] = Connection(
                inp, hid, Dense(weights["inp_hid"], delays["inp_hid"]),
                Exponential(5.0), max_delay_steps=max_delay_steps)
            if recurrent:
                conns["hid_hid"] = Connection(
                    hid, hid, Dense(weights["hid_hid"], delays["hid_hid"]),
                    Exponential(5.0), max_delay_steps=max_delay_steps)
        conns["hid_out"] = Connection(hid, out, Dense(weights["hid_out"]),
                                      Exponential(5.0))
    return network, inp, hid, out, conns
