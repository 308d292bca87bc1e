"""GeNN (CPU backend, batch 1) tests of spatial connections.

Each test builds the smallest network that shows one behaviour and checks it
against an independent computation: mlGeNN's own per-synapse delay learning
(``EventPropCompiler(delay_learn_conns=...)``) with delays set from the same
distances by NumPy, pushed through the chain rule of
:mod:`ml_genn_spatial.gradients`.
"""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn import Connection, Network, Population
    from ml_genn.callbacks import VarRecorder
    from ml_genn.compilers import EventPropCompiler, InferenceCompiler
    from ml_genn.connectivity import Dense
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.neurons import LeakyIntegrate, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn.utils.data import preprocess_spikes
    from ml_genn_spatial import (Space, SpatialConnection, SpatialDense,
                                 SpatialEventPropCompiler,
                                 SpatialInferenceCompiler, place)
    from ml_genn_spatial import names as spatial_names
    from ml_genn_spatial.geometry import delay_steps, distance
    from ml_genn_spatial.gradients import (position_gradients,
                                           wiring_cost_gradients)
    from genn_networks import (Capture, FrozenOptimiser, build_network,
                               dense_values, gather_targets, gathered,
                               gradient_target, mirror_values,
                               random_inputs)
except ImportError:
    # tests/conftest.py skips every test marked genn; with GeNN present an
    # import error is a real failure
    if genn_available():
        raise



def test_spike_arrival_time_is_spike_time_plus_distance_delay(backend,
                                                               batch_size):
    """One input neuron spikes; each postsynaptic leaky integrator's voltage
    leaves zero exactly when mlGeNN's Dense(delay=d) delivers the same
    spike, with d computed by NumPy from the positions."""
    dimensions, num_post, max_delay, scale = 3, 6, 20, 7.0
    rng = np.random.default_rng(3)
    pre_positions = rng.uniform(-1, 1, (1, dimensions))
    post_positions = rng.uniform(-1, 1, (num_post, dimensions))
    delays = delay_steps(distance(pre_positions, post_positions), scale,
                         0.0, max_delay)
    assert len(np.unique(delays)) > 2, "test needs distinct delays"
    spike_step = 4
    timesteps = spike_step + max_delay + 6

    def onset_steps(spatial):
        network = Network()
        with network:
            inp = Population(SpikeInput(max_spikes=10), 1)
            out = Population(LeakyIntegrate(tau_mem=10.0, readout="var"),
                             num_post, record_spikes=False)
            if spatial:
                space = Space(dimensions)
                place(inp, space, pre_positions)
                place(out, space, post_positions)
                SpatialConnection(inp, out, SpatialDense(1.0, max_delay,
                                                         scale=scale),
                                  Exponential(2.0))
            else:
                Connection(inp, out, Dense(1.0, delays.astype(float)),
                           Exponential(2.0), max_delay_steps=max_delay)
        compiler = (SpatialInferenceCompiler if spatial
                    else InferenceCompiler)(evaluate_timesteps=timesteps,
                                            dt=1.0, batch_size=batch_size,
                                            backend=backend)
        compiled = compiler.compile(network, name=f"arrival{int(spatial)}")
        with compiled:
            recorder = VarRecorder(out, "v", key="v")
            spikes = preprocess_spikes(np.array([spike_step * 1.0]),
                                       np.array([0]), 1)
            _, data = compiled.evaluate({inp: [spikes]},
                                        {out: np.zeros((1, timesteps, num_post))},
                                        callbacks=[recorder])
        v = np.asarray(data["v"][0])
        return np.argmax(np.abs(v) > 0.0, axis=0)

    spatial_onset = onset_steps(True)
    dense_onset = onset_steps(False)
    np.testing.assert_array_equal(spatial_onset, dense_onset)
    # and the arrival follows the delay one for one
    np.testing.assert_array_equal(spatial_onset - delays[0],
                                  np.full(num_post, spatial_onset[0]
                                          - delays[0, 0]))


