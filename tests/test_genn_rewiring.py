"""GeNN (CPU backend, batch 1): DEEP R on spatial connections."""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn import Connection, Network, Population
    from ml_genn.callbacks import Callback, VarRecorder
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.serialisers import Numpy
    from ml_genn.synapses import Exponential
    from ml_genn_spatial import (ConnectivityRecord, Space,
                                 SpatialConnection, SpatialDense,
                                 SpatialEventPropCompiler,
                                 SpatialInferenceCompiler, SpatialSparse,
                                 get_positions, place, prune, pull_positions)
    from ml_genn_spatial import names
    from ml_genn_spatial.geometry import delay_steps, distance
    from genn_networks import random_inputs
except ImportError:
    if genn_available():
        raise

NUM_INPUTS, NUM_HIDDEN, NUM_CLASSES, TIMESTEPS, MAX_DELAY = 6, 32, 3, 60, 15



def _network(regrowth_length=None, seed=1, recurrent=None, batch_size=1):
    """inp -> hid (dense), hid -> hid (``recurrent`` connectivity, by
    default sparse), hid -> out, with inp and hid in a 2-D box; the input
    holds 100 spikes per trial of a batch."""
    if recurrent is None:
        recurrent = SpatialSparse(0.2, Normal(0.0, 0.3), MAX_DELAY,
                                  regrowth_length=regrowth_length)
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=100 * batch_size),
                         NUM_INPUTS, name="inp")
        hid = Population(LeakyIntegrateFire(tau_refrac=None), NUM_HIDDEN,
                         name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), NUM_CLASSES,
                         name="out")
        space = Space(2, bounds=(-1.0, 1.0), rng=seed)
        place(inp, space)
        place(hid, space)
        SpatialConnection(inp, hid, SpatialDense(Normal(1.5, 0.5),
                                                 MAX_DELAY),
                          Exponential(5.0), name="inp_hid")
        rec = SpatialConnection(hid, hid, recurrent, Exponential(5.0),
                                name="hid_hid")
        Connection(hid, out, Dense(Normal(0.3, 0.3)), Exponential(5.0),
                   name="hid_out")
    return network, inp, hid, out, rec


