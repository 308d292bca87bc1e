"""NumPy reference of mlGeNN's EventProp with (spatial) synaptic delays.

This is the oracle the GeNN backend is compared against number for number:
a batch-vectorised forward pass and adjoint (backward) pass written to
follow, step by step, the discrete updates that mlGeNN 2.4.0's
``EventPropCompiler`` generates for GeNN 5.4.0. Line numbers ``EP:n`` below
refer to ``ml_genn/compilers/event_prop_compiler.py`` of mlGeNN 2.4.0.

Timestep order (GeNN's ``stepTime``: ``updateSynapses`` then
``updateNeurons``; checked in GeNN's ``generateRunner.cc`` and
``neuronUpdateGroupMerged.cc``)
-------------------------------------------------------------------------
Forward, step ``s = 0 .. T-1`` (``t = s * dt``):

1. At the start of step ``T-1`` mlGeNN's ``ZeroOutPost`` custom update
   (``CustomUpdateOnTimestepBegin``, EP:1464-1470) zeroes every synapse
   group's ``inSyn`` and its whole dendritic delay buffer (``DenDelay`` is a
   BROADCAST reference, so every slot).
2. Synapse update: spikes emitted in step ``s-1`` are delivered.
   ``addToPost(g)`` adds to ``inSyn``; ``addToPostDelay(g, d)`` adds to
   delay slot ``(ptr + d) % (max_delay + 1)`` after GeNN has advanced
   ``ptr`` for this step. Either way a spike emitted in step ``s`` is first
   felt by the postsynaptic neuron in step ``s + 1 + d``.
3. Neuron update: ``inSyn += DenDelay[ptr]`` (slot zeroed), then the
   exponential synapse (``Exponential`` with EventProp's ``scale_i=True``,
   ``default_params``, EP:87-95) ``Isyn = inSyn * IScale;
   inSyn *= ExpDecay`` with ``IScale = (tau_syn / dt)(1 - exp(-dt /
   tau_syn))``, then ``V = Alpha V + (1 - Alpha) Isyn (+ Bias)`` with ``Alpha =
   exp(-dt / tau_mem)``, readout accumulation (``VSum += V``,
   ``VAvg += V / T``, ``VAvg += exp(-t / (T dt)) V / T``), threshold
   ``V >= Vthresh``, and for a spike (reset code, EP:1003-1008 / 1194-1199,
   written before ``V = Vreset``) the tape entries ``RingSpikeTime = t`` and
   ``RingIMinusV = Isyn * IsynScale - V`` with ``IsynScale = dt / (tau_syn
   (1 - Beta))``, and ``TFirstSpike = fmax(-t, TFirstSpike)``.

Backward, the next trial's steps ``r = 0 .. T-1`` (``backT = T dt - r dt -
dt``, so backward step ``r`` mirrors forward step ``T-1-r``):

1. Synapse update: for every presynaptic neuron whose ``BackSpike`` was set
   in step ``r-1`` (its spike in forward step ``s = T-1-r``), the pre-event
   code runs: ``Gradient -= LambdaI_post[d] * TauSyn``,
   ``DelayGradient -= g (LambdaI_post[d] - LambdaV_post[d])`` (EP:131-135,
   ``d = clamp(round(d), 0, MaxDelay)``; fixed delays: EP:231-232)
   and, when the source is a LIF population,
   ``addToPre(g (LambdaV_post[d] - LambdaI_post[d]))`` into the source's
   ``RevISyn`` (EP:1310-1325; feedback target EP:1335). ``X_post[d]``
   reads the target's value written ``d`` neuron updates before the latest
   one (GeNN's ``getPostVarHetDelayIndex``: slot ``(ptr + slots - d) %
   slots``, read before this step's neuron update advances ``ptr``); values
   from before
   the backward pass started are zero (the reset custom update writes
   LambdaI / LambdaV to every delay slot: BROADCAST access).
2. Neuron update, in this order (template EP:165-189; dynamics and
   transition: hidden EP:1104-1106 and 1180-1189, time-to-first-spike
   output EP:904-926, LeakyIntegrate output EP:651-657 after the drive of
   EP:738-747 / 761-770 and ``scalar drive = 0.0`` EP:817-824):
   the lambda decay (``dynamics``), the jump of a neuron whose ``BackSpike``
   is set (``transition``, using ``RevISyn`` of this step), then
   ``BackSpike`` is set for the spike in forward step ``s = T-2-r`` ("the
   time step before", EP:183-186).

A spike in the last forward step ``T-1`` therefore never reaches the
backward pass, exactly as in mlGeNN.

Interpretations and deviations (each a deliberate choice)
---------------------------------------------------------
* Each call simulates isolated trials: state starts at zero. mlGeNN runs
  trials back to back, so a spike emitted in step ``T-1`` (or a delayed
  spike emitted in step ``T-2``) of one batch reaches the next batch's first
  steps; the reference drops those, which equals mlGeNN's first batch.
* mlGeNN runs the backward pass of batch ``n`` during the forward pass of
  batch ``n+1``, with the weights as they are then (one optimiser step
  newer than those of batch ``n``'s forward pass, EP:1449-1459); the
  reference runs it right after the forward pass with the same weights.
  For given weights the numbers are those mlGeNN accumulates.
* ``max_spikes`` (mlGeNN's tape length per neuron) is None (unbounded) by
  default. When given, only the first ``max_spikes - 1`` spikes of a neuron
  in a trial are taped (back-propagated): the capacity mlGeNN's ring buffer
  has in the first batch. Later batches share the ring with the previous
  batch's tape, which the reference does not model.
* ``num_batch`` (GeNN's batch size, used by the readout drive, the TTFS
  terms and the regulariser) defaults to the number of trials given; mlGeNN
  keeps the compiled batch size for a short last batch: pass it explicitly.
* Input spike times are converted to steps with GeNN's float32 test
  ``t >= SpikeTimes[i]`` (``t = float(step) * float(dt)``); one spike per
  neuron per step, later ones slip to the next step (``SpikeInput``).
* Arithmetic is float64 by default; ``dtype=np.float32`` keeps the state
  and adjoint in float32 like GeNN's ``scalar`` (constants computed in
  double and rounded, as mlGeNN writes them). In float64 expect agreement
  with GeNN to float32 rounding, and rare single-step spike shifts where a
  voltage sits within float32 rounding of the threshold. Checked against
  mlGeNN 2.4.0 / GeNN 5.4.0 (CPU backend, batch 1) outside this package:
  with ``dtype=np.float32`` every spike step was identical and Gradient /
  DelayGradient agreed to float32 rounding (relative error <= 1e-5) for
  sum_var, avg_var, avg_var_exp_weight and first_spike_time outputs,
  recurrent connections, learnable per-synapse delays, the spike-count
  regulariser and a short ``max_spikes``.
* The reference uses integer step indices for mlGeNN's float comparisons
  ``fabs(backT - RingSpikeTime - dt) < 1e-3 dt`` (EP:184) and
  ``fabs(backT + TFirstSpikeBack) < 1e-3 dt`` (EP:918).
* Time-to-first-spike softmax: mlGeNN's batch softmax custom update is
  created without a temperature (EP:1402, ``Temp = 1``) while the jump
  divides by ``softmax_temperature`` (EP:921-924); mirrored as is, so the
  gradient is that of the loss below only for ``softmax_temperature = 1``.
* Loss values (mlGeNN computes none; these are the losses its adjoint
  differentiates, averaged with ``1 / num_batch``):
  - LeakyIntegrate output: ``-log softmax(Y)_label`` with ``Y`` the readout
    (VSum / VAvg). mlGeNN's drive ``g / (TauM num_batch T dt)`` (EP:684,
    745, 768) makes ``Gradient`` approximate ``dL/dw / (tau_mem T)`` for
    ``sum_var`` and ``dL/dw / tau_mem`` for ``avg_var`` (``tau_mem`` in
    ms, ``T`` in timesteps; continuous limit, checked by the tests).
  - first_spike_time output: ``-log softmax(-t)_label + ttfs_alpha /
    (1.01 T dt - t_label)`` with ``t`` the first spike times (EP:915-925;
    ``Gradient`` approximates ``dL/dw``). A neuron that never fires counts
    as firing at ``T dt`` in the loss value (mlGeNN's gradient gives it
    softmax weight 0 and, if it is the label, the phantom-spike term
    ``ttfs_alpha / (0.0001 (T dt)^2) / num_batch`` on LambdaV, EP:894-910).
* Sign: ``Gradient`` (and ``DelayGradient``) is what mlGeNN's Adam
  *subtracts* (``Variable -= alpha M / ...``, optimisers/adam.py), i.e. it
  estimates ``+dL/dw`` (``+dL/d delay``); the reference returns exactly
  those quantities.
* Delay units: ``DelayGradient`` approximates ``dL/d(delay)`` with the
  delay measured in ms, i.e. ``(1 / dt) dL/d(delay [timesteps])``, times
  the readout factor above, although mlGeNN's ``d`` is in timesteps. The
  position gradients are the chain rule of ``DelayGradient`` with the
  delay in ms, ``dt * scale`` ms per space unit
  (:func:`ml_genn_spatial.gradients.position_gradients` times ``dt``, as
  the GeNN backend computes them): ``dL/dx`` itself, times the readout
  factor, so a wiring cost adds to them in the same units.
* Spike-count regulariser (EP:1116-1170): at every taped hidden spike
  ``LambdaV -= RegLambda (SpikeCountBackBatch - RegNuUpperBatch)`` with the
  batch-summed spike count of the previous trial, ``RegNuUpperBatch =
  int(reg_nu_upper num_batch)`` and ``RegLambda = reg_lambda /
  num_batch^2``.
* The LIF jump uses ``Vthresh * LambdaV`` (EP:917, 1106): exact only for
  ``v_reset = 0``; the reference mirrors it for any ``v_reset``.
* Refractoriness (``tau_refrac``) as mlGeNN's LIF sim code with
  ``integrate_during_refrac=False`` (EventProp's default): while
  ``RefracTime > 0`` it counts down by ``dt`` and ``V`` is held, the
  threshold also needs ``RefracTime <= 0`` and a spike sets ``RefracTime =
  TauRefrac``. mlGeNN's adjoint ignores refractoriness and so does the
  reference's. That is exact when the refractory period outlasts the trial
  (a neuron spikes at most once and is then held at ``v_reset = 0``):
  after its spike nothing reaches the loss through the neuron, and its
  lambdas are zero there too, since only its own spike's jump drives them;
  so the jump's ``Vthresh * LambdaV`` term, which a held voltage would not
  have, is zero. For shorter periods the gradients are approximate.
* Not modelled: the per-timestep losses (``per_timestep_loss``), MaxVar /
  Var readouts, the RelativeMeanSquareError and MeanSquareError losses,
  DEEP R, and connections out of the output population.
"""
import numbers