def _gradients(spatial, dimensions, recurrent, positions, weights, delays,
               masks, inputs, labels, max_delay, scale, timesteps,
               wiring_cost=0.0, backend="single_threaded_cpu",
               batch_size=1):
    network, inp, hid, out, conns = build_network(
        inputs[0].end_spikes.shape[0], positions["hid"].shape[0],
        weights["hid_out"].shape[1], positions, weights, spatial, recurrent,
        max_delay, scale, dimensions, delays, masks, wiring_cost)
    kwargs = dict(example_timesteps=timesteps,
                  losses=SparseCategoricalCrossentropy(),
                  optimiser=FrozenOptimiser(), dt=1.0,
                  batch_size=batch_size, backend=backend)
    if spatial:
        compiler = SpatialEventPropCompiler(
            position_optimiser=FrozenOptimiser(), **kwargs)
    else:
        compiler = EventPropCompiler(
            delay_learn_conns=[c for k, c in conns.items() if k != "hid_out"],
            delay_optimiser=FrozenOptimiser(), **kwargs)
    name = (f"grad{int(spatial)}{dimensions}{int(recurrent)}"
            f"{int(masks is not None)}{int(wiring_cost > 0)}")
    compiled = compiler.compile(network, name=name)
    with compiled:
        targets = {}
        for key, conn in conns.items():
            targets[f"{key}_weight"] = gradient_target(
                compiled, conn, "Gradient", batch_size)
            if key != "hid_out" and spatial:
                # Batch-summed, transposed into the mirror at batch end
                mirror = compiled.genn_model.synapse_populations[
                    spatial_names.mirror(conn.name)]
                targets[f"{key}_delay"] = (
                    mirror, spatial_names.DELAY_GRADIENT_T)
            elif key != "hid_out":
                targets[f"{key}_delay"] = gradient_target(
                    compiled, conn, "DelayGradient", batch_size)
        # The backward pass of (the trials of) batch 0 runs during batch 1
        callbacks = [Capture(targets, batch=1)]
        if spatial:
            # ... and its position gradient, scattered in batch 2, is what
            # the (frozen) position optimiser gets at the end of batch 2
            callbacks.append(Capture(
                gather_targets(compiled, {"inp": inp, "hid": hid},
                               dimensions), batch=2))
        compiled.train({inp: inputs}, {out: labels}, num_epochs=1,
                       shuffle=False, callbacks=callbacks)
        # Dense (num_pre, num_post) matrices, zero where there is no synapse
        values = callbacks[0].values
        for key, conn in conns.items():
            num_pre = int(np.prod(conn.source().shape))
            num_post = int(np.prod(conn.target().shape))
            genn_conn = compiled.connection_populations[conn]
            names = ([f"{key}_weight"] if spatial or key == "hid_out"
                     else [f"{key}_weight", f"{key}_delay"])
            for name in names:
                values[name] = dense_values(genn_conn, values[name],
                                            num_pre, num_post)
            if spatial and key != "hid_out":
                values[f"{key}_delay"] = mirror_values(
                    compiled, conn, values[f"{key}_delay"])
    if spatial:
        values.update({f"{name}_position": value for name, value in
                       gathered(callbacks[1].values, ("inp", "hid"),
                                dimensions).items()})
    return values


def _problem(dimensions, sparse, seed, batch_size=1):
    num_inputs, num_hidden, num_outputs = 5, 8, 3
    timesteps, max_delay, scale = 80, 12, 4.0
    rng = np.random.default_rng(seed)
    positions = {"inp": rng.uniform(-1, 1, (num_inputs, dimensions)),
                 "hid": rng.uniform(-1, 1, (num_hidden, dimensions))}
    weights = {"inp_hid": rng.normal(1.0, 0.5, (num_inputs, num_hidden)),
               "hid_hid": rng.normal(0.0, 0.3, (num_hidden, num_hidden)),
               "hid_out": rng.normal(0.5, 0.5, (num_hidden, num_outputs))}
    delays = {key: delay_steps(distance(positions[a], positions[b]), scale,
                               0.0, max_delay).astype(float)
              for key, a, b in (("inp_hid", "inp", "hid"),
                                ("hid_hid", "hid", "hid"))}
    masks = ({key: rng.random(weights[key].shape) < 0.6
              for key in ("inp_hid", "hid_hid")} if sparse else None)
    # three batches: gradients of batch 0, read in batches 1 and 2
    inputs = random_inputs(3 * batch_size, num_inputs, timesteps, 1.0, 0.1,
                           rng)
    labels = np.arange(3 * batch_size) % 3
    return (positions, weights, delays, masks, inputs, labels, max_delay,
            scale, timesteps)