# DEEP R at batch N on CUDA (the batch-N oracle's DEEP R part)
@pytest.mark.batch_dependent(sizes=(4, 32))
@pytest.mark.parametrize("regrowth_length", [None, 0.5])
def test_deep_r_keeps_synapse_count_and_regrown_delays_follow_positions(
        tmp_path, regrowth_length, backend, batch_size):
    network, inp, hid, out, rec = _network(regrowth_length,
                                           batch_size=batch_size)
    compiler = SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.01), position_optimiser=Adam(0.01), dt=1.0,
        batch_size=batch_size, backend=backend, deep_r_conns=[rec],
        deep_r_record_rewirings={rec: "rewirings"}, rng_seed=3)
    compiled = compiler.compile(network, name="deepr")
    rng = np.random.default_rng(0)
    x = random_inputs(9 * batch_size, NUM_INPUTS, TIMESTEPS, 1.0, 0.1, rng)
    y = np.arange(9 * batch_size) % NUM_CLASSES
    serialiser = Numpy(str(tmp_path / "checkpoints"))
    with compiled:
        genn_rec = compiled.connection_populations[rec]
        genn_rec.pull_connectivity_from_device()
        before = set(zip(genn_rec.get_sparse_pre_inds(),
                         genn_rec.get_sparse_post_inds()))
        _, data = compiled.train({inp: x}, {out: y}, num_epochs=3,
                                 shuffle=False, callbacks=[])
        genn_rec.pull_connectivity_from_device()
        after = set(zip(genn_rec.get_sparse_pre_inds(),
                        genn_rec.get_sparse_post_inds()))
        compiled.save(("final",), serialiser)
        compiled.save_connectivity(("final",), serialiser)
        pull_positions(compiled)
        trained_positions = get_positions(hid)

    assert len(after) == len(before), "rewiring changed the synapse count"
    assert sum(int(r[0]) for r in data["rewirings"]) > 0
    assert len(after - before) > 0, "no synapse was regrown"

    # A fresh network restores connectivity and positions from the
    # checkpoint ...
    fresh, f_inp, f_hid, f_out, f_rec = _network(seed=7)
    fresh.load(("final",), serialiser)
    assert set(zip(f_rec.connectivity.pre_ind,
                   f_rec.connectivity.post_ind)) == after
    np.testing.assert_array_equal(get_positions(f_hid), trained_positions)

    # ... and its spatial delays, regrown synapses included, act exactly as
    # mlGeNN's explicit per-synapse delays computed by NumPy
    pre_ind = np.asarray(f_rec.connectivity.pre_ind)
    post_ind = np.asarray(f_rec.connectivity.post_ind)
    weights = np.asarray(f_rec.connectivity.weight)
    delays = delay_steps(distance(trained_positions, trained_positions,
                                  pre_ind=pre_ind, post_ind=post_ind),
                         MAX_DELAY / np.sqrt(8.0), 0.0, MAX_DELAY)
    recorded = {}
    for spatial in (True, False):
        net = Network(default_params)
        with net:
            h = Population(LeakyIntegrate(tau_mem=20.0, readout="var"),
                           NUM_HIDDEN, name="h")
            src = Population(SpikeInput(max_spikes=2000), NUM_HIDDEN,
                             name="src")
            if spatial:
                space = Space(2, bounds=(-1.0, 1.0))
                place(src, space, trained_positions)
                place(h, space, trained_positions)
                SpatialConnection(src, h, SpatialSparse(
                    1.0, weights, MAX_DELAY, allow_self_connections=True,
                    pre_ind=pre_ind, post_ind=post_ind), Exponential(5.0))
            else:
                sparse = FixedProbability(1.0, weights,
                                          allow_self_connections=True,
                                          delay=delays.astype(float))
                sparse.pre_ind, sparse.post_ind = pre_ind, post_ind
                Connection(src, h, sparse, Exponential(5.0),
                           max_delay_steps=MAX_DELAY)
        # Same compiler for both, so resets between and within examples
        # are the same; only the delays' origin differs
        compiled_inf = SpatialInferenceCompiler(
            evaluate_timesteps=TIMESTEPS, dt=1.0, batch_size=1,
            backend=backend).compile(net, name=f"check{int(spatial)}")
        with compiled_inf:
            spikes = random_inputs(1, NUM_HIDDEN, TIMESTEPS, 1.0, 0.1,
                                   np.random.default_rng(5))
            _, cb = compiled_inf.evaluate(
                {src: spikes}, {h: np.zeros((1, TIMESTEPS, NUM_HIDDEN))},
                callbacks=[VarRecorder(h, "v", key="v")])
        recorded[spatial] = np.asarray(cb["v"][0])
    assert np.abs(recorded[False]).max() > 0.0
    np.testing.assert_allclose(recorded[True], recorded[False], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.batch_dependent
def test_distance_aware_regrowth_prefers_near_targets(backend, batch_size):
    """100 sources at the origin, 400 targets on four shells; 4 regrowths
    per source. The shells' shares of the new synapses must match
    exp(-d / regrowth_length) (chi-square, fixed seed) and not a uniform
    draw."""
    radii = np.array([0.2, 0.6, 1.0, 1.4])
    per_shell, num_sources, per_row, length = 100, 100, 4, 0.5
    angles = np.random.default_rng(2).uniform(0, 2 * np.pi,
                                              per_shell * len(radii))
    shell = np.repeat(np.arange(len(radii)), per_shell)
    targets = np.stack([radii[shell] * np.cos(angles),
                        radii[shell] * np.sin(angles)], axis=1)
    network = Network(default_params)
    with network:
        src = Population(SpikeInput(max_spikes=10), num_sources, name="src")
        tgt = Population(LeakyIntegrateFire(tau_refrac=None), len(targets),
                         name="tgt")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="out")
        space = Space(2)
        place(src, space, np.zeros((num_sources, 2)))
        place(tgt, space, targets)
        conn = SpatialConnection(src, tgt, SpatialSparse(
            0.02, 1.0, 20, scale=10.0, regrowth_length=length),
            Exponential(5.0), name="src_tgt")
        Connection(tgt, out, Dense(0.1), Exponential(5.0), name="tgt_out")
    compiled = SpatialEventPropCompiler(
        example_timesteps=10, losses=SparseCategoricalCrossentropy(),
        dt=1.0, batch_size=batch_size, backend=backend, deep_r_conns=[conn],
        rng_seed=11).compile(network, name="regrowth")
    with compiled:
        genn_conn = compiled.connection_populations[conn]
        genn_conn.pull_connectivity_from_device()
        before = set(zip(genn_conn.get_sparse_pre_inds(),
                         genn_conn.get_sparse_post_inds()))
        compiled.genn_model.custom_update("DeepRInit")
        deep_r_2 = compiled.genn_model.custom_connectivity_updates[
            names.deep_r_2_update(genn_conn.name)]
        dormant = deep_r_2.pre_vars["NumDormant"]
        dormant.view[:] = per_row
        dormant.push_to_device()
        compiled.genn_model.custom_update(names.DEEP_R_2)
        genn_conn.pull_connectivity_from_device()
        after = set(zip(genn_conn.get_sparse_pre_inds(),
                        genn_conn.get_sparse_post_inds()))
    new = np.array(sorted(after - before))
    assert len(new) == num_sources * per_row
    counts = np.bincount(shell[new[:, 1]], minlength=len(radii))

    def chi_square(weights):
        expected = len(new) * weights / weights.sum()
        return np.sum((counts - expected) ** 2 / expected)

    critical = 16.27        # chi-square, 3 degrees of freedom, p = 0.001
    assert chi_square(np.exp(-radii / length)) < critical, counts
    assert chi_square(np.ones(len(radii))) > critical, counts