import numpy as np

from ..geometry import check_finite_scalar
from ..gradients import (position_gradients, wiring_cost,
                         wiring_cost_gradients)
from .network import LeakyIntegrate, LeakyIntegrateFire, Network

#: mlGeNN's initial (and "never fired") value of ``TFirstSpike``:
#: ``np.finfo(np.float32).min`` (readouts/first_spike_time.py)
T_FIRST_SPIKE_NONE = float(np.finfo(np.float32).min)

# Events per chunk when gathering adjoint histories for gradients
_CHUNK_ELEMENTS = 1 << 21

_INPUT, _HIDDEN, _LIF_OUT, _LI_OUT = "input", "hidden", "lif_out", "li_out"


# ----------------------------------------------------------------------------
# Input spikes
# ----------------------------------------------------------------------------
def input_spike_steps(times, ids, num_neurons: int, dt: float):
    """Timesteps at which mlGeNN's ``SpikeInput`` emits given spikes.

    GeNN emits a neuron's next spike in the first step with
    ``float32(step) * float32(dt) >= float32(time)`` and at most one spike
    per neuron per step (the next one slips to the following step).

    Args:
        times:  Spike times [ms], shape ``(n,)``
        ids:    Neuron indices, shape ``(n,)``
        num_neurons: Size of the input population
        dt:     Timestep [ms]

    Returns:
        ``(steps, ids)`` int64 arrays, sorted by neuron then step
    """
    times = np.asarray(times, dtype=np.float64).ravel()
    ids = np.asarray(ids).ravel()
    if times.shape != ids.shape:
        raise ValueError(f"times and ids must have one entry per spike, "
                         f"got {times.shape} and {ids.shape}")
    if ids.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"spike ids must be integers, not {ids.dtype}")
    if ids.min() < 0 or ids.max() >= num_neurons:
        raise ValueError(f"spike ids must lie in [0, {num_neurons})")
    if not np.all(np.isfinite(times)) or times.min() < 0.0:
        raise ValueError("spike times must be finite and >= 0 ms")
    order = np.lexsort((times, ids))
    times32 = times[order].astype(np.float32)
    ids = ids[order].astype(np.int64)
    dt32 = np.float32(dt)

    # First step whose float32 time reaches the spike time
    steps = np.maximum(np.ceil(times32.astype(np.float64)
                               / np.float64(dt32)) - 2.0, 0.0)
    for _ in range(4):
        late = (steps.astype(np.float32) * dt32) < times32
        steps = steps + late
    steps = steps.astype(np.int64)

    # One spike per neuron per step: step_k = k + cummax_{j<=k}(s_j - j)
    # within each neuron's (time-sorted) spikes
    first = np.r_[True, ids[1:] != ids[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(ids.size),
                                                 0))
    rank = np.arange(ids.size) - group_start
    span = int(steps.max() + ids.size + 1)
    shifted = steps - rank + ids * span
    steps = np.maximum.accumulate(shifted) - ids * span + rank
    return steps, ids


