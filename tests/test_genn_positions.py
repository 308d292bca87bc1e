"""GeNN: where the positions live on the device.

A placed population's positions are its neuron variables X<k>, stored once
(never per delay slot). A synapse group reads them directly unless the
population has delay slots (under EventProp: every target of a spatial
connection); then it keeps a copy, which PositionSync keeps equal to X<k>
while training moves the positions.
"""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.optimisers import Adam
    from ml_genn_spatial import (SpatialEventPropCompiler,
                                 SpatialInferenceCompiler, names)
    from genn_networks import random_inputs, random_spatial_network
except ImportError:
    if genn_available():
        raise

NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS, DIMENSIONS = 4, 6, 2, 2
TIMESTEPS, MAX_DELAY = 20, 8


def _network(recurrent, sparse, seed=0):
    return random_spatial_network(NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS,
                                  DIMENSIONS, MAX_DELAY, recurrent, sparse, seed)


def _copies(group, side):
    prefix = names.POSITION_PRE if side == "pre" else names.POSITION_POST
    variables = group.pre_vars if side == "pre" else group.post_vars
    return sorted(name for name in variables if name.startswith(prefix))


@pytest.mark.batch_dependent
@pytest.mark.parametrize("stored", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("recurrent", [False, True])
def test_training_keeps_one_position_array_and_copies_only_for_delay_slots(
        recurrent, sparse, stored, backend, batch_size):
    """Positions are read directly where GeNN keeps no delay slots and
    copied where it does; with stored delays the spatial groups read no
    positions (only the mirrors do)."""
    network, inp, hid, out, conns = _network(recurrent, sparse)
    compiled = SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.01), position_optimiser=Adam(0.05), dt=1.0,
        batch_size=batch_size, backend=backend,
        stored_delays=stored).compile(
            network, name=f"where{recurrent}{sparse}{stored}")
    copy = [names.position_pre(k) for k in range(DIMENSIONS)]
    copy_post = [names.position_post(k) for k in range(DIMENSIONS)]
    with compiled:
        model = compiled.genn_model
        for pop in (inp, hid):
            x0 = compiled.neuron_populations[pop].vars[names.position(0)]
            # One value per neuron: no delay-slot copies of the positions
            assert x0.view.shape == (int(np.prod(pop.shape)),)
        inp_hid = compiled.connection_populations[conns["inp_hid"]]
        mirror = model.synapse_populations[names.mirror(
            conns["inp_hid"].name)]
        # A dense connection's mirror runs target -> source, a sparse
        # one's source -> target
        inp_end, hid_end = ("pre", "post") if sparse else ("post", "pre")
        hid_copy = copy_post if sparse else copy
        # The input has no delay slots: read directly at both ends
        assert _copies(inp_hid, "pre") == []
        assert _copies(mirror, inp_end) == []
        # The hidden population has delay slots: copies
        assert _copies(inp_hid, "post") == ([] if stored else copy_post)
        assert _copies(mirror, hid_end) == hid_copy
        expected_syncs = 1 if stored else 2
        if recurrent:
            hid_hid = compiled.connection_populations[conns["hid_hid"]]
            rec_mirror = model.synapse_populations[names.mirror(
                conns["hid_hid"].name)]
            assert _copies(hid_hid, "pre") == ([] if stored else copy)
            assert _copies(hid_hid, "post") == ([] if stored else copy_post)
            assert _copies(rec_mirror, "pre") == copy
            assert _copies(rec_mirror, "post") == copy_post
            expected_syncs += 2 if stored else 4
        syncs = [cu for cu in model.custom_updates.values()
                 if cu.update_group_name == names.POSITION_SYNC]
        assert len(syncs) == expected_syncs


@pytest.mark.batch_dependent(size=4)
def test_copies_follow_the_positions_during_training(backend, batch_size):
    # Delays computed per spike: the spatial groups keep copies too
    network, inp, hid, out, conns = _network(recurrent=True, sparse=False)
    compiled = SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.01), position_optimiser=Adam(0.05), dt=1.0,
        batch_size=batch_size, backend=backend,
        stored_delays=False).compile(network, name="follow")
    rng = np.random.default_rng(4)
    # Six batches an epoch: the position optimiser runs from batch 2 on
    num_trials = 6 * batch_size
    x = random_inputs(num_trials, NUM_INPUTS, TIMESTEPS, 1.0, 0.3, rng)
    y = rng.integers(0, NUM_OUTPUTS, num_trials)
    with compiled:
        hid_pop = compiled.neuron_populations[hid]
        before = hid_pop.vars[names.position(0)].values.copy()
        compiled.train({inp: x}, {out: y}, num_epochs=2, shuffle=False)
        groups = [
            (compiled.connection_populations[conns["inp_hid"]], "post"),
            (compiled.connection_populations[conns["hid_hid"]], "pre"),
            (compiled.connection_populations[conns["hid_hid"]], "post")]
        groups += [(compiled.genn_model.synapse_populations[
            names.mirror(c.name)], "pre") for c in conns.values()
            if c.name != conns["hid_out"].name]
        for k in range(DIMENSIONS):
            var = hid_pop.vars[names.position(k)]
            var.pull_from_device()
            for group, side in groups:
                name = (names.position_pre(k) if side == "pre"
                        else names.position_post(k))
                copy = (group.pre_vars if side == "pre"
                        else group.post_vars)[name]
                copy.pull_from_device()
                np.testing.assert_array_equal(copy.values, var.values)
        # The positions did move, so the copies were refreshed
        assert not np.array_equal(hid_pop.vars[names.position(0)].values,
                                  before)


def test_inference_reads_every_position_directly(backend, batch_size):
    network, inp, hid, out, conns = _network(recurrent=True, sparse=False)
    compiled = SpatialInferenceCompiler(
        evaluate_timesteps=TIMESTEPS, dt=1.0, batch_size=batch_size,
        backend=backend).compile(network, name="inference_positions")
    with compiled:
        for key in ("inp_hid", "hid_hid"):
            group = compiled.connection_populations[conns[key]]
            assert _copies(group, "pre") == [] == _copies(group, "post")
        for pop in (inp, hid):
            x0 = compiled.neuron_populations[pop].vars[names.position(0)]
            assert x0.view.shape == (int(np.prod(pop.shape)),)