@pytest.mark.batch_dependent
@pytest.mark.parametrize("by", ["weight", "length"])
def test_prune_trained_network_then_fine_tune(tmp_path, by, backend,
                                              batch_size):
    """Train dense, load the checkpoint, prune the recurrent connection to
    90 % sparsity, fine-tune: the records show the sparsity and the kept
    synapses are the strongest (or shortest)."""
    network, inp, hid, out, rec = _network(
        seed=4, recurrent=SpatialDense(Normal(0.0, 0.3), MAX_DELAY),
        batch_size=batch_size)

    def compile_and_train(name, epochs, callbacks):
        compiled = SpatialEventPropCompiler(
            example_timesteps=TIMESTEPS,
            losses=SparseCategoricalCrossentropy(), optimiser=Adam(0.01),
            position_optimiser=Adam(0.01), dt=1.0, batch_size=batch_size,
            backend=backend).compile(network, name=name)
        rng = np.random.default_rng(0)
        x = random_inputs(6 * batch_size, NUM_INPUTS, TIMESTEPS, 1.0, 0.1,
                          rng)
        with compiled:
            _, data = compiled.train({inp: x},
                                     {out: np.arange(6 * batch_size) % 3},
                                     num_epochs=epochs, shuffle=False,
                                     callbacks=callbacks)
            compiled.save((name,), serialiser)
        return data

    serialiser = Numpy(str(tmp_path / "checkpoints"))
    compile_and_train("dense", 2, [])
    network.load(("dense",), serialiser)
    trained_w = np.asarray(rec.connectivity.weight).reshape(-1)
    positions = get_positions(hid)
    trained_d = distance(positions, positions).reshape(-1)

    prune(rec, 0.9, by=by)
    data = compile_and_train("pruned", 2, [ConnectivityRecord(rec, "conn")])
    expected_kept = round(0.1 * NUM_HIDDEN * NUM_HIDDEN)
    assert [r["num_synapses"] for r in data["conn"]] == [expected_kept] * 2
    assert data["conn"][-1]["sparsity"] == pytest.approx(0.9, abs=1e-3)

    kept = (np.asarray(rec.connectivity.pre_ind) * NUM_HIDDEN
            + np.asarray(rec.connectivity.post_ind))
    removed = np.setdiff1d(np.arange(NUM_HIDDEN * NUM_HIDDEN), kept)
    if by == "weight":
        assert np.abs(trained_w[kept]).min() >= np.abs(trained_w[removed]).max()
    else:
        assert trained_d[kept].max() <= trained_d[removed].min()
        assert data["conn"][-1]["mean_length"] < trained_d.mean()