def spike_raster(trains, num_neurons: int, example_timesteps: int,
                 dt: float) -> np.ndarray:
    """Boolean raster of the steps at which input neurons spike.

    Args:
        trains: One ``(times [ms], ids)`` pair per trial (the format of
                :mod:`ml_genn_spatial.datasets`)
        num_neurons: Size of the input population
        example_timesteps: Timesteps per trial T
        dt:     Timestep [ms]

    Returns:
        bool array of shape ``(T, n_trials, num_neurons)``; spikes due at or
        after step T are not emitted in the trial
    """
    raster = np.zeros((example_timesteps, len(trains), num_neurons),
                      dtype=bool)
    for b, (times, ids) in enumerate(trains):
        steps, ids = input_spike_steps(times, ids, num_neurons, dt)
        keep = steps < example_timesteps
        raster[steps[keep], b, ids[keep]] = True
    return raster


# ----------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------
class SpikeEvents:
    """Spikes of one population in one batch, in step order.

    Attributes:
        step:       Forward timestep of each spike, int64 ``(n,)``
        batch:      Trial index within the batch, int64 ``(n,)``
        id:         Neuron index, int64 ``(n,)``
        i_minus_v:  ``Isyn * IsynScale - V`` at the spike (LIF only), or None
        taped:      bool ``(n,)``: stored on mlGeNN's tape (back-propagated)
    """

    def __init__(self, step, batch, ids, i_minus_v, taped):
        self.step = step
        self.batch = batch
        self.id = ids
        self.i_minus_v = i_minus_v
        self.taped = taped

    def __len__(self):
        return len(self.step)


class ForwardRecord:
    """Everything a forward pass produced and the backward pass needs.

    Attributes:
        readout:        Output readout ``(batch, n_out)``: VSum / VAvg, or
                        ``TFirstSpike`` (negated first spike time [ms],
                        ``T_FIRST_SPIKE_NONE`` where a neuron never fired)
        softmax:        mlGeNN's ``Softmax`` of the readout (temperature 1)
        labels:         Labels ``(batch,)`` or None
        trial_loss:     Per-trial loss ``(batch,)`` (see module docstring);
                        None without labels
        loss:           ``sum(trial_loss) / num_batch``; None without labels
        predictions:    ``argmax(readout)`` per trial
        accuracy:       Fraction of correct predictions; None without labels
        spikes:         ``{population name: SpikeEvents}``
        spike_count:    ``{population name: int array (batch, n)}``
        v:              ``{population name: float array (T, batch, n)}`` of
                        the voltage the threshold test sees (before the
                        reset; mlGeNN's ``VarRecorder`` shows ``v_reset``
                        in a spike's step), when ``record_v`` was set
        first_spike_step: First spike step ``(batch, n_out)`` of a
                        first_spike_time output (-1: none), else None
        batch_size:     Number of trials simulated
        num_batch:      Batch size used in the loss and adjoint scaling
        dt, example_timesteps: as simulated
    """

    def spike_trains(self, population: str):
        """Spikes of ``population`` as one ``(times [ms], ids)`` pair per
        trial (times ``step * dt``, sorted by time then id)."""
        events = self.spikes[population]
        trains = []
        for b in range(self.batch_size):
            sel = events.batch == b
            trains.append((events.step[sel] * self.dt,
                           events.id[sel].copy()))
        return trains


class Gradients:
    """Gradients of one batch, with mlGeNN's sign and scale (batch sums).

    Attributes:
        weight:     ``{connection name: (N_pre, N_post)}`` mlGeNN's
                    ``Gradient`` (+ the wiring-cost gradient)
        delay:      ``{connection name: (N_pre, N_post)}`` mlGeNN's
                    ``DelayGradient``, for connections with delays
        position:   ``{population name: (N, D)}`` per-neuron position
                    gradients summed over every spatial connection touching
                    the population (+ wiring cost)
        wiring_cost: Total wiring cost ``sum lambda |w| dist`` (float)
    """

    def __init__(self):
        self.weight = {}
        self.delay = {}
        self.position = {}
        self.wiring_cost = 0.0


class Result:
    """Forward record and gradients of one batch (:meth:`EventProp.run`)."""

    def __init__(self, record: ForwardRecord, gradients: Gradients):
        self.record = record
        self.gradients = gradients

    @property
    def loss(self):
        return self.record.loss

    @property
    def accuracy(self):
        return self.record.accuracy

    @property
    def readout(self):
        return self.record.readout


