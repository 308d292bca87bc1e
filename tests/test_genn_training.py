"""GeNN (CPU backend, batch 1): training on Yin-Yang moves positions and lowers the
loss; checkpoints round-trip; user errors are raised early."""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn import Connection, Network, Population
    from ml_genn.callbacks import Callback
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.serialisers import Numpy
    from ml_genn.synapses import Exponential
    from ml_genn.utils.data import preprocess_spikes
    from ml_genn_spatial import names
    from ml_genn_spatial.datasets import encode_latency, yin_yang
    from ml_genn_spatial import (Space, SpatialConnection, SpatialDense,
                                 SpatialEventPropCompiler,
                                 SpatialInferenceCompiler, get_positions, place,
                                 pull_positions, save_layout)
except ImportError:
    # tests/conftest.py skips every test marked genn; with GeNN present an
    # import error is a real failure
    if genn_available():
        raise
    Callback = object  # base of the recorder class below

# Yin-Yang: four latency-coded features and a bias input
NUM_INPUTS, NUM_HIDDEN, NUM_CLASSES, TIMESTEPS = 5, 16, 3, 60



def _task(seed=42, size=12):
    """Yin-Yang examples, latency-coded into [1, 30] ms with a bias spike
    at 1 ms (1 ms timesteps)."""
    features, labels = yin_yang(size, seed)
    times = encode_latency(features, t_early=1.0, t_late=30.0,
                           bias_time=1.0)
    return ([preprocess_spikes(t, np.arange(NUM_INPUTS), NUM_INPUTS)
             for t in times], labels)


def _network(seed=1, space=None):
    rng = np.random.default_rng(seed)
    network = Network(default_params)
    with network:
        # Checkpoints are keyed by name, so a fresh network must reuse them
        inp = Population(SpikeInput(max_spikes=100), NUM_INPUTS, name="inp")
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), NUM_HIDDEN,
                         name="hid")
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"),
                         NUM_CLASSES, name="out")
        space = Space(2, bounds=(-1.0, 1.0), rng=seed) if space is None else space
        place(inp, space)
        place(hid, space)
        SpatialConnection(inp, hid, SpatialDense(
            rng.normal(1.5, 0.5, (NUM_INPUTS, NUM_HIDDEN)), 15),
            Exponential(5.0), name="inp_hid")
        SpatialConnection(hid, hid, SpatialDense(
            rng.normal(0.0, 0.2, (NUM_HIDDEN, NUM_HIDDEN)), 15),
            Exponential(5.0), name="hid_hid")
        Connection(hid, out, Dense(
            rng.normal(0.3, 0.3, (NUM_HIDDEN, NUM_CLASSES))),
            Exponential(5.0), name="hid_out")
    return network, inp, hid, out


class LossRecorder(Callback):
    """Softmax cross-entropy of the summed-voltage readout, per trial."""

    def __init__(self, out, labels):
        self.out, self.labels, self.losses = out, labels, []
        self._batch = 0

    def set_params(self, compiled_network, **kwargs):
        self.compiled = compiled_network

    def on_batch_end(self, batch, metrics):
        # one row per trial of the batch
        for readout in self.compiled.get_readout([self.out])[0]:
            logits = readout - readout.max()
            label = self.labels[len(self.losses) % len(self.labels)]
            self.losses.append(np.log(np.exp(logits).sum()) - logits[label])


def _compiler(batch_size=1, **kwargs):
    return SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.003), position_optimiser=Adam(0.003), dt=1.0,
        batch_size=batch_size, **kwargs)