@pytest.mark.batch_dependent
@pytest.mark.parametrize("sparse", [False, True])
def test_wiring_cost_gradients_equal_numpy(sparse, backend, batch_size):
    """With frozen weights and positions, switching the wiring cost on adds
    exactly its gradient: to the weight gradient at the end of batch 1 and,
    scattered in batch 2, to the position gradients."""
    dimensions, strength = 2, 0.05
    problem = _problem(dimensions, sparse, seed=21, batch_size=batch_size)
    positions, weights, masks = problem[0], problem[1], problem[3]
    without = _gradients(True, dimensions, True, *problem, backend=backend,
                         batch_size=batch_size)
    with_cost = _gradients(True, dimensions, True, *problem,
                           wiring_cost=strength, backend=backend,
                           batch_size=batch_size)

    expected_position = {"inp": 0.0, "hid": 0.0}
    for key, pre, post in (("inp_hid", "inp", "hid"),
                           ("hid_hid", "hid", "hid")):
        w = weights[key] * (masks[key] if sparse else 1.0)
        d_pre, d_post, d_weight = wiring_cost_gradients(
            w, positions[pre], positions[post], strength)
        expected_position[pre] = expected_position[pre] + d_pre
        expected_position[post] = expected_position[post] + d_post
        got = with_cost[f"{key}_weight"] - without[f"{key}_weight"]
        np.testing.assert_allclose(got, d_weight * (w != 0.0), rtol=1e-3,
                                   atol=1e-6)
    for name in ("inp", "hid"):
        assert np.abs(expected_position[name]).max() > 0.0
        got = (with_cost[f"{name}_position"]
               - without[f"{name}_position"])
        np.testing.assert_allclose(got, expected_position[name],
                                   rtol=1e-3, atol=1e-6)


@pytest.mark.batch_dependent
@pytest.mark.parametrize("dimensions, recurrent, sparse",
                         [(1, False, False), (2, True, False),
                          (3, True, False), (1, True, True),
                          (2, False, True), (3, True, True),
                          (8, True, True)])
def test_position_gradients_equal_chain_rule_of_mlgenn_delay_gradient(
        dimensions, recurrent, sparse, backend, batch_size):
    problem = _problem(dimensions, sparse, seed=10 + dimensions,
                       batch_size=batch_size)
    positions, scale, max_delay = problem[0], problem[7], problem[6]
    args = (dimensions, recurrent) + problem
    reference = _gradients(False, *args, backend=backend,
                           batch_size=batch_size)
    spatial = _gradients(True, *args, backend=backend,
                         batch_size=batch_size)

    # The synapse-level gradients are mlGeNN's own, number for number
    for key, value in reference.items():
        assert np.abs(value).max() > 0.0, f"{key}: no gradient reached it"
        np.testing.assert_allclose(spatial[key], value, rtol=1e-5,
                                   atol=1e-7 * np.abs(value).max())

    # Device-side position gradients equal the chain rule of mlGeNN's
    # per-synapse DelayGradient, summed over every connection of a neuron
    # (DelayGradient is per ms of delay; these networks run at dt = 1 ms)
    inp_pre, hid_post = position_gradients(
        reference["inp_hid_delay"],
        positions["inp"], positions["hid"], scale,
        max_delay_steps=max_delay)
    expected_hid = hid_post
    if recurrent:
        rec_pre, rec_post = position_gradients(
            reference["hid_hid_delay"],
            positions["hid"], positions["hid"], scale,
            max_delay_steps=max_delay)
        expected_hid = expected_hid + rec_pre + rec_post
    for got, expected in ((spatial["inp_position"], inp_pre),
                          (spatial["hid_position"], expected_hid)):
        assert np.abs(expected).max() > 0.0
        np.testing.assert_allclose(got, expected, rtol=1e-4,
                                   atol=1e-5 * np.abs(expected).max())
