"""A batch-N oracle that needs no trust in the batched code.

mlGeNN's EventProp divides the loss of a batch of N trials by N, and the
spatial compiler adds the wiring cost's gradient once per batch. So the
gradients one batch of N trials hands to the optimisers equal the mean of
the gradients of N batch-1 runs of the same trials (each with its own
wiring-cost term), which the CPU backend computes with no batched code at
all. Both equal the NumPy reference (:mod:`ml_genn_spatial.reference`)
run on the N trials as one batch.

- CPU half (runs everywhere): the sum of N batch-1 GeNN CPU runs, divided
  by N, equals the NumPy reference at batch N.
- CUDA half (marker ``cuda``, needs a GPU): one CUDA batch of N trials
  equals that same sum / N, and the reference.

Weight and position gradients; dense and sparse, feed-forward and
recurrent, D = 2 and 3, wiring cost on and off; N = 4 and 32. DEEP R at
batch N on CUDA (synapse count preserved, regrown delays following the
positions) is tests/test_genn_rewiring.py at ``cuda-batch32``.
"""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available
import ml_genn_spatial.reference as R

from cuda_env import cuda_run_skip_reason

pytestmark = pytest.mark.genn

try:
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn_spatial import SpatialEventPropCompiler
    from genn_networks import (Capture, FrozenOptimiser, build_network,
                               dense_values, gather_targets, gathered,
                               gradient_target, random_inputs)
except ImportError:
    if genn_available():
        raise
    Capture = object

NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS = 5, 8, 3
TIMESTEPS, MAX_DELAY, SCALE = 80, 12, 4.0
BATCH_SIZES = (4, 32)
# (dimensions, sparse, recurrent, wiring cost): every value of each twice
CASES = {"d2-dense-ff": (2, False, False, 0.0),
         "d3-dense-rec-wiring": (3, False, True, 0.02),
         "d2-sparse-rec-wiring": (2, True, True, 0.02),
         "d3-sparse-ff": (3, True, False, 0.0)}
# float32 throughout. Measured on the CPU half (GeNN 5.4.0, all cases, N = 4
# and 32): largest error 4e-7 of the largest gradient, 3.2e-6 relative on
# elements above 1 % of it; the CUDA half (atomic scatter, batch
# reductions) has not been measured on a GPU yet. A failure names its
# largest error.
RTOL = 1e-4
ATOL_FRACTION = 1e-4


class PerBatch(Capture):
    """Pulls the targets at the end of each of the given batches."""

    def __init__(self, targets, batches):
        super().__init__(targets)
        self.batches = set(batches)
        self.per_batch = {}

    def on_batch_end(self, batch, metrics):
        if batch in self.batches:
            self.values = {}
            self._pull()
            self.per_batch[batch] = self.values


def _problem(case):
    dimensions, sparse, recurrent, wiring_cost = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case) + 100)
    positions = {"inp": rng.uniform(-1, 1, (NUM_INPUTS, dimensions)),
                 "hid": rng.uniform(-1, 1, (NUM_HIDDEN, dimensions))}
    weights = {"inp_hid": rng.normal(1.0, 0.5, (NUM_INPUTS, NUM_HIDDEN)),
               "hid_hid": rng.normal(0.0, 0.3, (NUM_HIDDEN, NUM_HIDDEN)),
               "hid_out": rng.normal(0.5, 0.5, (NUM_HIDDEN, NUM_OUTPUTS))}
    masks = ({key: rng.random(weights[key].shape) < 0.6
              for key in ("inp_hid", "hid_hid")} if sparse else None)
    num_trials = 3 * max(BATCH_SIZES)
    inputs = random_inputs(num_trials, NUM_INPUTS, TIMESTEPS, 1.0, 0.1, rng)
    labels = rng.integers(0, NUM_OUTPUTS, num_trials)
    return dict(dimensions=dimensions, recurrent=recurrent,
                wiring_cost=wiring_cost, positions=positions,
                weights=weights, masks=masks, inputs=inputs, labels=labels)


def _compile(p, name, backend, batch_size):
    network, inp, hid, out, conns = build_network(
        NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS, p["positions"], p["weights"],
        True, p["recurrent"], MAX_DELAY, SCALE, p["dimensions"],
        masks=p["masks"], wiring_cost=p["wiring_cost"])
    compiled = SpatialEventPropCompiler(
        example_timesteps=TIMESTEPS, losses=SparseCategoricalCrossentropy(),
        optimiser=FrozenOptimiser(), position_optimiser=FrozenOptimiser(),
        dt=1.0, batch_size=batch_size, backend=backend).compile(
            network, name=name)
    return compiled, inp, hid, out, conns


def _dense(compiled, conns, values):
    return {key: dense_values(compiled.connection_populations[conn],
                              values[key],
                              int(np.prod(conn.source().shape)),
                              int(np.prod(conn.target().shape)))
            for key, conn in conns.items()}


def _genn_run(p, name, backend, batch_size, weight_batches,
              position_batches, num_trials):
    """Train (frozen) over ``num_trials`` trials; the weight gradients at
    the end of ``weight_batches`` and the position gradients the optimiser
    gets at the end of ``position_batches``."""
    compiled, inp, hid, out, conns = _compile(p, name, backend, batch_size)
    with compiled:
        weights = PerBatch({key: gradient_target(compiled, conn, "Gradient",
                                                 batch_size)
                            for key, conn in conns.items()},
                           weight_batches)
        positions = PerBatch(gather_targets(compiled,
                                            {"inp": inp, "hid": hid},
                                            p["dimensions"]),
                             position_batches)
        compiled.train({inp: p["inputs"][:num_trials]},
                       {out: p["labels"][:num_trials]}, num_epochs=1,
                       shuffle=False, callbacks=[weights, positions])
        weight = {b: _dense(compiled, conns, v)
                  for b, v in weights.per_batch.items()}
    position = {b: gathered(v, ("inp", "hid"), p["dimensions"])
                for b, v in positions.per_batch.items()}
    return weight, position