# Batch 4 on CUDA, with 4 times the examples: as many optimiser steps as at
# batch 1, and a batch's 20 input spikes within SpikeInput's 100
@pytest.mark.batch_dependent(size=4)
def test_training_lowers_loss_moves_positions_and_checkpoint_round_trips(
        tmp_path, backend, batch_size):
    x, y = _task(size=30 * batch_size)
    network, inp, hid, out = _network()
    initial = {p: get_positions(p) for p in (inp, hid)}
    compiled = _compiler(batch_size, backend=backend).compile(network,
                                                              name="train")
    serialiser = Numpy(str(tmp_path / "checkpoints"))
    epochs = 10
    with compiled:
        recorder = LossRecorder(out, y)
        compiled.train({inp: x}, {out: y}, num_epochs=epochs, shuffle=False,
                       callbacks=[recorder])
        compiled.save(("final",), serialiser)
        pull_positions(compiled)
        pulled = {p: get_positions(p) for p in (inp, hid)}
    trained = {p: np.stack([serialiser.deserialise(("final", p,
                                                    names.position(k)))
                            for k in range(2)], axis=1) for p in (inp, hid)}

    losses = np.array(recorder.losses).reshape(epochs, -1).mean(axis=1)
    # the last epochs' loss at least 20 % below the first epochs'
    assert losses[-3:].mean() < 0.8 * losses[:3].mean(), losses
    for pop in (inp, hid):
        np.testing.assert_array_equal(pulled[pop], trained[pop])
        moved = np.abs(trained[pop] - initial[pop]).max()
        assert moved > 1e-3, f"positions of {pop.name} did not move"
        assert np.all(np.abs(trained[pop]) <= 1.0 + 1e-6), "left the box"

    # mlGeNN's loading path restores the positions into a fresh network...
    fresh, f_inp, f_hid, f_out = _network(seed=99)
    fresh.load(("final",), serialiser)
    for pop, pop_fresh in ((inp, f_inp), (hid, f_hid)):
        np.testing.assert_array_equal(get_positions(pop_fresh),
                                      trained[pop].astype(np.float64))

    # ... and inference on the loaded network equals inference on the
    # trained one loaded the same way
    def evaluate(net, i, o, name):
        compiled_inf = SpatialInferenceCompiler(
            evaluate_timesteps=TIMESTEPS, dt=1.0, batch_size=batch_size,
            backend=backend).compile(net, name=name)
        with compiled_inf:
            readouts = compiled_inf.predict({i: x[:NUM_CLASSES]}, [o],
                                            callbacks=[])[0][o]
        return np.array(readouts)

    network.load(("final",), serialiser)
    np.testing.assert_array_equal(evaluate(network, inp, out, "infa"),
                                  evaluate(fresh, f_inp, f_out, "infb"))

    # The exported layout: loaded positions and the delays they imply
    exported = save_layout(fresh, str(tmp_path / "layout.npz"))
    np.testing.assert_array_equal(exported["populations"]["hid"],
                                  trained[hid])
    rec = exported["connections"]["hid_hid"]
    assert rec["delay"].shape == (NUM_HIDDEN, NUM_HIDDEN)
    # checkpoints hold dense weights flat; the layout gives them as matrices
    assert rec["weight"].shape == rec["distance"].shape
    assert rec["delay"].min() >= 0 and rec["delay"].max() <= 15
    with np.load(tmp_path / "layout.npz") as saved:
        np.testing.assert_array_equal(saved["hid_hid/delay"], rec["delay"])


def test_spatial_connection_needs_placed_populations():
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 3)
        hid = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 2)
        place(inp, Space(2))
        with pytest.raises(ValueError, match="not placed in a space"):
            SpatialConnection(inp, hid, SpatialDense(1.0, 10, scale=1.0),
                              Exponential(5.0))


def test_spatial_connection_needs_one_space():
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 3)
        hid = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 2)
        place(inp, Space(2))
        place(hid, Space(2))
        with pytest.raises(ValueError, match="different spaces"):
            SpatialConnection(inp, hid, SpatialDense(1.0, 10, scale=1.0),
                              Exponential(5.0))


@pytest.mark.parametrize("compiler", ["event_prop", "inference"])
def test_a_plain_connection_with_spatial_connectivity_is_refused(compiler):
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 3)
        hid = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 2)
        space = Space(2)
        place(inp, space)
        place(hid, space)
        Connection(inp, hid, SpatialDense(1.0, 10, scale=1.0),
                   Exponential(5.0), name="plain")
    compiler = (_compiler() if compiler == "event_prop"
                else SpatialInferenceCompiler(evaluate_timesteps=TIMESTEPS,
                                              dt=1.0, batch_size=1))
    with pytest.raises(TypeError, match="plain.*SpatialConnection"):
        compiler.compile(network, name="plain")