def _rows(genn_syn):
    """A SPARSE synapse group's rows: each row's targets in their order."""
    genn_syn.pull_connectivity_from_device()
    stride = genn_syn.max_connections
    ind = np.asarray(genn_syn._ind.view)
    return [ind[i * stride:(i * stride) + n].tolist()
            for i, n in enumerate(genn_syn._row_lengths.view)]


@pytest.mark.batch_dependent
def test_mirror_of_rewired_connection_has_the_rows_of_its_last_transpose(
        backend, batch_size):
    """With DEEP R (and a wiring cost), the mirror of a sparse connection
    holds, in each batch, the connection's rows -- targets in the same
    order -- as they were when its gradient was transposed at the end of
    the previous batch (before DEEP R rewired them): each gradient is
    scattered by its own synapse. Its arrays have one element per slot of
    those rows, none per pair of neurons."""
    class RowsAtBatchBegin(Callback):
        """The rows of the spatial group and of its mirror at the start
        of every batch."""

        def __init__(self, genn_syn, mirror):
            self._groups = (genn_syn, mirror)
            self.original, self.mirror = [], []

        def on_batch_begin(self, batch):
            self.original.append(_rows(self._groups[0]))
            self.mirror.append(_rows(self._groups[1]))

    network, inp, hid, out, rec = _network(
        seed=2, recurrent=SpatialSparse(0.2, Normal(0.0, 0.3), MAX_DELAY,
                                        wiring_cost=0.01),
        batch_size=batch_size)
    compiled = SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=Adam(0.01), position_optimiser=Adam(0.01), dt=1.0,
        batch_size=batch_size, backend=backend, deep_r_conns=[rec],
        deep_r_record_rewirings={rec: "rewirings"}).compile(
            network, name="mirrorrows")
    x = random_inputs(6 * batch_size, NUM_INPUTS, TIMESTEPS, 1.0, 0.1,
                      np.random.default_rng(1))
    with compiled:
        genn_syn = compiled.connection_populations[rec]
        mirror = compiled.genn_model.synapse_populations[
            names.mirror("hid_hid")]
        rows = RowsAtBatchBegin(genn_syn, mirror)
        _, data = compiled.train({inp: x},
                                 {out: np.arange(6 * batch_size) % 3},
                                 num_epochs=1, shuffle=False,
                                 callbacks=[rows])
        stride = genn_syn.max_connections
        for name in (names.DELAY_GRADIENT_T, names.WIRING_T):
            assert (mirror.extra_global_params[name].values.size
                    == NUM_HIDDEN * stride)
        # No array of the connection, its mirror or the custom updates on
        # them has an element per pair of neurons (per batch lane)
        arrays = [np.shape(v.values)[-1] for group in (genn_syn, mirror)
                  for v in group.vars.values()]
        arrays += [np.shape(v.values)[-1]
                   for cu in compiled.genn_model.custom_updates.values()
                   if getattr(getattr(cu, "synapse_group", None), "name",
                              None) in (genn_syn.name, mirror.name)
                   for v in cu.vars.values()]
        assert len(arrays) > 4 and max(arrays) <= NUM_HIDDEN * stride
    assert stride < NUM_HIDDEN
    assert sum(int(r[0]) for r in data["rewirings"]) > 0
    # DEEP R changed the rows between batches, and the mirror followed
    assert any(rows.original[b] != rows.original[b - 1]
               for b in range(1, len(rows.original)))
    assert rows.mirror[0] == rows.original[0]
    for b in range(1, len(rows.original)):
        assert rows.mirror[b] == rows.original[b - 1], b
