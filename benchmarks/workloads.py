"""The benchmarked networks, training modes and synthetic data.

Two shapes:

- ``yin_yang``: 5 inputs (4 latency-coded Yin-Yang features + bias) -> H
  LIF -> 3 LIF with first-spike-time readout, mlGeNN's Yin-Yang EventProp
  set-up (dt 0.01 ms, 30 ms trials, relative MSE loss). Delays (per-synapse
  or spatial) on both connections, up to 5 ms.
- ``shd``: 700 inputs -> H recurrent LIF -> 20 leaky integrators, mlGeNN's
  SHD EventProp set-up (dt 1 ms, 1 s trials, cross-entropy loss) fed with
  synthetic SHD-like spike trains (:func:`shd_like_spikes`), so the real
  data set is not needed. Delays on input->hidden and hidden->hidden, up to
  60 ms.

Modes (:data:`MODES`): ``weights[-sparse]`` (weight-only EventProp, no
delays), ``delays[-sparse]`` (mlGeNN's per-synapse delay learning,
``delay_learn_conns``) and ``spatial-<D>d[-sparse]`` (ml_genn_spatial:
delays from learned positions in a D-dimensional box); ``-sparse`` modes
draw the delayed connections with probability p (``FixedProbability`` /
``SpatialSparse``), the others are dense. Also
the diagnostic ``spatial-3d-noscatter`` (spatial delays and their
per-synapse delay gradient, without the position-gradient pipeline).

The data functions need only NumPy; :func:`build` imports mlGeNN.
"""
from dataclasses import dataclass

import numpy as np

from ml_genn_spatial.datasets import (YIN_YANG_T_EARLY, encode_latency,
                                      spike_trains_from_dense, yin_yang)


@dataclass(frozen=True)
class Shape:
    """A benchmarked network shape.

    Args:
        name:           key used on the command line and in results
        num_inputs:     input neurons
        num_outputs:    output neurons
        dt:             timestep [ms]
        trial_ms:       default trial length [ms]
        max_delay_ms:   largest delay of the delayed connections [ms]
        recurrent:      whether the hidden layer is recurrent
    """
    name: str
    num_inputs: int
    num_outputs: int
    dt: float
    trial_ms: float
    max_delay_ms: float
    recurrent: bool

    def max_delay_steps(self, trial_ms: float = None) -> int:
        """Largest delay [timesteps], never longer than a trial."""
        trial_ms = self.trial_ms if trial_ms is None else trial_ms
        return max(1, int(round(min(self.max_delay_ms, trial_ms / 2)
                                / self.dt)))


SHAPES = {
    "yin_yang": Shape("yin_yang", num_inputs=5, num_outputs=3, dt=0.01,
                      trial_ms=30.0, max_delay_ms=5.0, recurrent=False),
    "shd": Shape("shd", num_inputs=700, num_outputs=20, dt=1.0,
                 trial_ms=1000.0, max_delay_ms=60.0, recurrent=True),
}



@dataclass(frozen=True)
class Mode:
    """A training mode.

    Args:
        delays:     None (no delays), "per-synapse" (mlGeNN's delay
                    learning) or "spatial" (ml_genn_spatial)
        dimensions: dimensions of the space (spatial modes)
        sparse:     whether the delayed connections are sparse
                (``FixedProbability(p)`` / ``SpatialSparse(p)``)
        scatter:    False for the diagnostic mode that leaves out the
                    position-gradient pipeline (PositionScatter callback:
                    transpose, mirror events, position optimiser), to
                    measure what it costs
        diagnostic: not one of the compared modes (no targets)
        stored_delays: spatial modes: each synapse's delay stored once per
                    batch (``SpatialEventPropCompiler(stored_delays=True)``,
                    the default) or computed from the distance at every
                    spike (False: the diagnostic ``*-computed`` modes)
    """
    delays: str = None
    dimensions: int = 0
    sparse: bool = False
    scatter: bool = True
    diagnostic: bool = False
    stored_delays: bool = True


MODES = {
    "weights": Mode(),
    "delays": Mode("per-synapse"),
    "weights-sparse": Mode(sparse=True),
    "delays-sparse": Mode("per-synapse", sparse=True),
    "spatial-2d": Mode("spatial", 2),
    "spatial-3d": Mode("spatial", 3),
    "spatial-2d-sparse": Mode("spatial", 2, sparse=True),
    "spatial-3d-sparse": Mode("spatial", 3, sparse=True),
    "spatial-3d-noscatter": Mode("spatial", 3, scatter=False,
                                 diagnostic=True),
    "spatial-3d-computed": Mode("spatial", 3, diagnostic=True,
                                stored_delays=False),
    "spatial-3d-sparse-computed": Mode("spatial", 3, sparse=True,
                                       diagnostic=True, stored_delays=False),
}
COMPARED_MODES = [name for name, mode in MODES.items()
                  if not mode.diagnostic]