def test_batch_above_one_is_refused_on_the_cpu_backend():
    network, *_ = _network()
    compiler = SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        dt=1.0, batch_size=4, backend="single_threaded_cpu")
    with pytest.raises(ValueError, match="batch size 1 only"):
        compiler.compile(network, name="batch4")


def test_trials_too_short_for_the_scatter_are_refused():
    """The position gradients of a D-dimensional space arrive in timesteps
    1 ... D: a trial needs D + 1 timesteps (the network here is 2-D)."""
    network, *_ = _network()
    kwargs = dict(losses=SparseCategoricalCrossentropy(), dt=1.0,
                  batch_size=1, backend="single_threaded_cpu")
    with pytest.raises(ValueError, match="needs at least 3"):
        SpatialEventPropCompiler(example_timesteps=2, **kwargs).compile(
            network, name="short2")
    SpatialEventPropCompiler(example_timesteps=3, **kwargs).compile(
        network, name="short3")


def test_tau_mem_equal_to_the_synapses_tau_is_refused():
    """EventProp's adjoint divides by tau_syn - tau_mem: mlGeNN itself
    fails with ZeroDivisionError; the spatial compiler names the
    connection, spatial (inp_hid) or plain mlGeNN (hid_out)."""
    network, _, hid, out = _network()
    hid.neuron.tau_mem = 5.0
    kwargs = dict(example_timesteps=TIMESTEPS, dt=1.0, batch_size=1,
                  losses=SparseCategoricalCrossentropy(),
                  backend="single_threaded_cpu")
    with pytest.raises(ValueError, match="inp_hid: the target's tau_mem"):
        SpatialEventPropCompiler(**kwargs).compile(network, name="tau5")
    hid.neuron.tau_mem = 20.0
    out.neuron.tau_mem = 5.0
    with pytest.raises(ValueError, match="hid_out: the target's tau_mem"):
        SpatialEventPropCompiler(**kwargs).compile(network, name="tau5")


def test_max_delay_beyond_genn_and_wrong_positions_are_refused():
    with pytest.raises(ValueError, match="GeNN can hold"):
        SpatialDense(1.0, 70000, scale=1.0)
    network = Network(default_params)
    with network:
        pop = Population(SpikeInput(max_spikes=10), 3)
    with pytest.raises(ValueError):
        place(pop, Space(2), np.zeros((3, 3)))


class ReadoutGrab(Callback):
    """Readout of every (batch size 1) validation example."""

    def __init__(self, out):
        self.out, self.readouts = out, []

    def set_params(self, compiled_network, **kwargs):
        self.compiled = compiled_network

    def on_batch_end(self, batch, metrics):
        self.readouts.append(
            self.compiled.get_readout([self.out])[0][0].copy())


def test_inference_evaluates_as_the_training_network(tmp_path, backend,
                                                     batch_size):
    """Example after example, SpatialInferenceCompiler gives the readouts
    that the EventProp network itself gives in validation: no synaptic
    input or delayed spike leaks from one example into the next."""
    x, y = _task(size=6)
    network, inp, hid, out = _network()
    compiled = _compiler(batch_size, backend=backend).compile(network,
                                                              name="valid")
    serialiser = Numpy(str(tmp_path / "checkpoints"))
    grab = ReadoutGrab(out)
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=2, shuffle=False,
                       callbacks=[], validation_x={inp: x},
                       validation_y={out: y}, validation_callbacks=[grab])
        compiled.save(("final",), serialiser)
    # the validation after the last epoch used the final weights/positions
    validation = np.array(grab.readouts[-len(x):])
    network.load(("final",), serialiser)
    inference = SpatialInferenceCompiler(
        evaluate_timesteps=TIMESTEPS, dt=1.0, batch_size=batch_size,
        backend=backend).compile(network, name="validinf")
    with inference:
        predicted = inference.predict({inp: x}, [out], callbacks=[])[0][out]
    assert np.ptp(validation) > 0.0
    np.testing.assert_allclose(predicted, validation, rtol=1e-5, atol=1e-5)
