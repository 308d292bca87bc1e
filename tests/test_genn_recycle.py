"""GeNN (CPU backend, batch 1): RecycleSilent gives the hidden neurons that
stayed silent through its window fresh input weights and zero output
weights, and leaves every other weight as training made it; recycled
neurons spike again. Silence is judged independently by mlGeNN's own
SpikeRecorder."""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn import Connection, Network, Population
    from ml_genn.callbacks import SpikeRecorder
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.initializers import Normal, Uniform
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.synapses import Exponential
    from ml_genn.utils.data import preprocess_spikes
    from ml_genn_spatial import (RecycleSilent, Space, SpatialConnection,
                                 SpatialDense, SpatialEventPropCompiler,
                                 place)
    from ml_genn_spatial.datasets import encode_latency, yin_yang
except ImportError:
    # tests/conftest.py skips every test marked genn; with GeNN present an
    # import error is a real failure
    if genn_available():
        raise

NUM_INPUTS, NUM_HIDDEN, NUM_CLASSES, TIMESTEPS, TRIALS = 5, 16, 3, 60, 12
IN_MEAN, IN_SD, SEED = 1.5, 0.5, 7
#: hidden neurons made silent before training (input weights -3)
SILENCED = [0, 5, 11]


def _task():
    features, labels = yin_yang(TRIALS, 42)
    times = encode_latency(features, t_early=1.0, t_late=30.0, bias_time=1.0)
    return ([preprocess_spikes(t, np.arange(NUM_INPUTS), NUM_INPUTS)
             for t in times], labels)


def _network():
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=100), NUM_INPUTS, name="inp")
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), NUM_HIDDEN,
                         name="hid", record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"),
                         NUM_CLASSES, name="out")
        space = Space(2, bounds=(-1.0, 1.0), rng=1)
        place(inp, space)
        place(hid, space)
        inp_hid = SpatialConnection(inp, hid, SpatialDense(
            Normal(IN_MEAN, IN_SD), 15), Exponential(5.0), name="inp_hid")
        hid_out = Connection(hid, out, Dense(Normal(0.3, 0.3)),
                             Exponential(5.0), name="hid_out")
    return network, inp, hid, out, inp_hid, hid_out


def _compile(network, backend, name):
    return SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.003), position_optimiser=Adam(0.003), dt=1.0,
        batch_size=1, backend=backend, rng_seed=3).compile(network,
                                                           name=name)


def _weights(compiled, conn):
    var = compiled.connection_populations[conn].vars["g"]
    var.pull_from_device()
    return var.values.reshape(-1, int(np.prod(conn.target().shape))).copy()


def _train(backend, window=None):
    """One epoch of TRIALS trials, SILENCED silenced first; with a window,
    RecycleSilent(window) recycles. Returns the input and output weights,
    the hidden spike counts per trial and what RecycleSilent recorded."""
    x, y = _task()
    network, inp, hid, out, inp_hid, hid_out = _network()
    compiled = _compile(network, backend, "recycle" if window else "plain")
    callbacks = [SpikeRecorder(hid, key="counts", record_counts=True)]
    if window:
        callbacks.append(RecycleSilent(hid, [inp_hid], [hid_out], window,
                                       rng=SEED))
    with compiled:
        var = compiled.connection_populations[inp_hid].vars["g"]
        var.pull_from_device()
        var.view.reshape(NUM_INPUTS, NUM_HIDDEN)[:, SILENCED] = -3.0
        var.push_to_device()
        metrics, data = compiled.train({inp: x}, {out: y}, num_epochs=1,
                                       shuffle=False, callbacks=callbacks)
        return (_weights(compiled, inp_hid), _weights(compiled, hid_out),
                np.array(data["counts"]), data.get("recycled"))


def test_silent_neurons_get_fresh_inputs_and_zero_outputs(backend):
    # a window of the whole epoch: recycled after the last trial only, so
    # until then the run is the plain run
    w_in, w_out, counts, recycled = _train(backend, window=TRIALS)
    plain_in, plain_out, plain_counts, _ = _train(backend)
    np.testing.assert_array_equal(counts, plain_counts)
    silent = np.flatnonzero(counts.sum(axis=0) == 0)
    assert set(SILENCED) <= set(silent) and silent.size < NUM_HIDDEN
    assert recycled == [silent.size]
    fresh = np.random.default_rng(SEED).normal(IN_MEAN, IN_SD,
                                               (NUM_INPUTS, silent.size))
    np.testing.assert_allclose(w_in[:, silent], fresh, rtol=1e-6)
    assert np.all(w_out[silent] == 0.0)
    awake = np.setdiff1d(np.arange(NUM_HIDDEN), silent)
    np.testing.assert_array_equal(w_in[:, awake], plain_in[:, awake])
    np.testing.assert_array_equal(w_out[awake], plain_out[awake])


def test_recycled_neurons_spike_again(backend):
    _, _, plain_counts, _ = _train(backend)
    _, _, counts, recycled = _train(backend, window=4)
    # silenced: no spike in any trial without recycling ...
    assert np.all(plain_counts[:, SILENCED] == 0)
    # ... recycled after the first window, then they spike
    assert np.all(counts[:4, SILENCED] == 0)
    assert np.all(counts[4:, SILENCED].sum(axis=0) > 0), counts[:, SILENCED]
    assert sum(recycled) >= len(SILENCED)


def test_bad_arguments_are_refused():
    network, inp, hid, out, inp_hid, hid_out = _network()
    with pytest.raises(ValueError, match="window"):
        RecycleSilent(hid, [inp_hid], [hid_out], 0)
    with pytest.raises(ValueError, match="does not connect"):
        RecycleSilent(out, [inp_hid], [hid_out], 10)
    with network:
        uniform = Connection(inp, hid, Dense(Uniform(0.0, 1.0)),
                             Exponential(5.0), name="uniform")
    with pytest.raises(ValueError, match="Normal"):
        RecycleSilent(hid, [uniform], [hid_out], 10)


def test_unrecorded_population_is_refused(backend):
    network, inp, hid, out, inp_hid, hid_out = _network()
    hid.record_spikes = False
    x, y = _task()
    compiled = _compile(network, backend, "unrecorded")
    with compiled, pytest.raises(RuntimeError, match="record_spikes"):
        compiled.train({inp: x}, {out: y}, num_epochs=1, callbacks=[
            RecycleSilent(hid, [inp_hid], [hid_out], 4)])
