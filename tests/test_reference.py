"""Tests of the NumPy reference model of mlGeNN's EventProp with delays.

The gradients are checked against finite differences of the loss computed
by the forward pass (never against numbers taken from the backward pass):

* weights: central differences (a least-squares slope over +-h, +-2h) of
  the per-trial losses, all perturbations evaluated in one vectorised
  forward pass with per-trial weights;
* delays: whole-timestep shifts of one synapse's delay (+-1 .. +-4 steps);
* positions: shifts of one coordinate by multiples of ``1 / scale`` (about
  one timestep of delay), the delays recomputed from the moved positions.

A discrete-time simulation is only piecewise smooth in its parameters:
spike counts can change, and a presynaptic spike arriving in the step in
which its target fires puts a kink in the loss. Every finite-difference
test therefore first checks that its regime is one where differences are
meaningful (no spike appears or disappears under any perturbation, no
presynaptic arrival moves past a postsynaptic spike, every output neuron
fires) and fails, rather than passes vacuously, when it is not.

The time-to-first-spike loss of the discrete model is piecewise constant in
the weights (first spike times are whole steps), so its differences use the
loss mlGeNN's adjoint differentiates, written out here, evaluated at first
spike times interpolated linearly within the crossing step.
"""
import time

import numpy as np
import pytest

from ml_genn_spatial import Space
from ml_genn_spatial.reference import (Adam, Connection, EventProp,
                                       LeakyIntegrate, LeakyIntegrateFire,
                                       Network, Population, SpatialDelay,
                                       SpikeInput, evaluate,
                                       input_spike_steps, train)

DT = 0.01                   # [ms]
TRIAL_MS = 20.0
TIMESTEPS = int(round(TRIAL_MS / DT))
TAU_MEM = 20.0
TAU_SYN = 5.0
TTFS_ALPHA = 0.01
N_TRIALS = 8


# ----------------------------------------------------------------------------
# Helpers (independent of the code under test)
# ----------------------------------------------------------------------------
def _cosine(a, b):
    a = np.ravel(a)
    b = np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _scale(model_grad, fd_grad):
    """Least-squares factor k in model_grad = k * fd_grad."""
    model_grad = np.ravel(model_grad)
    fd_grad = np.ravel(fd_grad)
    return float(model_grad @ fd_grad / (fd_grad @ fd_grad))


def _trains(seed, n_trials=N_TRIALS, n_in=3, lo=0.5, hi=3.0):
    # One spike per input neuron, early in the trial: every hidden neuron
    # then fires once and well before the outputs
    rng = np.random.default_rng(seed)
    return [(rng.uniform(lo, hi, n_in), np.arange(n_in))
            for _ in range(n_trials)]


def _network(readout, recurrent, seed, delay=None, dimensions=2,
             w_in=(2.5, 0.3), w_rec=0.6, tau_refrac=None):
    """3 inputs -> 5 LIF (-> 5 LIF) -> 3 outputs.

    delay: None, "steps" (random per-synapse delays) or "spatial"
    w_in: mean and sd of the input weights; w_rec: sd of recurrent weights
    tau_refrac: the LIF neurons' refractory period [ms]
    """
    rng = np.random.default_rng(seed)
    positions = ((lambda n: rng.uniform(-1.0, 1.0, (n, dimensions)))
                 if delay == "spatial" else (lambda n: None))
    inp = Population(SpikeInput(), 3, "input", positions=positions(3))
    hid = Population(LeakyIntegrateFire(v_thresh=1.0, v_reset=0.0,
                                        tau_mem=TAU_MEM,
                                        tau_refrac=tau_refrac), 5, "hidden",
                     positions=positions(5))
    if readout == "first_spike_time":
        out = Population(LeakyIntegrateFire(v_thresh=1.0, v_reset=0.0,
                                            tau_mem=TAU_MEM,
                                            tau_refrac=tau_refrac,
                                            readout=readout),
                         3, "output", positions=positions(3))
        w_out = (1.5, 0.2)
    else:
        out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout=readout), 3,
                         "output", positions=positions(3))
        w_out = (0.003, 0.002) if readout == "sum_var" else (0.3, 0.2)

    def conn_delay(shape):
        if delay == "steps":
            return dict(delay=rng.integers(5, 40, shape), max_delay_steps=60)
        if delay == "spatial":
            return dict(delay=SpatialDelay(scale=15.0, offset=5.0, eps=0.01,
                                           max_delay_steps=80))
        return {}

    conns = [Connection(inp, hid, rng.normal(*w_in, (3, 5)), TAU_SYN,
                        **conn_delay((3, 5))),
             Connection(hid, out, rng.normal(*w_out, (5, 3)), TAU_SYN,
                        **conn_delay((5, 3)))]
    if recurrent:
        conns.append(Connection(hid, hid, rng.normal(0.0, w_rec, (5, 5)),
                                TAU_SYN, **conn_delay((5, 5))))
    return Network([inp, hid, out], conns)


def _model():
    return EventProp(TIMESTEPS, dt=DT, ttfs_alpha=TTFS_ALPHA)


def _ttfs_trial_losses(record):
    """mlGeNN's time-to-first-spike cross-entropy per trial
    (``-log softmax(-t)_label + alpha / (1.01 T - t_label)``) at first spike
    times interpolated linearly between the last step below threshold and
    the crossing step."""
    first = record.first_spike_step
    assert np.all(first >= 1), "an output neuron did not fire"
    v = record.v["output"]
    trial, neuron = np.indices(first.shape)
    v_after = v[first, trial, neuron]
    v_before = v[first - 1, trial, neuron]
    t = (first - 1 + (1.0 - v_before) / (v_after - v_before)) * DT
    rows = np.arange(len(t))
    labels = record.labels
    logits = -t
    top = logits.max(axis=1)
    log_sum = np.log(np.exp(logits - top[:, None]).sum(axis=1)) + top
    return (log_sum - logits[rows, labels]
            + TTFS_ALPHA / (1.01 * TRIAL_MS - t[rows, labels]))