# ----------------------------------------------------------------------------
# Compiled form of a network for one batch
# ----------------------------------------------------------------------------
class _PopPlan:
    def __init__(self, pop, kind, tau_syn, dt, dtype):
        self.pop = pop
        self.name = pop.name
        self.kind = kind
        self.size = pop.size
        self.ring_size = 0
        if kind == _INPUT:
            return
        neuron = pop.neuron
        self.tau_syn = tau_syn
        # Exponential synapse (scale_i=True) and EventProp constants, with
        # mlGeNN's expressions (synapses/exponential.py, EP:635-642, 1086-1102)
        # (computed in double, then stored in the model's precision, as
        # mlGeNN computes parameters in Python and GeNN writes them as
        # scalar literals)
        self.exp_decay = dtype(np.exp(-dt / tau_syn))
        self.i_scale = dtype((tau_syn / dt) * (1.0 - np.exp(-dt / tau_syn)))
        self.alpha = dtype(np.exp(-dt / neuron.tau_mem))
        beta = np.exp(-dt / tau_syn)
        self.beta = dtype(beta)
        self.isyn_scale = dtype(dt / (tau_syn * (1.0 - beta)))
        if kind == _HIDDEN:
            self.a = dtype(neuron.tau_mem / (tau_syn - neuron.tau_mem))
        else:
            self.a = dtype(neuron.tau_mem / (neuron.tau_mem - tau_syn))
        self.tau_mem = dtype(neuron.tau_mem)
        if isinstance(neuron, LeakyIntegrateFire):
            self.v_thresh = dtype(neuron.v_thresh)
            self.v_reset = dtype(neuron.v_reset)
            self.tau_refrac = (None if neuron.tau_refrac is None
                               else dtype(neuron.tau_refrac))
        else:
            self.bias = dtype(neuron.bias)
        self.readout = neuron.readout


class _ConnPlan:
    def __init__(self, conn, src, tgt, weight, delay):
        self.conn = conn
        self.name = conn.name
        self.src = src
        self.tgt = tgt
        self.tau_syn = tgt.exp_decay.dtype.type(conn.tau_syn)
        self.weight = weight            # (N_pre, N_post) or (B, N_pre, N_post)
        self.delay = delay              # None or int, same shapes
        self.feedback = src.kind == _HIDDEN
        self.batched_weight = weight.ndim == 3
        self.batched_delay = delay is not None and delay.ndim == 3

    def weight_rows(self, b, i):
        return self.weight[b, i] if self.batched_weight else self.weight[i]

    def delay_rows(self, b, i):
        return self.delay[b, i] if self.batched_delay else self.delay[i]


def _check_override(conn, value, batch_size, what):
    value = np.asarray(value)
    if value.shape == conn.shape:
        return value
    if value.shape == (batch_size,) + conn.shape:
        return value
    raise ValueError(f"{what} override of {conn.name} must have shape "
                     f"{conn.shape} or {(batch_size,) + conn.shape}, "
                     f"not {value.shape}")


def _compile(network: Network, batch_size, weights, delays, dt, dtype):
    if not isinstance(network, Network):
        raise TypeError("network must be a reference Network")
    weights = {} if weights is None else dict(weights)
    delays = {} if delays is None else dict(delays)
    for name in list(weights) + list(delays):
        network.connection(name)

    pops = {}
    for p in network.populations:
        if p.is_input:
            kind = _INPUT
        elif p is network.output:
            kind = (_LIF_OUT if isinstance(p.neuron, LeakyIntegrateFire)
                    else _LI_OUT)
        else:
            if not isinstance(p.neuron, LeakyIntegrateFire):
                raise NotImplementedError(
                    f"hidden population {p.name!r} must be "
                    f"LeakyIntegrateFire (EventProp supports LIF hidden "
                    f"neurons only)")
            kind = _HIDDEN
        pops[p.name] = _PopPlan(p, kind, network.tau_syn.get(p.name), dt,
                                dtype)

    conns = []
    for c in network.connections:
        weight = c.weight
        if c.name in weights:
            weight = _check_override(c, weights[c.name], batch_size,
                                     "weight").astype(np.float64)
            if c.mask is not None:
                weight = np.where(c.mask, weight, 0.0)
        weight = weight.astype(dtype)
        delay = c.delay_steps()
        if c.name in delays:
            if delay is None:
                raise ValueError(f"delay override for {c.name}, which has "
                                 f"no delay buffer (delay=None)")
            delay = _check_override(c, delays[c.name], batch_size, "delay")
            if not np.issubdtype(delay.dtype, np.integer):
                raise ValueError(f"delay override of {c.name} must hold "
                                 f"integer timesteps")
            if delay.min() < 0 or delay.max() > c.max_delay_steps:
                raise ValueError(f"delay override of {c.name} outside "
                                 f"[0, {c.max_delay_steps}]")
            delay = delay.astype(np.int64)
        tgt = pops[c.target.name]
        if delay is not None:
            tgt.ring_size = max(tgt.ring_size, c.max_delay_steps + 1)
        conns.append(_ConnPlan(c, pops[c.source.name], tgt, weight, delay))
    order = [pops[p.name] for p in network.populations]
    return order, conns


def _events_by_step(events: SpikeEvents, example_timesteps):
    """Offsets of each step's taped events: step s spans
    ``offsets[s]:offsets[s+1]`` of the taped arrays."""
    taped = events.taped
    step = events.step[taped]
    offsets = np.searchsorted(step, np.arange(example_timesteps + 1))
    imv = None if events.i_minus_v is None else events.i_minus_v[taped]
    return step, events.batch[taped], events.id[taped], imv, offsets