def _cpu_batch1_means(p, name):
    """Sums of the gradients of batch-1 CPU runs of trials 0 ... N - 1,
    divided by N, for every N of BATCH_SIZES (one run of N + 2 trials).

    With a frozen optimiser the weight gradient accumulates from batch 1
    on (mlGeNN zeroes it at the end of batch 0); trial n's backward pass
    runs in batch n + 1. Trial n's position gradient reaches the optimiser
    at the end of batch n + 2 and is replaced there every batch."""
    largest = max(BATCH_SIZES)
    weight, position = _genn_run(
        p, name, "single_threaded_cpu", 1, BATCH_SIZES,
        range(2, largest + 2), largest + 2)
    means = {}
    for n in BATCH_SIZES:
        means[n] = {
            "weight": {k: v / n for k, v in weight[n].items()},
            "position": {k: sum(position[b][k] for b in range(2, n + 2)) / n
                         for k in ("inp", "hid")}}
    return means


def _cuda_batch(p, name, n):
    """One CUDA batch of trials 0 ... n - 1 (read as the optimisers get it:
    weights at the end of batch 1, positions at the end of batch 2)."""
    weight, position = _genn_run(p, name, "cuda", n, [1], [2], 3 * n)
    return {"weight": weight[1], "position": position[2]}


def _reference(p, n):
    """NumPy reference of trials 0 ... n - 1 as one batch."""
    r_inp = R.Population(R.SpikeInput(), NUM_INPUTS, "inp",
                         p["positions"]["inp"])
    r_hid = R.Population(R.LeakyIntegrateFire(1.0, 0.0, 20.0), NUM_HIDDEN,
                         "hid", p["positions"]["hid"])
    r_out = R.Population(R.LeakyIntegrate(20.0, readout="sum_var"),
                         NUM_OUTPUTS, "out")
    delay = R.SpatialDelay(SCALE, MAX_DELAY)
    keys = ["inp_hid"] + (["hid_hid"] if p["recurrent"] else [])
    conns = [R.Connection(src, r_hid, p["weights"][key], 5.0, delay=delay,
                          mask=None if p["masks"] is None
                          else p["masks"][key],
                          wiring_cost=p["wiring_cost"], name=key)
             for key, src in zip(keys, (r_inp, r_hid))]
    conns.append(R.Connection(r_hid, r_out, p["weights"]["hid_out"], 5.0,
                              name="hid_out"))
    spikes = [(t.spike_times, np.repeat(np.arange(NUM_INPUTS), np.diff(
        np.concatenate([[0], t.end_spikes])))) for t in p["inputs"][:n]]
    result = R.EventProp(TIMESTEPS, dt=1.0, dtype=np.float32).run(
        R.Network([r_inp, r_hid, r_out], conns), spikes, p["labels"][:n])
    return {"weight": {k: result.gradients.weight[k]
                       for k in ["hid_out"] + keys},
            "position": dict(result.gradients.position)}


def _assert_equal(got, expected, what):
    for kind in ("weight", "position"):
        for key, value in expected[kind].items():
            scale = np.abs(value).max()
            assert scale > 0.0, f"{what}: no {kind} gradient reached {key}"
            error = np.abs(got[kind][key] - value).max() / scale
            np.testing.assert_allclose(
                got[kind][key], value, rtol=RTOL, atol=ATOL_FRACTION * scale,
                err_msg=f"{what}: {kind} gradient of {key} (largest error "
                        f"{error:.2e} of the largest gradient)")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """Problems, CPU batch-1 means and references, each computed once."""
    cache = {}

    def get(kind, case, n=None):
        key = (kind, case, n)
        if key not in cache:
            if kind == "problem":
                cache[key] = _problem(case)
            elif kind == "cpu":
                folder = tmp_path_factory.mktemp(f"cpu_{case}")
                with pytest.MonkeyPatch.context() as patch:
                    patch.chdir(folder)
                    cache[key] = _cpu_batch1_means(
                        get("problem", case),
                        f"oracle{sorted(CASES).index(case)}")
            else:
                cache[key] = _reference(get("problem", case), n)
        return cache[key]
    return get


@pytest.fixture
def cuda_device():
    reason = cuda_run_skip_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.mark.parametrize("case, n", [
    pytest.param(case, n, id=f"single_threaded_cpu-{n}xbatch1-{case}")
    for case in CASES for n in BATCH_SIZES])
def test_sum_of_cpu_batch1_runs_equals_reference_at_batch_n(oracle, case,
                                                             n):
    _assert_equal(oracle("cpu", case)[n], oracle("reference", case, n),
                  f"CPU batch-1 sum / {n} against the reference")


@pytest.mark.cuda
@pytest.mark.parametrize("case, n", [
    pytest.param(case, n, id=f"cuda-batch{n}-{case}")
    for case in CASES for n in BATCH_SIZES])
def test_cuda_batch_n_equals_sum_of_cpu_batch1_runs_and_reference(
        cuda_device, oracle, case, n, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cuda = _cuda_batch(oracle("problem", case),
                       f"oraclecuda{sorted(CASES).index(case)}", n)
    _assert_equal(cuda, oracle("cpu", case)[n],
                  f"CUDA batch {n} against CPU batch-1 sum / {n}")
    _assert_equal(cuda, oracle("reference", case, n),
                  f"CUDA batch {n} against the reference")