def _softmax_ce_trial_losses(record):
    readout = record.readout
    top = readout.max(axis=1)
    log_sum = np.log(np.exp(readout - top[:, None]).sum(axis=1)) + top
    return log_sum - readout[np.arange(len(readout)), record.labels]


def _trial_losses(record, ttfs):
    return (_ttfs_trial_losses(record) if ttfs
            else _softmax_ce_trial_losses(record))


def _aligned_steps(record, name, n_sets):
    """Spike steps of population ``name`` in every parameter set, aligned
    event by event: ``(n_sets, n_events)`` plus the trial and neuron of
    each event (identical spike counts assumed)."""
    events = record.spikes[name]
    trial = events.batch % N_TRIALS
    parameter_set = events.batch // N_TRIALS
    order = np.lexsort((events.step, events.id, trial, parameter_set))
    steps = events.step[order].reshape(n_sets, -1)
    return steps, trial[order][:steps.shape[1]], events.id[order][
        :steps.shape[1]]


def _check_regime(network, base, perturbed, n_sets, delays=None):
    """Fail unless finite differences around ``base`` are meaningful: no
    perturbation changes a spike count, and none changes which presynaptic
    arrivals come before (and so shape) which postsynaptic spikes; such an
    order change is a kink in the loss of the discrete model."""
    for name, counts in base.spike_count.items():
        moved = perturbed.spike_count[name].reshape(
            (n_sets, N_TRIALS) + counts.shape[1:])
        changed = np.count_nonzero(np.any(moved != counts, axis=(1, 2)))
        assert changed == 0, (f"{changed} perturbations change the spike "
                              f"counts of {name}: pick another regime")
    flips = 0
    for c in network.connections:
        if c.target.name not in perturbed.spikes:
            continue
        pre_steps, pre_trial, pre_id = _aligned_steps(perturbed,
                                                      c.source.name, n_sets)
        post_steps, post_trial, post_id = _aligned_steps(perturbed,
                                                         c.target.name,
                                                         n_sets)
        e, f = np.nonzero(pre_trial[:, None] == post_trial[None, :])
        if delays is not None and c.name in delays:
            d = delays[c.name][::N_TRIALS][:, pre_id[e], post_id[f]]
        elif c.has_delay:
            d = c.delay_steps()[pre_id[e], post_id[f]][None, :]
        else:
            d = 0
        shapes = (pre_steps[:, e] + 1 + d) <= post_steps[:, f]
        base_steps_pre, _, _ = _aligned_steps(base, c.source.name, 1)
        base_steps_post, _, _ = _aligned_steps(base, c.target.name, 1)
        base_d = (c.delay_steps()[pre_id[e], post_id[f]] if c.has_delay
                  else 0)
        base_shapes = ((base_steps_pre[0, e] + 1 + base_d)
                       <= base_steps_post[0, f])
        flips += np.count_nonzero(np.any(shapes != base_shapes, axis=1))
    assert flips == 0, (f"{flips} perturbations change the order of a "
                        f"presynaptic arrival and a postsynaptic spike "
                        f"(a kink in the loss): pick another regime")


def _slope(losses, multiples):
    """Least-squares slope of losses ``(n_params, n_multiples)`` in the
    perturbation multiples."""
    k = np.asarray(multiples, dtype=float)
    return losses @ k / (k @ k)


def _perturbed_stack(arrays, params, multiples, amounts):
    """One copy of every array per trial of every perturbed parameter set:
    set ``p * len(multiples) + m`` moves parameter ``params[p]`` (a
    connection name and index) by ``multiples[m] * amounts[p]``."""
    n_sets = len(params) * len(multiples)
    stacked = {name: np.repeat(value[None], n_sets * N_TRIALS, axis=0)
               for name, value in arrays.items()}
    for p, (name, index) in enumerate(params):
        for m, multiple in enumerate(multiples):
            first = (p * len(multiples) + m) * N_TRIALS
            stacked[name][(slice(first, first + N_TRIALS),) + index] += (
                multiple * amounts[p])
    return stacked


def _finite_differences(model, network, trains, labels, base, n_params,
                        multiples, ttfs, **overrides):
    """Mean loss of every perturbed parameter set, ``(n_params,
    n_multiples)``, from one forward pass with per-trial ``overrides``
    (``weights=`` or ``delays=``), after checking the regime."""
    n_sets = n_params * len(multiples)
    record = model.forward(network, trains * n_sets,
                           np.tile(labels, n_sets), num_batch=N_TRIALS,
                           record_v=ttfs, **overrides)
    _check_regime(network, base, record, n_sets, overrides.get("delays"))
    losses = _trial_losses(record, ttfs).reshape(n_sets, N_TRIALS)
    return (losses.sum(axis=1) / N_TRIALS).reshape(n_params, len(multiples))