def _row_sums(rows, values, n_rows):
    """Sum the rows of ``values`` (E, M) sharing a row index -> (n_rows, M)."""
    out = np.zeros((n_rows, values.shape[1]))
    if len(rows) == 0:
        return out
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    starts = np.r_[0, np.flatnonzero(rows[1:] != rows[:-1]) + 1]
    out[rows[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


# ----------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------
class EventProp:
    """NumPy reference of mlGeNN's ``EventPropCompiler`` (forward pass,
    discrete adjoint, gradients) for networks with delays.

    Args:
        example_timesteps:  Timesteps per trial T
        dt:                 Simulation timestep [ms]
        ttfs_alpha:         Weight of the time-to-first-spike regulariser
                            (mlGeNN's ``ttfs_alpha``)
        softmax_temperature: mlGeNN's ``softmax_temperature`` (divides the
                            time-to-first-spike jump only, see module notes)
        max_spikes:         Tape length per neuron (mlGeNN's
                            ``max_spikes``); None for unbounded
        reg_lambda_upper:   Spike-count regulariser strength above
                            ``reg_nu_upper`` (hidden LIF populations)
        reg_lambda_lower:   Regulariser strength at or below it
        reg_nu_upper:       Target spike count per neuron and trial
        dtype:              Precision of the state and adjoint variables:
                            ``np.float64`` (default) or ``np.float32``,
                            GeNN's ``scalar`` in mlGeNN, for spike-exact
                            comparisons (gradient sums are accumulated in
                            float64 either way)
    """

    def __init__(self, example_timesteps: int, dt: float = 1.0,
                 ttfs_alpha: float = 0.01, softmax_temperature: float = 1.0,
                 max_spikes: int = None, reg_lambda_upper: float = 0.0,
                 reg_lambda_lower: float = 0.0, reg_nu_upper: float = 0.0,
                 dtype=np.float64):
        if (isinstance(example_timesteps, (bool, np.bool_))
                or not isinstance(example_timesteps, numbers.Integral)
                or example_timesteps < 2):
            raise ValueError(f"example_timesteps must be an int >= 2, not "
                             f"{example_timesteps!r}")
        dt = check_finite_scalar(dt, "dt")
        if not dt > 0.0:
            raise ValueError(f"dt must be > 0 ms, not {dt!r}")
        if max_spikes is not None and (
                not isinstance(max_spikes, numbers.Integral)
                or max_spikes < 1):
            raise ValueError(f"max_spikes must be an int >= 1 or None, not "
                             f"{max_spikes!r}")
        self.example_timesteps = int(example_timesteps)
        self.dt = dt
        self.ttfs_alpha = check_finite_scalar(ttfs_alpha, "ttfs_alpha",
                                              minimum=0.0)
        self.softmax_temperature = check_finite_scalar(
            softmax_temperature, "softmax_temperature")
        if self.softmax_temperature <= 0.0:
            raise ValueError(f"softmax_temperature must be > 0, not "
                             f"{self.softmax_temperature}")
        self.max_spikes = None if max_spikes is None else int(max_spikes)
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be np.float32 or np.float64, not "
                             f"{dtype!r}")
        self.dtype = np.dtype(dtype).type
        self.reg_lambda_upper = check_finite_scalar(
            reg_lambda_upper, "reg_lambda_upper", minimum=0.0)
        self.reg_lambda_lower = check_finite_scalar(
            reg_lambda_lower, "reg_lambda_lower", minimum=0.0)
        self.reg_nu_upper = check_finite_scalar(reg_nu_upper, "reg_nu_upper",
                                                minimum=0.0)

    @property
    def example_time(self) -> float:
        """Trial duration ``T * dt`` [ms]."""
        return self.example_timesteps * self.dt

    @property
    def regulariser_enabled(self) -> bool:
        return self.reg_lambda_upper != 0.0 or self.reg_lambda_lower != 0.0

    # ------------------------------------------------------------------
    def _input_rasters(self, network, spikes):
        inputs = network.inputs
        if isinstance(spikes, dict):
            missing = {p.name for p in inputs} - set(spikes)
            if missing:
                raise ValueError(f"no spikes given for inputs "
                                 f"{sorted(missing)}")
            given = {p.name: spikes[p.name] for p in inputs}
        elif len(inputs) == 1:
            given = {inputs[0].name: spikes}
        else:
            raise ValueError("the network has several inputs: give spikes "
                             "as {input name: trains}")
        rasters = {}
        for p in inputs:
            data = given[p.name]
            if isinstance(data, np.ndarray) and data.ndim == 3:
                if (data.shape[0] != self.example_timesteps
                        or data.shape[2] != p.size):
                    raise ValueError(
                        f"spike raster of {p.name} must have shape "
                        f"({self.example_timesteps}, batch, {p.size}), not "
                        f"{data.shape}")
                rasters[p.name] = data.astype(bool)
            else:
                rasters[p.name] = spike_raster(data, p.size,
                                               self.example_timesteps,
                                               self.dt)
        sizes = {r.shape[1] for r in rasters.values()}
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError("every input must have the same number (>= 1) "
                             "of trials")
        return rasters, sizes.pop()

    # ------------------------------------------------------------------
    def forward(self, network: Network, spikes, labels=None,
                num_batch: int = None, record_v: bool = False,
                weights: dict = None, delays: dict = None) -> ForwardRecord:
        """Simulate one batch of isolated trials.

        Args:
            network:    The :class:`~ml_genn_spatial.reference.Network`
            spikes:     Input spikes: one ``(times [ms], ids)`` pair per
                        trial, or a bool raster ``(T, batch, n_in)``; a dict
                        ``{input name: ...}`` when there are several inputs
            labels:     Integer labels ``(batch,)``, or None (no loss)
            num_batch:  Batch size of the loss / adjoint scaling (default:
                        number of trials)
            record_v:   Record the pre-reset voltage of every population
            weights:    Optional ``{connection name: array}`` replacing the
                        weights, shape ``(N_pre, N_post)`` or one set per
                        trial ``(batch, N_pre, N_post)`` (e.g. to evaluate
                        many finite differences in one vectorised pass)
            delays:     Optional ``{connection name: int array}`` replacing
                        the integer delays [timesteps] of connections with a
                        delay buffer, shared or per trial like ``weights``

        Returns:
            :class:`ForwardRecord`
        """
        rasters, batch = self._input_rasters(network, spikes)
        dtype = self.dtype
        pops, conns = _compile(network, batch, weights, delays, self.dt,
                               dtype)
        T = self.example_timesteps
        dt = self.dt
        cap = None if self.max_spikes is None else self.max_spikes - 1

        state = {}
        for p in pops:
            if p.kind == _INPUT:
                continue
            st = {"v": np.zeros((batch, p.size), dtype),
                  "in_syn": np.zeros((batch, p.size), dtype)}
            if p.ring_size > 0:
                st["ring"] = np.zeros((batch, p.ring_size, p.size), dtype)
            if p.kind == _LI_OUT:
                st["readout"] = np.zeros((batch, p.size), dtype)
            if p.kind == _LIF_OUT:
                st["first_step"] = np.full((batch, p.size), -1, np.int64)
            if p.kind != _LI_OUT and p.tau_refrac is not None:
                st["refrac"] = np.zeros((batch, p.size), dtype)
            state[p.name] = st
        count = {p.name: np.zeros((batch, p.size), np.int64) for p in pops}
        ev = {p.name: ([], [], [], [], []) for p in pops}
        v_rec = ({p.name: np.zeros((T, batch, p.size), dtype) for p in pops
                  if p.kind != _INPUT} if record_v else None)
        prev = {p.name: np.zeros((batch, p.size), bool) for p in pops}
        inv_t = dtype(1.0 / T)
        local_t_scale = dtype(1.0 / (dt * T))
        dt_model = dtype(dt)

        for s in range(T):
            # GeNN: t = timestep * DT in the time precision (= scalar)
            t = dtype(s) * dt_model
            if s == T - 1:
                # ZeroOutPost at the start of the last timestep
                for st in state.values():
                    st["in_syn"][:] = 0.0
                    if "ring" in st:
                        st["ring"][:] = 0.0

            # Synapse update: deliver spikes emitted in step s - 1, adding
            # g to the target one spike after the other in neuron order
            # (np.add.at is unbuffered), as GeNN's addToPost does
            for c in conns:
                b, i = np.nonzero(prev[c.src.name])
                if len(b) == 0:
                    continue
                st = state[c.tgt.name]
                n_post = c.tgt.size
                cols = np.arange(n_post)[None, :]
                if c.delay is None:
                    target = st["in_syn"].reshape(-1)
                    flat = b[:, None] * n_post + cols
                else:
                    target = st["ring"].reshape(-1)
                    m = st["ring"].shape[1]
                    slot = (s + c.delay_rows(b, i)) % m
                    flat = (b[:, None] * m + slot) * n_post + cols
                np.add.at(target, flat.ravel(), c.weight_rows(b, i).ravel())

            # Neuron update
            new = {}
            for p in pops:
                if p.kind == _INPUT:
                    spk = rasters[p.name][s]
                    imv = None
                else:
                    st = state[p.name]
                    if "ring" in st:
                        slot = s % st["ring"].shape[1]
                        st["in_syn"] += st["ring"][:, slot]
                        st["ring"][:, slot] = 0.0
                    isyn = st["in_syn"] * p.i_scale
                    st["in_syn"] *= p.exp_decay
                    v = st["v"]
                    if p.kind == _LI_OUT:
                        v = (p.alpha * v) + ((1.0 - p.alpha) * isyn) + p.bias
                        st["v"] = v
                        if p.readout == "sum_var":
                            st["readout"] += v
                        elif p.readout == "avg_var":
                            st["readout"] += inv_t * v
                        else:
                            st["readout"] += (np.exp(-(t * local_t_scale))
                                              * inv_t * v)
                        if record_v:
                            v_rec[p.name][s] = v
                        spk = None
                    else:
                        refrac = st.get("refrac")
                        if refrac is None:
                            v = (p.alpha * v) + ((1.0 - p.alpha) * isyn)
                        else:
                            # mlGeNN's LIF sim code without integration
                            # while refractory
                            held = refrac > 0.0
                            refrac[held] -= dt_model
                            v = np.where(held, v, (p.alpha * v)
                                         + ((1.0 - p.alpha) * isyn))
                        if record_v:
                            v_rec[p.name][s] = v
                        spk = v >= p.v_thresh
                        if refrac is not None:
                            spk &= refrac <= 0.0
                            refrac[spk] = p.tau_refrac
                        imv = (isyn * p.isyn_scale - v)[spk]
                        v[spk] = p.v_reset
                        st["v"] = v
                        if p.kind == _LIF_OUT:
                            fs = st["first_step"]
                            fs[spk & (fs < 0)] = s
                if spk is None:
                    continue
                new[p.name] = spk
                b, n = np.nonzero(spk)
                if len(b):
                    e = ev[p.name]
                    taped = (np.ones(len(b), bool) if cap is None
                             else count[p.name][b, n] < cap)
                    count[p.name][b, n] += 1
                    e[0].append(np.full(len(b), s, np.int64))
                    e[1].append(b)
                    e[2].append(n)
                    e[3].append(imv)
                    e[4].append(taped)
            for name, spk in new.items():
                prev[name] = spk

        record = ForwardRecord()
        record.dt = dt
        record.example_timesteps = T
        record.batch_size = batch
        record.num_batch = batch if num_batch is None else int(num_batch)
        record.network = network
        record.plan = (pops, conns)
        record.spikes = {}
        for p in pops:
            if p.kind == _LI_OUT:
                continue
            e = ev[p.name]
            cat = (lambda k, kind: np.concatenate(e[k]) if e[k]
                   else np.zeros(0, kind))
            record.spikes[p.name] = SpikeEvents(
                cat(0, np.int64), cat(1, np.int64), cat(2, np.int64),
                None if p.kind == _INPUT else cat(3, dtype),
                cat(4, bool))
        record.dtype = dtype
        record.spike_count = {p.name: count[p.name] for p in pops
                              if p.kind != _LI_OUT}
        record.v = v_rec
        record.delay_overrides = set(delays or ())

        out = next(p for p in pops if p.kind in (_LI_OUT, _LIF_OUT))
        record.output = out
        record.first_spike_step = None
        if out.kind == _LI_OUT:
            readout = state[out.name]["readout"]
        else:
            first = state[out.name]["first_step"]
            record.first_spike_step = first
            # TFirstSpike = fmax(-t, TFirstSpike), t in the model precision
            readout = np.where(first >= 0,
                               -(first.astype(dtype) * dtype(dt)),
                               dtype(T_FIRST_SPIKE_NONE))
        record.readout = readout
        shifted = readout - readout.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        record.softmax = exp / exp.sum(axis=1, keepdims=True)
        record.predictions = np.argmax(readout, axis=1)
        self._set_loss(record, labels)
        return record

    def _set_loss(self, record, labels):
        record.labels = None
        record.trial_loss = record.loss = record.accuracy = None
        if labels is None:
            return
        labels = np.asarray(labels)
        n_out = record.readout.shape[1]
        if (labels.shape != (record.batch_size,)
                or not np.issubdtype(labels.dtype, np.integer)
                or labels.min() < 0 or labels.max() >= n_out):
            raise ValueError(f"labels must be {record.batch_size} integers "
                             f"in [0, {n_out})")
        rows = np.arange(record.batch_size)
        if record.output.kind == _LI_OUT:
            logits = record.readout
            trial_loss = (np.log(np.exp(logits - logits.max(axis=1,
                                                           keepdims=True))
                                 .sum(axis=1)) + logits.max(axis=1)
                          - logits[rows, labels])
        else:
            first = record.first_spike_step
            times = np.where(first >= 0, first * self.dt, self.example_time)
            logits = -times
            lse = (np.log(np.exp(logits - logits.max(axis=1, keepdims=True))
                          .sum(axis=1)) + logits.max(axis=1))
            trial_loss = (lse - logits[rows, labels]
                          + self.ttfs_alpha / (1.01 * self.example_time
                                               - times[rows, labels]))
        record.labels = labels
        record.trial_loss = trial_loss
        record.loss = float(trial_loss.sum() / record.num_batch)
        record.accuracy = float(np.mean(record.predictions == labels))

    # ------------------------------------------------------------------
    def backward(self, record: ForwardRecord) -> Gradients:
        """Run mlGeNN's discrete adjoint pass over a forward record and
        return the gradients it accumulates (batch sums), plus the position
        gradients of spatial connections (chain rule) and wiring costs.

        Args:
            record: the :class:`ForwardRecord` of :meth:`forward`, made with
                    labels
        """
        if record.labels is None:
            raise ValueError("backward needs a forward record made with "
                             "labels")
        pops, conns = record.plan
        dtype = record.dtype
        T = self.example_timesteps
        dt = self.dt
        batch = record.batch_size
        num_batch = record.num_batch
        labels = record.labels
        rows = np.arange(batch)
        out = record.output

        hist_i = {}
        hist_v = {}
        lam_i = {}
        lam_v = {}
        taped = {}
        for p in pops:
            if p.kind != _LI_OUT:
                taped[p.name] = _events_by_step(record.spikes[p.name], T)
            if p.kind == _INPUT:
                continue
            hist_i[p.name] = np.zeros((T, batch, p.size), dtype)
            hist_v[p.name] = np.zeros((T, batch, p.size), dtype)
            lam_i[p.name] = np.zeros((batch, p.size), dtype)
            lam_v[p.name] = np.zeros((batch, p.size), dtype)

        # Output drive / loss terms, from the previous trial's readout
        softmax = record.softmax.astype(dtype)
        onehot = np.zeros_like(softmax)
        onehot[rows, labels] = 1.0
        if out.kind == _LI_OUT:
            drive = (onehot - softmax) / (out.tau_mem * dtype(num_batch)
                                          * dtype(dt * T))
        else:
            example_time = self.example_time
            phantom_scale = self.ttfs_alpha / (0.0001 * example_time
                                               * example_time)
            first = record.first_spike_step
            phantom = (first[rows, labels] < 0)

        # Spike-count regulariser (EP:1116-1170): batch-summed counts
        reg = {}
        if self.regulariser_enabled:
            nu = int(self.reg_nu_upper * num_batch)
            upper = self.reg_lambda_upper / (num_batch * num_batch)
            lower = self.reg_lambda_lower / (num_batch * num_batch)
            for p in pops:
                if p.kind == _HIDDEN:
                    total = record.spike_count[p.name].sum(axis=0)
                    excess = (total - nu).astype(np.float64)
                    reg[p.name] = np.where(total > nu, upper * excess,
                                           lower * excess)

        feedback = [c for c in conns if c.feedback]
        for r in range(T):
            s_ev = T - 1 - r
            rev = {}
            # Synapse update: pre-events of spikes from forward step s_ev
            if r >= 1:
                for c in feedback:
                    _, b, i, _, off = taped[c.src.name]
                    lo, hi = off[s_ev], off[s_ev + 1]
                    if lo == hi:
                        continue
                    b = b[lo:hi]
                    i = i[lo:hi]
                    diff = self._delayed(hist_v[c.tgt.name],
                                         hist_i[c.tgt.name], c, b, i, r - 1,
                                         subtract=True)
                    contrib = np.sum(c.weight_rows(b, i) * diff, axis=1)
                    acc = rev.setdefault(c.src.name,
                                         np.zeros((batch, c.src.size),
                                                  dtype))
                    acc[b, i] += contrib

            # Neuron update
            for p in pops:
                if p.kind == _INPUT:
                    continue
                li = lam_i[p.name]
                lv = lam_v[p.name]
                if p.kind == _LI_OUT:
                    if p.readout == "avg_var_exp_weight":
                        t_back = dtype(r) * dtype(dt)
                        d = drive * np.exp(-(dtype(1.0) - t_back
                                             * dtype(1.0 / (dt * T))))
                    else:
                        d = drive
                    li = (d + ((li - d) * p.beta)
                          + (p.a * (lv - d) * (p.alpha - p.beta)))
                    lv = d + ((lv - d) * p.alpha)
                else:
                    if p.kind == _HIDDEN:
                        li = (p.a * lv * (p.beta - p.alpha)) + (li * p.beta)
                    else:
                        li = (p.a * lv * (p.alpha - p.beta)) + (li * p.beta)
                    lv = lv * p.alpha
                    if p.kind == _LIF_OUT and r == 0:
                        lv[rows[phantom], labels[phantom]] += dtype(
                            phantom_scale / num_batch)
                    _, b, n, imv, off = taped[p.name]
                    lo, hi = off[s_ev], off[s_ev + 1]
                    if r >= 1 and lo < hi:
                        b = b[lo:hi]
                        n = n[lo:hi]
                        recip = dtype(1.0) / imv[lo:hi]
                        if p.kind == _HIDDEN:
                            rev_isyn = (rev[p.name][b, n] if p.name in rev
                                        else 0.0)
                            lv[b, n] += recip * (p.v_thresh * lv[b, n]
                                                 + rev_isyn)
                            if p.name in reg:
                                lv[b, n] -= reg[p.name][n]
                        else:
                            self._ttfs_transition(lv, b, n, recip, s_ev,
                                                  record, p)
                lam_i[p.name] = li
                lam_v[p.name] = lv
                hist_i[p.name][r] = li
                hist_v[p.name][r] = lv

        grads = Gradients()
        for c in conns:
            grad, delay_grad = self._accumulate(c, taped[c.src.name],
                                                hist_i[c.tgt.name],
                                                hist_v[c.tgt.name])
            if c.conn.mask is not None:
                grad[~c.conn.mask] = 0.0
                if delay_grad is not None:
                    delay_grad[~c.conn.mask] = 0.0
            grads.weight[c.name] = grad
            if delay_grad is not None:
                grads.delay[c.name] = delay_grad
        self._spatial_gradients(record, conns, grads)
        return grads

    def _ttfs_transition(self, lv, b, n, recip, s_ev, record, p):
        # EP:915-925
        dtype = record.dtype
        labels = record.labels
        num_batch = record.num_batch
        temp = dtype(self.softmax_temperature)
        lv[b, n] += recip * (p.v_thresh * lv[b, n])
        is_first = record.first_spike_step[b, n] == s_ev
        is_true = n == labels[b]
        sm = record.softmax[b, n].astype(dtype)
        # fst = 1.01 T dt + TFirstSpikeBack, TFirstSpikeBack = -t (scalar)
        fst = (dtype(1.01 * self.example_time)
               - dtype(s_ev) * dtype(self.dt))
        true_first = is_first & is_true
        other_first = is_first & ~is_true
        lv[b[true_first], n[true_first]] += (
            recip[true_first] * (((dtype(1.0) - sm[true_first]) / temp)
                                 + (dtype(self.ttfs_alpha) / (fst * fst)))
            / dtype(num_batch))
        lv[b[other_first], n[other_first]] -= (
            recip[other_first] * sm[other_first]
            / dtype(self.softmax_temperature * num_batch))

    @staticmethod
    def _delayed(hist_a, hist_b, c, b, i, q0, subtract):
        """``hist_a - hist_b`` (or ``hist_a`` alone when ``hist_b`` is None)
        of the targets of synapses ``(b, i, :)``, read at backward step
        ``q0 - delay`` (zero before the backward pass began)."""
        if c.delay is None:
            q0 = np.broadcast_to(q0, b.shape)
            a = hist_a[q0, b]
            return a - hist_b[q0, b] if subtract else a
        q = np.asarray(q0)[..., None] - c.delay_rows(b, i)
        valid = q >= 0
        q = np.where(valid, q, 0)
        cols = np.arange(hist_a.shape[2])[None, :]
        bb = b[:, None]
        a = hist_a[q, bb, cols]
        if subtract:
            a = a - hist_b[q, bb, cols]
        return np.where(valid, a, 0.0)

    def _accumulate(self, c, taped, hist_i, hist_v):
        """mlGeNN's Gradient and DelayGradient of connection ``c``: every
        taped presynaptic spike in forward step ``s <= T-2`` is a pre-event
        in backward step ``T-1-s`` reading the target at ``T-2-s-d``."""
        T = self.example_timesteps
        step, b, i, _, _ = taped
        keep = step <= T - 2
        step, b, i = step[keep], b[keep], i[keep]
        n_pre, n_post = c.conn.shape
        grad = np.zeros((n_pre, n_post))
        delay_grad = None if c.delay is None else np.zeros((n_pre, n_post))
        chunk = max(1, _CHUNK_ELEMENTS // n_post)
        for lo in range(0, len(step), chunk):
            sl = slice(lo, lo + chunk)
            q0 = T - 2 - step[sl]
            bi, ii = b[sl], i[sl]
            lam_i = self._delayed(hist_i, None, c, bi, ii, q0,
                                  subtract=False)
            grad += _row_sums(ii, -(lam_i * c.tau_syn), n_pre)
            if delay_grad is not None:
                lam_v = self._delayed(hist_v, None, c, bi, ii, q0,
                                      subtract=False)
                delay_grad += _row_sums(
                    ii, -(c.weight_rows(bi, ii) * (lam_i - lam_v)), n_pre)
        return grad, delay_grad

    def _spatial_gradients(self, record, conns, grads):
        """Chain rule from DelayGradient to positions (summed per
        population) and wiring costs."""
        overridden = record.delay_overrides
        for c in conns:
            conn = c.conn
            if conn.spatial is None:
                continue
            src, tgt = conn.source, conn.target
            sp = conn.spatial
            if c.name not in overridden:
                pre, post = position_gradients(
                    grads.delay[c.name], src.positions, tgt.positions,
                    sp.scale, sp.offset, sp.eps, sp.max_delay_steps)
                # DelayGradient is per ms of delay: dt ms per timestep
                self._add_position(grads, src, self.dt * pre)
                self._add_position(grads, tgt, self.dt * post)
            if conn.wiring_cost > 0.0 and not c.batched_weight:
                grads.wiring_cost += wiring_cost(
                    c.weight, src.positions, tgt.positions, conn.wiring_cost,
                    sp.eps)
                pre, post, w_grad = wiring_cost_gradients(
                    c.weight, src.positions, tgt.positions, conn.wiring_cost,
                    sp.eps)
                if conn.mask is not None:
                    w_grad = np.where(conn.mask, w_grad, 0.0)
                grads.weight[c.name] = grads.weight[c.name] + w_grad
                self._add_position(grads, src, pre)
                self._add_position(grads, tgt, post)

    @staticmethod
    def _add_position(grads, pop, grad):
        if pop.name in grads.position:
            grads.position[pop.name] = grads.position[pop.name] + grad
        else:
            grads.position[pop.name] = np.array(grad, dtype=np.float64)

    # ------------------------------------------------------------------
    def run(self, network: Network, spikes, labels, num_batch: int = None,
            record_v: bool = False, weights: dict = None,
            delays: dict = None) -> Result:
        """Forward and backward pass of one batch (arguments as
        :meth:`forward`); returns a :class:`Result`."""
        record = self.forward(network, spikes, labels, num_batch=num_batch,
                              record_v=record_v, weights=weights,
                              delays=delays)
        return Result(record, self.backward(record))