def shd_like_spikes(num_trials: int, seed: int, num_channels: int = 700,
                    num_classes: int = 20, active_ms: float = 700.0,
                    mean_spikes: float = 4000.0, dt: float = 1.0):
    """Synthetic spike trains with SHD-like statistics.

    Every class is a "word": three formant-like ridges sweeping across the
    channels, with a syllable-like envelope. A trial draws its class, jitters
    the ridges, the onset and the loudness, and samples at most one spike
    per channel and timestep from the resulting intensity: on average
    ``mean_spikes`` spikes (a few thousand, as SHD) in the first
    ``active_ms`` of the trial.

    Args:
        num_trials:     number of trials
        seed:           seed of the draw
        num_channels:   input channels (700 as SHD)
        num_classes:    classes (20 as SHD)
        active_ms:      time span of the spikes [ms]
        mean_spikes:    mean number of spikes per trial
        dt:             time grid of the spikes [ms]

    Returns:
        ``(trains, labels)``: a list of ``(times [ms], ids)`` pairs and an
        int64 array of labels
    """
    rng = np.random.default_rng(seed)
    steps = max(1, int(round(active_ms / dt)))
    channels = np.arange(num_channels)
    # Three ridges per class: start channel, sweep over the word, width
    starts = rng.uniform(0.05, 0.95, (num_classes, 3)) * num_channels
    sweeps = rng.uniform(-0.3, 0.3, (num_classes, 3)) * num_channels
    widths = rng.uniform(0.01, 0.04, (num_classes, 3)) * num_channels
    labels = rng.integers(num_classes, size=num_trials)
    trains = []
    for label in labels:
        onset = rng.uniform(0.0, 0.15) * steps
        length = rng.uniform(0.55, 0.85) * steps
        time = np.arange(steps)
        phase = np.clip((time - onset) / length, 0.0, 1.0)
        envelope = np.sin(np.pi * phase) ** 0.5
        centre = (starts[label] + rng.normal(0.0, 5.0, 3))[:, None] + (
            sweeps[label][:, None] * phase[None, :])
        intensity = np.zeros((steps, num_channels))
        for k in range(3):
            intensity += np.exp(-0.5 * ((channels[None, :]
                                         - centre[k][:, None])
                                        / widths[label, k]) ** 2)
        intensity *= envelope[:, None]
        intensity += 0.02 * intensity.mean()        # background
        loudness = rng.lognormal(0.0, 0.25)
        intensity *= mean_spikes * loudness / intensity.sum()
        fire = rng.random(intensity.shape) < -np.expm1(-intensity)
        step_index, ids = np.nonzero(fire)
        trains.append((step_index * dt, ids.astype(np.int64)))
    return trains, labels


def yin_yang_spikes(num_trials: int, seed: int, trial_ms: float = 30.0):
    """Latency-coded Yin-Yang trials with a bias input: 5 spikes per trial
    in ``[2 dt, trial_ms - 2 dt]`` (dt = 0.01 ms), as mlGeNN's example.

    Returns ``(trains, labels)`` as :func:`shd_like_spikes`.
    """
    features, labels = yin_yang(num_trials, seed)
    t_early = YIN_YANG_T_EARLY
    t_late = max(trial_ms - 2.0 * SHAPES["yin_yang"].dt, 2.0 * t_early)
    times = encode_latency(features, t_early=t_early, t_late=t_late,
                           bias_time=t_early)
    return spike_trains_from_dense(times), labels


def make_data(shape: Shape, num_trials: int, seed: int, trial_ms: float,
              mean_spikes: float = 4000.0):
    """``(trains, labels)`` for ``num_trials`` trials of ``shape``."""
    if shape.name == "yin_yang":
        return yin_yang_spikes(num_trials, seed, trial_ms)
    return shd_like_spikes(num_trials, seed, num_channels=shape.num_inputs,
                           active_ms=min(700.0, 0.7 * trial_ms),
                           mean_spikes=mean_spikes, dt=shape.dt)