def _assert_agrees(title, model_grads, fd, part_minimum=None,
                   expected_scale=None):
    """Print the cosine of model and finite-difference gradients (overall
    and per part; ``model_grads``: {part: array}, in the order of ``fd``)
    and assert it is >= 0.99 overall and >= ``part_minimum`` per part, and
    that ``model = k * fd`` with ``k`` within 5 % of ``expected_scale``."""
    model_grad = np.concatenate([g.ravel() for g in model_grads.values()])
    cosine = _cosine(model_grad, fd)
    scale = _scale(model_grad, fd)
    print(f"\n{title}: cosine {cosine:.6f}, scale "
          + (f"{scale / expected_scale:.4f} x expected"
             if expected_scale else f"{scale:.5g}"))
    offset = 0
    for name, grad in model_grads.items():
        part = slice(offset, offset + grad.size)
        offset += grad.size
        part_cosine = _cosine(model_grad[part], fd[part])
        print(f"  {name}: cosine {part_cosine:.6f}")
        if part_minimum is not None:
            assert part_cosine >= part_minimum, name
    assert cosine >= 0.99
    if expected_scale is not None:
        assert scale == pytest.approx(expected_scale, rel=0.05)
    return scale


def _weight_differences(model, network, trains, labels, base, step_of,
                        ttfs):
    """dL/dw of every weight from central differences, steps by
    connection name (``step_of``)."""
    params = [(c.name, index) for c in network.connections
              for index in np.ndindex(c.shape)]
    steps = np.array([step_of[name] for name, _ in params])
    weights = _perturbed_stack({c.name: c.weight
                                for c in network.connections},
                               params, _MULTIPLES, steps)
    losses = _finite_differences(model, network, trains, labels, base,
                                 len(params), _MULTIPLES, ttfs,
                                 weights=weights)
    return _slope(losses, _MULTIPLES) / steps


def _delay_differences(model, network, trains, labels, base, ttfs):
    """dL/d(delay [steps]) of every synapse from whole-step shifts."""
    params = [(c.name, index) for c in network.connections
              for index in np.ndindex(c.shape)]
    delays = _perturbed_stack({c.name: c.delay_steps()
                               for c in network.connections},
                              params, _SHIFTS, np.ones(len(params), int))
    losses = _finite_differences(model, network, trains, labels, base,
                                 len(params), _SHIFTS, ttfs, delays=delays)
    return _slope(losses, _SHIFTS)


# ----------------------------------------------------------------------------
# (1) Weight gradients against finite differences
# ----------------------------------------------------------------------------
_MULTIPLES = (-2, -1, 1, 2)
# Finite-difference step per connection: small where the loss is smooth
# (output weights, scaled with their size), larger where whole-step spike
# shifts of the hidden neurons add noise
_WEIGHT_STEP = {"input_hidden": 0.03, "hidden_output": 0.01,
                "hidden_hidden": 0.03}
_SUM_VAR_OUTPUT_STEP = 1e-4

# Input spikes early for the time-to-first-spike outputs; late for the
# integrating readouts, whose loss depends on hidden spike times only
# through the part of the response cut off by the end of the trial
_EARLY = (0.5, 3.0)
_LATE = (8.0, 12.0)

# (readout, recurrent, seed, input spike window [ms], input weights
#  (mean, sd), recurrent weight sd, expected Gradient / (dL/dw))
_WEIGHT_CASES = [
    # Gradient ~ dL/dw / (tau_mem [ms] * T [steps]) for sum_var
    ("sum_var", False, 4, _LATE, (2.5, 0.3), None,
     1.0 / (TAU_MEM * TIMESTEPS)),
    # Gradient ~ dL/dw / tau_mem for avg_var; broad input weights spread
    # the hidden spikes so that recurrent arrivals stay clear of them
    ("avg_var", True, 4, (4.0, 14.0), (2.0, 0.8), 0.3, 1.0 / TAU_MEM),
    ("avg_var_exp_weight", False, 2, _LATE, (2.5, 0.3), None,
     1.0 / TAU_MEM),
    # Gradient ~ dL/dw for the time-to-first-spike loss
    ("first_spike_time", False, 1, _EARLY, (2.5, 0.3), None, 1.0),
    ("first_spike_time", True, 2, _EARLY, (2.5, 0.3), 0.6, 1.0),
]


@pytest.mark.parametrize("readout, recurrent, seed, window, w_in, w_rec, "
                         "expected_scale", _WEIGHT_CASES)
def test_weight_gradients_match_finite_differences(readout, recurrent, seed,
                                                   window, w_in, w_rec,
                                                   expected_scale):
    network = _network(readout, recurrent, seed, w_in=w_in, w_rec=w_rec)
    model = _model()
    trains = _trains(seed + 100, lo=window[0], hi=window[1])
    labels = np.arange(N_TRIALS) % 3
    ttfs = readout == "first_spike_time"
    base = model.forward(network, trains, labels, record_v=ttfs)
    grads = model.backward(base)

    step_of = dict(_WEIGHT_STEP)
    if readout == "sum_var":
        step_of["hidden_output"] = _SUM_VAR_OUTPUT_STEP
    fd = _weight_differences(model, network, trains, labels, base, step_of,
                             ttfs)

    # mlGeNN's Gradient is +dL/dw up to the documented readout scaling
    _assert_agrees(f"{readout} recurrent={recurrent} weights", grads.weight,
                   fd, part_minimum=0.99, expected_scale=expected_scale)


# ----------------------------------------------------------------------------
# (2) Delay and position gradients against whole-step shifts
# ----------------------------------------------------------------------------
_SHIFTS = (-4, -3, -2, -1, 1, 2, 3, 4)


