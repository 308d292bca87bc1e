"""GeNN (CPU backend, batch 1) against the NumPy reference: the spatial
EventProp compiler's weight and position gradients equal those of
:mod:`ml_genn_spatial.reference` on small random networks."""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available
import ml_genn_spatial.reference as R

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn_spatial import SpatialEventPropCompiler
    from genn_networks import (Capture, FrozenOptimiser, build_network,
                               dense_values, gather_targets, gathered,
                               gradient_target, random_inputs)
except ImportError:
    if genn_available():
        raise



# tau_refrac [ms]: 160 outlasts the 80-step trial (single-spike neurons,
# held at 0 after their spike); 6 lets them spike again. Both change the
# hidden spikes: without it, seed 4 has neurons spiking twice, seed 5 three
# times
@pytest.mark.batch_dependent
@pytest.mark.parametrize("dimensions, recurrent, sparse, seed, tau_refrac",
                         [(2, False, False, 0, None), (3, True, False, 1, None),
                          (2, True, True, 3, None), (2, True, False, 4, 160.0),
                          (3, False, False, 5, 6.0)])
def test_gradients_equal_numpy_reference(dimensions, recurrent, sparse,
                                         seed, tau_refrac, backend,
                                         batch_size):
    num_inputs, num_hidden, num_outputs = 4, 7, 3
    timesteps, max_delay, scale = 80, 12, 4.0
    rng = np.random.default_rng(seed)
    positions = {"inp": rng.uniform(-1, 1, (num_inputs, dimensions)),
                 "hid": rng.uniform(-1, 1, (num_hidden, dimensions))}
    weights = {"inp_hid": rng.normal(1.0, 0.5, (num_inputs, num_hidden)),
               "hid_hid": rng.normal(0.0, 0.3, (num_hidden, num_hidden)),
               "hid_out": rng.normal(0.5, 0.5, (num_hidden, num_outputs))}
    masks = ({key: rng.random(weights[key].shape) < 0.6
              for key in ("inp_hid", "hid_hid")} if sparse else None)
    # Three batches: batch 0's gradients are read after its backward pass
    # (batch 1) and, for positions, as the optimiser gets them (end of
    # batch 2)
    inputs = random_inputs(3 * batch_size, num_inputs, timesteps, 1.0, 0.1,
                           rng)
    labels = np.resize([1, 0, 2], 3 * batch_size)

    # GeNN
    network, inp, hid, out, conns = build_network(
        num_inputs, num_hidden, num_outputs, positions, weights, True,
        recurrent, max_delay, scale, dimensions, masks=masks,
        tau_refrac=tau_refrac)
    compiled = SpatialEventPropCompiler(
        example_timesteps=timesteps, losses=SparseCategoricalCrossentropy(),
        optimiser=FrozenOptimiser(), position_optimiser=FrozenOptimiser(),
        dt=1.0, batch_size=batch_size, backend=backend).compile(
            network, name=f"ref{seed}")
    with compiled:
        weight_capture = Capture(
            {key: gradient_target(compiled, conn, "Gradient", batch_size)
             for key, conn in conns.items()}, batch=1)
        position_capture = Capture(
            gather_targets(compiled, {"inp": inp, "hid": hid}, dimensions),
            batch=2)
        compiled.train({inp: inputs}, {out: labels}, num_epochs=1,
                       shuffle=False,
                       callbacks=[weight_capture, position_capture])
        genn_weight = {
            key: dense_values(compiled.connection_populations[conn],
                              weight_capture.values[key],
                              int(np.prod(conn.source().shape)),
                              int(np.prod(conn.target().shape)))
            for key, conn in conns.items()}
    genn_position = gathered(position_capture.values, ("inp", "hid"),
                             dimensions)

    # NumPy reference of the same network and batch
    r_inp = R.Population(R.SpikeInput(), num_inputs, "inp", positions["inp"])
    r_hid = R.Population(R.LeakyIntegrateFire(1.0, 0.0, 20.0, tau_refrac),
                         num_hidden, "hid", positions["hid"])
    r_out = R.Population(R.LeakyIntegrate(20.0, readout="sum_var"),
                         num_outputs, "out")
    delay = R.SpatialDelay(scale, max_delay)
    keys = ["inp_hid"] + (["hid_hid"] if recurrent else [])
    r_conns = [R.Connection(src, r_hid, weights[key], 5.0, delay=delay,
                            mask=None if masks is None else masks[key],
                            name=key)
               for key, src in zip(keys, (r_inp, r_hid))]
    r_conns.append(R.Connection(r_hid, r_out, weights["hid_out"], 5.0,
                                name="hid_out"))
    reference = R.EventProp(timesteps, dt=1.0, dtype=np.float32).run(
        R.Network([r_inp, r_hid, r_out], r_conns),
        [(trial.spike_times, np.repeat(
            np.arange(num_inputs), np.diff(np.concatenate(
                [[0], trial.end_spikes]))))
         for trial in inputs[:batch_size]],
        labels[:batch_size])

    hidden_spikes = reference.record.spike_count["hid"]
    if tau_refrac == 160.0:
        assert hidden_spikes.max() == 1
    elif tau_refrac is not None:  # a case where refractoriness shows
        assert hidden_spikes.max() >= 2
    for key in conns:
        expected = reference.gradients.weight[key]
        assert np.abs(expected).max() > 0.0, key
        np.testing.assert_allclose(genn_weight[key], expected, rtol=1e-3,
                                   atol=1e-4 * np.abs(expected).max())
    for name in ("inp", "hid"):
        expected = reference.gradients.position[name]
        assert np.abs(expected).max() > 0.0, name
        np.testing.assert_allclose(genn_position[name], expected, rtol=1e-3,
                                   atol=1e-4 * np.abs(expected).max())