def build(shape: Shape, mode: str, hidden: int, trial_ms: float,
          max_input_spikes: int, batch_size: int = 1,
          backend: str = None, kernel_profiling: bool = False,
          sparse_p: float = 0.1, seed: int = 1, optimize_code: bool = True):
    """Network and compiler of one benchmarked configuration.

    Every mode builds the same populations with the same weight
    distributions; only the delays of the delayed connections differ.
    Sparse connections draw weights with mean / p and sd / sqrt(p), so a
    neuron's summed input keeps its mean and variance.

    With ``optimize_code`` GeNN compiles the model with optimisation
    (``-O3 -ffast-math`` on the CPU backend; GeNN's own default there is
    none, which penalises arithmetic such as the distance computation far
    more than memory traffic).

    Returns ``(compiler, network, populations)`` with populations
    ``{"input": ..., "hidden": ..., "output": ...}``.
    """
    from ml_genn import Connection, Network, Population
    from ml_genn.compilers import EventPropCompiler
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal, Uniform
    from ml_genn.losses import RelativeMeanSquareError
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.synapses import Exponential
    from ml_genn_spatial import (Space, SpatialConnection, SpatialDense,
                                 SpatialEventPropCompiler, SpatialSparse,
                                 place)

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: choose from {list(MODES)}")
    delays, dimensions, sparse = (MODES[mode].delays, MODES[mode].dimensions,
                                  MODES[mode].sparse)
    max_delay_steps = shape.max_delay_steps(trial_ms)

    def lif(**kwargs):
        return LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                  tau_refrac=None, **kwargs)

    def connect(source, target, mean, sd, name, delayed, can_thin=True):
        thin = sparse and can_thin and delayed
        if thin:
            mean, sd = mean / sparse_p, sd / np.sqrt(sparse_p)
        weight = Normal(mean=mean, sd=sd)
        if not delayed or delays is None:
            connectivity = (FixedProbability(sparse_p, weight) if thin
                            else Dense(weight))
            Connection(source, target, connectivity, Exponential(5.0),
                       name=name)
        elif delays == "per-synapse":
            delay = Uniform(0.0, max_delay_steps)
            connectivity = (FixedProbability(sparse_p, weight, delay=delay)
                            if thin else Dense(weight, delay=delay))
            Connection(source, target, connectivity, Exponential(5.0),
                       max_delay_steps=max_delay_steps, name=name)
        else:
            connectivity = (SpatialSparse(sparse_p, weight, max_delay_steps)
                            if thin
                            else SpatialDense(weight, max_delay_steps))
            SpatialConnection(source, target, connectivity, Exponential(5.0),
                              name=name)

    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=batch_size * max_input_spikes),
                         shape.num_inputs, name="input")
        hid = Population(lif(), hidden, name="hidden")
        if shape.name == "yin_yang":
            out = Population(lif(readout="first_spike_time"),
                             shape.num_outputs, name="output")
        else:
            out = Population(LeakyIntegrate(tau_mem=20.0,
                                            readout="avg_var_exp_weight"),
                             shape.num_outputs, name="output")
        if delays == "spatial":
            space = Space(dimensions, bounds=(-1.0, 1.0), rng=seed)
            place(inp, space)
            place(hid, space)
            if shape.name == "yin_yang":
                place(out, space)
        if shape.name == "yin_yang":
            # Five inputs cannot be thinned: only hidden->output is sparse
            connect(inp, hid, 1.5, 0.78, "input_hidden", True,
                    can_thin=False)
            connect(hid, out, 0.93, 0.1, "hidden_output", True)
        else:
            connect(inp, hid, 0.03, 0.01, "input_hidden", True)
            connect(hid, hid, 0.0, 0.02, "hidden_hidden", True)
            connect(hid, out, 0.0, 0.03, "hidden_output", False)

    timesteps = int(round(trial_ms / shape.dt))
    common = {"example_timesteps": timesteps, "dt": shape.dt,
              "batch_size": batch_size, "kernel_profiling": kernel_profiling,
              "rng_seed": seed}
    if backend is not None:
        common["backend"] = backend
    if optimize_code:
        common["optimize_code"] = True
    if shape.name == "yin_yang":
        common.update(losses=RelativeMeanSquareError(5.0 * 0.2),
                      optimiser=Adam(0.003, 0.9, 0.99),
                      softmax_temperature=0.5, ttfs_alpha=0.1)
    else:
        common.update(losses="sparse_categorical_crossentropy",
                      optimiser=Adam(0.001))
    delay_conns = [c for c in network.connections
                   if c.name != "hidden_output" or shape.name == "yin_yang"]
    if delays is None:
        compiler = EventPropCompiler(**common)
    elif delays == "per-synapse":
        compiler = EventPropCompiler(delay_learn_conns=delay_conns,
                                     delay_optimiser=Adam(0.1), **common)
    else:
        compiler = SpatialEventPropCompiler(
            position_optimiser=Adam(0.001),
            stored_delays=MODES[mode].stored_delays, **common)
    return compiler, network, {"input": inp, "hidden": hid, "output": out}


def apply_mode(compiled, mode: str):
    """Adjust a compiled network for its mode: the diagnostic no-scatter
    mode drops ml_genn_spatial's PositionScatter callback, so positions
    stay fixed and no transpose, mirror event or position optimiser runs."""
    if not MODES[mode].scatter:
        compiled.base_train_callbacks[:] = [
            c for c in compiled.base_train_callbacks
            if type(c).__name__ != "PositionScatter"]
    return compiled