@pytest.mark.parametrize("readout, recurrent, seed, expected_scale", [
    # DelayGradient ~ dL/d(delay [ms]) = dL/d(delay [steps]) / dt
    ("first_spike_time", False, 2, 1.0 / DT),
    ("first_spike_time", True, 2, 1.0 / DT),
    ("sum_var", False, 1, 1.0 / (DT * TAU_MEM * TIMESTEPS)),
])
def test_delay_gradients_match_whole_step_shifts(readout, recurrent, seed,
                                                 expected_scale):
    network = _network(readout, recurrent, seed, delay="steps")
    model = _model()
    trains = _trains(seed + 100)
    labels = np.arange(N_TRIALS) % 3
    ttfs = readout == "first_spike_time"
    base = model.forward(network, trains, labels, record_v=ttfs)
    grads = model.backward(base)

    fd = _delay_differences(model, network, trains, labels, base, ttfs)

    _assert_agrees(f"{readout} recurrent={recurrent} delays", grads.delay,
                   fd, part_minimum=0.9, expected_scale=expected_scale)


# Single-spike neurons: a refractory period longer than the trial holds a
# neuron at v_reset = 0 after its first spike (the SpSNN paper's neurons).
# The adjoint ignores refractoriness (as mlGeNN's does), which is exact
# here: strong inputs make every hidden neuron fire twice without it, so
# these cases fail if the held neurons' gradients are not those of the loss.
_SINGLE_SPIKE = 2.0 * TRIAL_MS
_STRONG_INPUT = (4.0, 0.5)
# Strong inputs make the hidden spikes steep, moved by fewer whole steps per
# weight step: twice the input step keeps the same quantisation noise
_SINGLE_SPIKE_WEIGHT_STEP = dict(_WEIGHT_STEP, input_hidden=0.06)


@pytest.mark.parametrize("seed", [1, 4])
def test_single_spike_gradients_match_finite_differences(seed):
    # Feedforward: with these strong inputs recurrent arrivals cross the
    # hidden spikes under whole-step shifts (no regime for differences)
    trains = _trains(seed + 100)
    labels = np.arange(N_TRIALS) % 3
    model = _model()
    repeating = model.forward(_network("first_spike_time", False, seed,
                                       w_in=_STRONG_INPUT), trains, labels)
    assert repeating.spike_count["hidden"].max() >= 2
    network = _network("first_spike_time", False, seed, delay="steps",
                       w_in=_STRONG_INPUT, tau_refrac=_SINGLE_SPIKE)
    base = model.forward(network, trains, labels, record_v=True)
    assert all(counts.max() == 1 for counts in base.spike_count.values())
    grads = model.backward(base)

    _assert_agrees(f"single spike seed {seed} weights", grads.weight,
                   _weight_differences(model, network, trains, labels, base,
                                       _SINGLE_SPIKE_WEIGHT_STEP, True),
                   part_minimum=0.99, expected_scale=1.0)
    _assert_agrees(f"single spike seed {seed} delays", grads.delay,
                   _delay_differences(model, network, trains, labels, base,
                                      True),
                   part_minimum=0.9, expected_scale=1.0 / DT)


def _chain_rule(delay_gradient, pre, post, scale):
    # dL/dx_i = scale sum_j G_ij (x_i - x_j) / dist_ij and the mirror image
    # for x_j, written out with loops (eps as in _network)
    pre_grad = np.zeros_like(pre)
    post_grad = np.zeros_like(post)
    for i in range(len(pre)):
        for j in range(len(post)):
            diff = pre[i] - post[j]
            dist = np.sqrt(diff @ diff + 0.01 ** 2)
            pre_grad[i] += scale * delay_gradient[i, j] * diff / dist
            post_grad[j] -= scale * delay_gradient[i, j] * diff / dist
    return pre_grad, post_grad


_POSITION_SHIFTS = (-2, -1, 1, 2)


@pytest.mark.parametrize("recurrent, seed", [(False, 1), (True, 1)])
def test_position_gradients_match_finite_differences(recurrent, seed):
    network = _network("first_spike_time", recurrent, seed, delay="spatial")
    model = _model()
    trains = _trains(seed + 100)
    labels = np.arange(N_TRIALS) % 3
    base = model.forward(network, trains, labels, record_v=True)
    grads = model.backward(base)
    scale = network.connections[0].spatial.scale

    # Every population's gradient sums its pre and post roles; the delay
    # gradient is per ms of delay, dt ms per timestep
    expected = {p.name: np.zeros_like(p.positions)
                for p in network.populations}
    for c in network.connections:
        pre, post = _chain_rule(grads.delay[c.name], c.source.positions,
                                c.target.positions, scale)
        expected[c.source.name] += DT * pre
        expected[c.target.name] += DT * post
    for name, grad in expected.items():
        np.testing.assert_allclose(grads.position[name], grad, rtol=1e-10,
                                   atol=1e-12 * np.abs(grad).max())

    # Finite differences of the loss over each coordinate, the delays
    # recomputed from the moved positions (about one step per multiple)
    step = 1.0 / scale
    coords = [(p, index) for p in network.populations
              for index in np.ndindex(p.positions.shape)]
    n_sets = len(coords) * len(_POSITION_SHIFTS)
    delays = {c.name: np.empty((n_sets * N_TRIALS,) + c.shape, np.int64)
              for c in network.connections}
    for k, (pop, index) in enumerate(coords):
        for m, shift in enumerate(_POSITION_SHIFTS):
            first = (k * len(_POSITION_SHIFTS) + m) * N_TRIALS
            for c in network.connections:
                pre = c.source.positions.copy()
                post = c.target.positions.copy()
                if c.source is pop:
                    pre[index] += shift * step
                if c.target is pop:
                    post[index] += shift * step
                dist = np.sqrt(np.sum((pre[:, None] - post[None]) ** 2,
                                      axis=-1) + 0.01 ** 2)
                raw = 5.0 + scale * dist
                assert np.all((raw > 0) & (raw < 80)), "clamp active"
                delays[c.name][first:first + N_TRIALS] = np.floor(raw + 0.5)
    losses = _finite_differences(model, network, trains, labels, base,
                                 len(coords), _POSITION_SHIFTS, True,
                                 delays=delays)
    fd = _slope(losses, _POSITION_SHIFTS) / step       # dL / dx
    # Direction checked here; the value follows from the chain rule checked
    # exactly above and from DelayGradient's value, which the delay test
    # checks (two-step shifts leave the scale here too noisy to assert)
    scale = _assert_agrees(f"recurrent={recurrent} positions",
                           {p.name: grads.position[p.name]
                            for p in network.populations}, fd)
    print(f"  scale {scale:.4f}")


