"""GeNN (CPU backend, batch 1): stored spatial delays.

With ``stored_delays=True`` (the default) PositionTableUpdate and
PositionDelay store every spatial synapse's delay at the start of each
batch; the forward and backward passes read it. The stored delays are the
NumPy delays of the positions, and training follows exactly the path of
delays computed from the distance at every spike (``stored_delays=False``).
"""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.optimisers import Adam
    from ml_genn_spatial import SpatialEventPropCompiler, names
    from ml_genn_spatial.geometry import delay_steps, distance
    from ml_genn_spatial.placement import get_space
    from genn_networks import random_inputs, random_spatial_network
except ImportError:
    if genn_available():
        raise

NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS, DIMENSIONS = 4, 6, 2, 2
TIMESTEPS, MAX_DELAY = 20, 8


def _network(sparse, seed=0):
    return random_spatial_network(NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS,
                                  DIMENSIONS, MAX_DELAY, True, sparse, seed)


def _compiler(stored):
    return SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.01), position_optimiser=Adam(0.05), dt=1.0,
        batch_size=1, stored_delays=stored)


def _synapse_ends(genn_syn, sparse):
    if sparse:
        genn_syn.pull_connectivity_from_device()
        return (np.asarray(genn_syn.get_sparse_pre_inds()),
                np.asarray(genn_syn.get_sparse_post_inds()))
    num_pre, num_post = genn_syn.src.num_neurons, genn_syn.trg.num_neurons
    pre, post = np.meshgrid(np.arange(num_pre), np.arange(num_post),
                            indexing="ij")
    return pre.reshape(-1), post.reshape(-1)


@pytest.mark.parametrize("sparse", [False, True])
def test_stored_delays_are_the_delays_of_the_current_positions(sparse):
    network, inp, hid, out, conns = _network(sparse)
    compiled = _compiler(True).compile(network, name=f"stored{sparse}")
    rng = np.random.default_rng(3)
    with compiled:
        model = compiled.genn_model
        # Positions moved on the host, as Network.load or user code would
        moved = {}
        for pop in (inp, hid):
            genn_pop = compiled.neuron_populations[pop]
            moved[pop] = rng.uniform(-1, 1, (genn_pop.num_neurons,
                                             DIMENSIONS))
            for k in range(DIMENSIONS):
                var = genn_pop.vars[names.position(k)]
                var.values = moved[pop][:, k]
                var.push_to_device()
        model.custom_update(names.POSITION_TABLE_UPDATE)
        model.custom_update(names.POSITION_DELAY)
        for key in ("inp_hid", "hid_hid"):
            conn = conns[key]
            genn_syn = compiled.connection_populations[conn]
            pre, post = _synapse_ends(genn_syn, sparse)
            space = get_space(conn.source())
            expected = delay_steps(
                distance(moved[conn.source()], moved[conn.target()],
                         eps=space.eps, pre_ind=pre, post_ind=post),
                conn.connectivity.resolve_scale(space),
                conn.connectivity.offset, MAX_DELAY)
            var = genn_syn.vars[names.SYNAPSE_DELAY]
            var.pull_from_device()
            assert var.values.dtype == np.uint8
            np.testing.assert_array_equal(var.values, expected)
            # Not all delays alike: the test can tell them apart
            assert len(np.unique(expected)) > 2


@pytest.mark.parametrize("sparse", [False, True])
def test_stored_and_computed_delays_train_alike(sparse):
    rng = np.random.default_rng(4)
    x = random_inputs(6, NUM_INPUTS, TIMESTEPS, 1.0, 0.3, rng)
    y = rng.integers(0, NUM_OUTPUTS, 6)
    trained = {}
    for stored in (True, False):
        network, inp, hid, out, conns = _network(sparse)
        compiled = _compiler(stored).compile(
            network, name=f"alike{sparse}{stored}")
        with compiled:
            hid_x0 = compiled.neuron_populations[hid].vars[names.position(0)]
            before = hid_x0.values.copy()
            compiled.train({inp: x}, {out: y}, num_epochs=2, shuffle=False)
            values = {}
            for label, pop in (("inp", inp), ("hid", hid)):
                genn_pop = compiled.neuron_populations[pop]
                for k in range(DIMENSIONS):
                    var = genn_pop.vars[names.position(k)]
                    var.pull_from_device()
                    values[f"{label} X{k}"] = var.values.copy()
            for key, conn in conns.items():
                var = compiled.connection_populations[conn].vars["g"]
                var.pull_from_device()
                values[key] = var.values.copy()
            trained[stored] = values
            # Training moved the positions: both paths saw new delays
            hid_x0.pull_from_device()
            assert not np.allclose(hid_x0.values, before)
    assert trained[True].keys() == trained[False].keys()
    for key, value in trained[True].items():
        np.testing.assert_allclose(value, trained[False][key], rtol=1e-5,
                                   atol=1e-6, err_msg=key)