def test_wiring_cost_adds_its_gradients():
    strength = 0.03
    plain = _network("first_spike_time", False, 1, delay="spatial")
    costly = _network("first_spike_time", False, 1, delay="spatial")
    costly.connections[1] = Connection(
        costly.connections[1].source, costly.connections[1].target,
        costly.connections[1].weight, TAU_SYN,
        delay=costly.connections[1].spatial, wiring_cost=strength)
    costly = Network(costly.populations, costly.connections)
    model = _model()
    trains = _trains(101)
    labels = np.arange(N_TRIALS) % 3
    without = model.run(plain, trains, labels).gradients
    with_cost = model.run(costly, trains, labels).gradients

    conn = costly.connections[1]
    pre, post = conn.source.positions, conn.target.positions
    dist = np.sqrt(np.sum((pre[:, None] - post[None]) ** 2, axis=-1)
                   + 0.01 ** 2)
    weight = conn.weight
    assert with_cost.wiring_cost == pytest.approx(
        strength * np.sum(np.abs(weight) * dist), rel=1e-12)
    np.testing.assert_allclose(
        with_cost.weight["hidden_output"] - without.weight["hidden_output"],
        strength * np.sign(weight) * dist, rtol=1e-9, atol=1e-12)
    pre_grad, post_grad = _chain_rule(np.abs(weight), pre, post, strength)
    np.testing.assert_allclose(
        with_cost.position["hidden"] - without.position["hidden"], pre_grad,
        rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        with_cost.position["output"] - without.position["output"], post_grad,
        rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(with_cost.position["input"],
                                  without.position["input"])


# ----------------------------------------------------------------------------
# (3) Spike arrival times
# ----------------------------------------------------------------------------
def _single_synapse(delay, weight=0.5, dt=0.1, timesteps=40):
    inp = Population(SpikeInput(), 1, "input",
                     positions=[[0.0, 0.0]] if delay == "spatial" else None)
    out = Population(LeakyIntegrate(tau_mem=TAU_MEM), 1, "output",
                     positions=[[3.0, 4.0]] if delay == "spatial" else None)
    if delay == "spatial":
        # distance 5, 5 * 1.3 + 0.6 = 7.1 -> 7 steps
        kwargs = dict(delay=SpatialDelay(scale=1.3, offset=0.6,
                                         max_delay_steps=10))
    elif delay is None:
        kwargs = {}
    else:
        kwargs = dict(delay=np.full((1, 1), delay), max_delay_steps=10)
    conn = Connection(inp, out, [[weight]], TAU_SYN, **kwargs)
    return Network([inp, out], [conn]), EventProp(timesteps, dt=dt)


@pytest.mark.parametrize("delay, delay_steps", [
    (None, 0), (0, 0), (1, 1), (7, 7), (6.5, 7), ("spatial", 7)])
def test_spike_arrives_delay_plus_one_steps_later(delay, delay_steps):
    weight = 0.5
    dt = 0.1
    network, model = _single_synapse(delay, weight, dt)
    spike_step = 5
    record = model.forward(network, [([spike_step * dt], [0])], [0],
                           record_v=True)
    v = record.v["output"][:, 0, 0]
    arrival = spike_step + 1 + delay_steps
    # GeNN: emitted in step s, delivered by the synapse update of step s + 1
    # into dendritic delay slot +d, read by the neuron update of s + 1 + d
    assert np.all(v[:arrival] == 0.0)
    alpha = np.exp(-dt / TAU_MEM)
    i_scale = (TAU_SYN / dt) * (1.0 - np.exp(-dt / TAU_SYN))
    assert v[arrival] == pytest.approx((1.0 - alpha) * weight * i_scale,
                                       rel=1e-12)
    # the synaptic current then decays with exp(-dt / tau_syn)
    beta = np.exp(-dt / TAU_SYN)
    expected_next = (alpha * v[arrival]
                     + (1.0 - alpha) * weight * i_scale * beta)
    assert v[arrival + 1] == pytest.approx(expected_next, rel=1e-12)


def test_last_timestep_has_no_synaptic_input():
    # mlGeNN zeroes inSyn and the delay buffer at the start of the last step
    # (ZeroOutPost); a spike emitted two steps before the end still arrives
    dt = 0.1
    network, model = _single_synapse(None, 0.5, dt, timesteps=20)
    early = model.forward(network, [([0.5], [0])], [0], record_v=True)
    v = early.v["output"][:, 0, 0]
    alpha = np.exp(-dt / TAU_MEM)
    assert v[-1] == pytest.approx(alpha * v[-2], rel=1e-12)
    late = model.forward(network, [([18 * dt], [0])], [0], record_v=True)
    v = late.v["output"][:, 0, 0]
    i_scale = (TAU_SYN / dt) * (1.0 - np.exp(-dt / TAU_SYN))
    assert v[18] == 0.0
    assert v[19] == pytest.approx((1.0 - alpha) * 0.5 * i_scale, rel=1e-12)


def test_input_spike_steps_follow_genn():
    dt = 0.1
    times = np.array([0.3, 0.30001, 0.0, 1.0, 1.0, 1.0])
    ids = np.array([0, 1, 2, 3, 3, 3])
    steps, out_ids = input_spike_steps(times, ids, 4, dt)
    by_neuron = {i: sorted(steps[out_ids == i].tolist()) for i in range(4)}
    # float32: 3 * 0.1f >= 0.3f holds, so a spike at 0.3 ms fires in step 3
    assert np.float32(3) * np.float32(dt) >= np.float32(0.3)
    assert by_neuron[0] == [3]
    assert by_neuron[1] == [4]
    assert by_neuron[2] == [0]
    # one spike per neuron per step: coincident spikes slip to later steps
    assert by_neuron[3] == [10, 11, 12]


# ----------------------------------------------------------------------------
# (4) Batch vectorisation
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("readout", ["first_spike_time", "sum_var"])
def test_batch_equals_single_trials(readout):
    network = _network(readout, True, 5, delay="spatial")
    # mix delay modes: per-synapse delays on the recurrent connection
    rec = network.connection("hidden_hidden")
    network.connections[2] = Connection(
        rec.source, rec.target, rec.weight, TAU_SYN,
        delay=np.random.default_rng(0).integers(0, 30, (5, 5)),
        max_delay_steps=40, name="hidden_hidden")
    network = Network(network.populations, network.connections)
    model = _model()
    trains = _trains(9, n_trials=4, hi=8.0)
    labels = np.array([0, 2, 1, 1])
    batch = model.run(network, trains, labels)
    singles = [model.run(network, [trains[b]], labels[b:b + 1], num_batch=4)
               for b in range(4)]
    hidden_trains = batch.record.spike_trains("hidden")
    for b, single in enumerate(singles):
        np.testing.assert_array_equal(batch.readout[b], single.readout[0])
        np.testing.assert_allclose(
            hidden_trains[b][0], single.record.spikes["hidden"].step * DT)
        assert batch.record.trial_loss[b] == single.record.trial_loss[0]
        for name, events in batch.record.spikes.items():
            own = events.batch == b
            np.testing.assert_array_equal(events.step[own],
                                          single.record.spikes[name].step)
            np.testing.assert_array_equal(events.id[own],
                                          single.record.spikes[name].id)
    assert batch.loss == pytest.approx(sum(s.loss for s in singles),
                                       rel=1e-12)
    for kind in ("weight", "delay", "position"):
        for name, grad in getattr(batch.gradients, kind).items():
            total = sum(getattr(s.gradients, kind)[name] for s in singles)
            np.testing.assert_allclose(grad, total, rtol=1e-10,
                                       atol=1e-14 * np.abs(total).max())
    # one weight set per trial, all equal, gives the same batch
    weights = {c.name: np.repeat(c.weight[None], 4, axis=0)
               for c in network.connections}
    per_trial = model.forward(network, trains, labels, weights=weights)
    np.testing.assert_allclose(per_trial.readout, batch.readout, rtol=1e-12)


def test_mask_removes_synapses():
    dense = _network("first_spike_time", True, 5, delay="spatial")
    mask = np.random.default_rng(1).random((5, 5)) < 0.5
    rec = dense.connection("hidden_hidden")
    rec.weight = np.where(mask, rec.weight, 0.0)
    masked = Network(dense.populations, dense.connections[:2] + [
        Connection(rec.source, rec.target, rec.weight, TAU_SYN,
                   delay=rec.spatial, mask=mask, name="hidden_hidden")])
    model = _model()
    trains = _trains(5, n_trials=4, hi=8.0)
    labels = np.array([0, 1, 2, 0])
    with_zeros = model.run(dense, trains, labels)
    sparse = model.run(masked, trains, labels)
    np.testing.assert_array_equal(sparse.readout, with_zeros.readout)
    # absent synapses have no gradient; present ones the dense gradient
    grad = sparse.gradients.weight["hidden_hidden"]
    assert np.all(grad[~mask] == 0.0)
    assert np.any(with_zeros.gradients.weight["hidden_hidden"][~mask] != 0)
    np.testing.assert_array_equal(
        grad[mask], with_zeros.gradients.weight["hidden_hidden"][mask])
    # zero weights already give zero DelayGradient: positions agree
    for name, position in sparse.gradients.position.items():
        np.testing.assert_array_equal(
            position, with_zeros.gradients.position[name])


# ----------------------------------------------------------------------------
# (5) Training
# ----------------------------------------------------------------------------
def test_adam_matches_mlgenn_update():
    adam = Adam(alpha=0.1, beta1=0.8, beta2=0.9, epsilon=1e-3)
    x = np.array([1.0, -2.0])
    state = adam.init_state(x.shape)
    grads = [np.array([0.5, -1.0]), np.array([0.2, 0.4])]
    m = np.zeros(2)
    v = np.zeros(2)
    expected = x.copy()
    for step, g in enumerate(grads):
        adam.update(x, g, state, step)
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        expected = expected - (0.1 * m / (1 - 0.8 ** (step + 1))) / (
            np.sqrt(v / (1 - 0.9 ** (step + 1))) + 1e-3)
        np.testing.assert_allclose(x, expected, rtol=1e-14)


def test_training_reduces_loss():
    rng = np.random.default_rng(3)
    n_examples = 48
    # Two classes told apart by which of two inputs spikes first
    labels = rng.integers(0, 2, n_examples)
    trains = []
    for label in labels:
        early, late = rng.uniform(1.0, 4.0), rng.uniform(8.0, 12.0)
        times = [early, late] if label == 0 else [late, early]
        trains.append((np.array(times), np.array([0, 1])))
    inp = Population(SpikeInput(), 2, "input",
                     positions=rng.uniform(-1, 1, (2, 2)))
    hid = Population(LeakyIntegrateFire(tau_mem=TAU_MEM), 8, "hidden",
                     positions=rng.uniform(-1, 1, (8, 2)))
    out = Population(LeakyIntegrate(tau_mem=TAU_MEM, readout="sum_var"), 2,
                     "output")
    spatial = SpatialDelay(scale=10.0, max_delay_steps=40, eps=0.01)
    network = Network([inp, hid, out], [
        Connection(inp, hid, rng.normal(6.0, 2.0, (2, 8)), TAU_SYN,
                   delay=spatial),
        Connection(hid, out, rng.normal(0.0, 0.01, (8, 2)), TAU_SYN)])
    model = EventProp(150, dt=0.1)

    before, _ = evaluate(network, model, trains, labels, batch_size=16)
    start_positions = hid.positions.copy()
    history = train(network, model, trains, labels, num_epochs=6,
                    batch_size=16, optimiser=Adam(0.05),
                    position_optimiser=Adam(0.05),
                    position_bounds=Space(2, bounds=(-1.0, 1.0)),
                    rng=0)
    after, accuracy = evaluate(network, model, trains, labels, batch_size=16)
    print(f"\nloss {before:.4f} -> {after:.4f}, accuracy {accuracy:.2f}, "
          f"epochs {np.round(history['loss'], 4).tolist()}")
    assert after < 0.5 * before
    assert history["loss"][-1] < history["loss"][0]
    assert not np.allclose(hid.positions, start_positions)
    assert np.all(np.abs(hid.positions) <= 1.0)


def test_delay_learning_keeps_delays_in_range():
    network = _network("first_spike_time", False, 2, delay="steps")
    start = {c.name: c.delay.copy() for c in network.connections}
    weights = {c.name: c.weight.copy() for c in network.connections}
    trains = _trains(7, n_trials=16)
    labels = np.arange(16) % 3
    train(network, _model(), trains, labels, num_epochs=1, batch_size=8,
          optimiser=Adam(0.0), delay_optimiser=Adam(2.0), rng=1)
    for c in network.connections:
        assert not np.allclose(c.delay, start[c.name])
        assert np.all((c.delay >= 0.0) & (c.delay <= c.max_delay_steps))
        # a zero learning rate leaves the weights as they were
        np.testing.assert_array_equal(c.weight, weights[c.name])


def test_max_spikes_tapes_first_spikes_only():
    # one input spike into a strongly driven neuron: a burst of spikes
    inp = Population(SpikeInput(), 1, "input")
    hid = Population(LeakyIntegrateFire(), 1, "hidden")
    out = Population(LeakyIntegrate(readout="sum_var"), 2, "output")
    network = Network([inp, hid, out], [
        Connection(inp, hid, [[40.0]], TAU_SYN),
        Connection(hid, out, [[0.01, -0.01]], TAU_SYN)])
    trains = [([0.5], [0])]
    full = EventProp(200, dt=0.1).run(network, trains, [0])
    capped = EventProp(200, dt=0.1, max_spikes=3).run(network, trains, [0])
    spikes = capped.record.spikes["hidden"]
    assert len(spikes) >= 3
    assert np.all(full.record.spikes["hidden"].taped)
    # mlGeNN's ring buffer holds max_spikes - 1 spikes in the first batch
    np.testing.assert_array_equal(spikes.taped,
                                  np.arange(len(spikes)) < 2)
    # the forward pass is unchanged, the untaped spikes send no gradient
    np.testing.assert_array_equal(capped.readout, full.readout)
    assert not np.allclose(capped.gradients.weight["input_hidden"],
                           full.gradients.weight["input_hidden"])


# ----------------------------------------------------------------------------
# Errors a user can hit
# ----------------------------------------------------------------------------
def test_user_errors():
    inp = Population(SpikeInput(), 2, "input")
    hid = Population(LeakyIntegrateFire(), 2, "hidden")
    out = Population(LeakyIntegrate(), 2, "output")
    with pytest.raises(NotImplementedError, match="tau_syn"):
        Network([inp, hid, out], [
            Connection(inp, hid, np.ones((2, 2)), 5.0),
            Connection(hid, hid, np.ones((2, 2)), 3.0),
            Connection(hid, out, np.ones((2, 2)), 5.0)])
    network = Network([inp, hid, out], [
        Connection(inp, hid, np.ones((2, 2)), 5.0, delay=np.ones((2, 2)),
                   max_delay_steps=3),
        Connection(hid, out, np.ones((2, 2)), 5.0)])
    model = EventProp(10, dt=1.0)
    with pytest.raises(ValueError, match="outside"):
        model.forward(network, [([1.0], [0])], [0],
                      delays={"input_hidden": np.full((2, 2), 4)})
    with pytest.raises(ValueError, match="no delay buffer"):
        model.forward(network, [([1.0], [0])], [0],
                      delays={"hidden_output": np.zeros((2, 2), int)})
    with pytest.raises(ValueError, match="labels"):
        model.forward(network, [([1.0], [0])], [5])
    # EventProp divides by tau_syn - tau_mem
    hid5 = Population(LeakyIntegrateFire(tau_mem=5.0), 2, "hidden")
    with pytest.raises(ValueError, match="tau_mem == tau_syn in 'hidden'"):
        Network([inp, hid5, out], [
            Connection(inp, hid5, np.ones((2, 2)), 5.0),
            Connection(hid5, out, np.ones((2, 2)), 5.0)])


# ----------------------------------------------------------------------------
# Timing: a Yin-Yang batch
# ----------------------------------------------------------------------------
def test_yin_yang_batch_timing():
    """32 trials of a 5-100-3 LIF network with spatial delays, 3000 steps of
    0.01 ms: forward plus backward must take seconds, not minutes."""
    rng = np.random.default_rng(0)
    from ml_genn_spatial.datasets import (encode_latency,
                                          spike_trains_from_dense, yin_yang)
    features, labels = yin_yang(32, seed=1)
    trains = spike_trains_from_dense(encode_latency(features,
                                                    bias_time=0.02))
    inp = Population(SpikeInput(), 5, "input",
                     positions=rng.uniform(-1, 1, (5, 2)))
    hid = Population(LeakyIntegrateFire(tau_mem=20.0), 100, "hidden",
                     positions=rng.uniform(-1, 1, (100, 2)))
    out = Population(LeakyIntegrateFire(tau_mem=20.0,
                                        readout="first_spike_time"), 3,
                     "output", positions=rng.uniform(-1, 1, (3, 2)))
    spatial = SpatialDelay(scale=50.0, max_delay_steps=150, eps=0.01)
    network = Network([inp, hid, out], [
        Connection(inp, hid, rng.normal(1.5, 0.78, (5, 100)), 5.0,
                   delay=spatial),
        Connection(hid, out, rng.normal(0.93, 0.1, (100, 3)), 5.0,
                   delay=spatial)])
    model = EventProp(3000, dt=0.01, ttfs_alpha=0.1)
    start = time.perf_counter()
    result = model.run(network, trains, labels)
    elapsed = time.perf_counter() - start
    n_spikes = len(result.record.spikes["hidden"])
    print(f"\nYin-Yang batch of 32 (5-100-3, 3000 steps, spatial delays): "
          f"forward + backward {elapsed:.2f} s, {n_spikes} hidden spikes")
    assert np.isfinite(result.loss)
    assert all(np.all(np.isfinite(g)) for g in result.gradients.position
               .values())
    assert elapsed < 20.0


# ----------------------------------------------------------------------------
# Bad arguments are refused at construction, naming the argument
# ----------------------------------------------------------------------------
def _bad_reference_calls():
    from ml_genn_spatial import reference as ref
    nan, inf = float("nan"), float("inf")

    def network():
        inp = ref.Population(ref.SpikeInput(), 2, "in")
        out = ref.Population(ref.LeakyIntegrate(), 2, "out")
        return ref.Network([inp, out], [ref.Connection(inp, out,
                                                       np.ones((2, 2)))])

    def train(**kwargs):
        args = dict(num_epochs=1, batch_size=1)
        args.update(kwargs)
        ref.train(network(), ref.EventProp(5), [(np.zeros(1), np.zeros(
            1, int))], [0], **args)

    return [
        ("scale", lambda: ref.SpatialDelay(-1.0, 10)),
        ("scale", lambda: ref.SpatialDelay(nan, 10)),
        ("offset", lambda: ref.SpatialDelay(1.0, 10, offset=-0.5)),
        ("offset", lambda: ref.SpatialDelay(1.0, 10, offset=inf)),
        ("eps", lambda: ref.SpatialDelay(1.0, 10, eps=-1.0)),
        ("max_delay_steps", lambda: ref.SpatialDelay(1.0, -1)),
        ("max_delay_steps", lambda: ref.SpatialDelay(1.0, 2.5)),
        ("alpha", lambda: ref.Adam(-0.1)),
        ("alpha", lambda: ref.Adam(nan)),
        ("beta1", lambda: ref.Adam(beta1=1.0)),
        ("beta2", lambda: ref.Adam(beta2=-0.1)),
        ("epsilon", lambda: ref.Adam(epsilon=0.0)),
        ("dt", lambda: ref.EventProp(10, dt=inf)),
        ("dt", lambda: ref.EventProp(10, dt=-1.0)),
        ("example_timesteps", lambda: ref.EventProp(2.5)),
        ("ttfs_alpha", lambda: ref.EventProp(10, ttfs_alpha=-1.0)),
        ("softmax_temperature",
         lambda: ref.EventProp(10, softmax_temperature=0.0)),
        ("reg_lambda_upper", lambda: ref.EventProp(10, reg_lambda_upper=-1)),
        ("reg_nu_upper", lambda: ref.EventProp(10, reg_nu_upper=nan)),
        ("max_spikes", lambda: ref.EventProp(10, max_spikes=0)),
        ("tau_mem", lambda: ref.LeakyIntegrateFire(tau_mem=-5.0)),
        ("tau_refrac", lambda: ref.LeakyIntegrateFire(tau_refrac=0.0)),
        ("tau_refrac", lambda: ref.LeakyIntegrateFire(tau_refrac=inf)),
        ("tau_syn", lambda: ref.Connection(
            ref.Population(ref.SpikeInput(), 1, "a"),
            ref.Population(ref.LeakyIntegrate(), 1, "b"), [[1.0]],
            tau_syn=0.0)),
        ("wiring_cost", lambda: ref.Connection(
            ref.Population(ref.SpikeInput(), 1, "a", positions=[[0.0]]),
            ref.Population(ref.LeakyIntegrate(), 1, "b", positions=[[1.0]]),
            [[1.0]], delay=ref.SpatialDelay(1.0, 4), wiring_cost=-1.0)),
        ("num_epochs", lambda: train(num_epochs=0)),
        ("batch_size", lambda: train(batch_size=1.5)),
        ("position_optimiser", lambda: train(position_optimiser=0.1)),
    ]


@pytest.mark.parametrize("culprit, call", _bad_reference_calls(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_reference_api_refuses_bad_values_naming_them(culprit, call):
    with pytest.raises(ValueError, match=culprit):
        call()
