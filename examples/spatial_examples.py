"""What the training scripts (yin_yang.py, shd.py, ssc.py) share, without
GeNN: command-line options, the network plan (sizes, which connections have
delays, sparse synapses, initial weights, positions and delays), parameter
counts, results.json and resuming from checkpoints.

The plan is built here from NumPy random draws, so a network is the same
whichever backend trains it: :mod:`spatial_genn` turns it into an mlGeNN
network, ``yin_yang.py`` into the NumPy reference model when GeNN is
missing.

Delay modes (``--dimensions``):

* ``0``: no delays (mlGeNN's plain EventProp);
* ``1`` ... ``8``: spatial delays; the populations at both ends of every
  delayed connection are placed in one ``D``-dimensional box
  ``[-1, 1]^D`` and each delay is
  ``round(scale * distance)`` [timesteps], with ``scale`` such that the
  diagonal of the box is ``--max-delay`` [ms];
* ``inf``: mlGeNN's own per-synapse learnable delays, drawn uniformly in
  ``[0, --max-delay]`` (the unconstrained comparison).
"""
import argparse
import glob
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ml_genn_spatial import Space

#: Largest number of spatial dimensions the scripts accept
MAX_DIMENSIONS = 8

#: Box the spatial populations live in [space units] ("Space as Time
#: Through Neuron Position Learning": positions in [-1, 1]^2)
SPACE_BOUNDS = (-1.0, 1.0)

#: Options a resumed run may change; every other option must equal the
#: original run's (they define the network and its data)
RESUMABLE_CHANGES = ("epochs", "resume", "backend", "batch_size", "lr",
                     "position_lr", "delay_lr", "output", "data")

_BACKENDS = ("single_threaded_cpu", "cuda")


# ----------------------------------------------------------------------------
# Command-line options
# ----------------------------------------------------------------------------
def parse_dimensions(text: str):
    """``--dimensions``: an int 0 ... 8, or ``inf``."""
    if str(text).strip().lower() in ("inf", "infinity", "\u221e"):
        return "inf"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--dimensions must be 0 (no delays), 1 ... {MAX_DIMENSIONS} "
            f"(spatial delays) or inf (per-synapse delays), not {text!r}")
    if not 0 <= value <= MAX_DIMENSIONS:
        raise argparse.ArgumentTypeError(
            f"--dimensions must be 0 ... {MAX_DIMENSIONS} or inf, not "
            f"{value}")
    return value


def delay_mode(dimensions) -> str:
    """``"none"``, ``"spatial"`` or ``"per_synapse"`` for a ``--dimensions``
    value."""
    if dimensions == "inf":
        return "per_synapse"
    return "none" if dimensions == 0 else "spatial"


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(
            f"must be in [0, 1), not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {value}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except None and those of on/off flags."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def make_parser(description: str, defaults: dict,
                backends: Sequence[str] = _BACKENDS
                ) -> argparse.ArgumentParser:
    """The options every training script has, with its own defaults.

    Args:
        description:    first line of ``--help``
        defaults:       default of each option, by dest name (``dimensions``,
                        ``hidden``, ``recurrent``, ``epochs``, ``lr``,
                        ``position_lr``, ``max_delay``, ``dt``,
                        ``batch_size``, ``output``, and ``gpu_batch_size``,
                        the batch size used when none is given and the
                        backend is CUDA)
        backends:       accepted ``--backend`` values
    """
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=_HelpFormatter)
    net = parser.add_argument_group("network")
    net.add_argument("--dimensions", type=parse_dimensions,
                     default=defaults["dimensions"],
                     help="0: no delays; 1-8: neurons have learnable "
                          "positions in [-1, 1]^D and delays are "
                          "distances; inf: mlGeNN's per-synapse learnable "
                          "delays (comparison)")
    net.add_argument("--hidden", type=positive_int,
                     default=defaults["hidden"],
                     help="hidden LIF neurons")
    recurrent = net.add_mutually_exclusive_group()
    on = defaults["recurrent"]
    recurrent.add_argument("--recurrent", dest="recurrent",
                           action="store_true",
                           help="add a hidden->hidden connection, delayed "
                                "like the other hidden connections"
                                + (" (default)" if on else ""))
    recurrent.add_argument("--no-recurrent", dest="recurrent",
                           action="store_false",
                           help="no hidden->hidden connection"
                                + ("" if on else " (default)"))
    parser.set_defaults(recurrent=defaults["recurrent"])
    net.add_argument("--sparsity", type=_fraction, default=0.0,
                     help="fraction of the synapses of the hidden (delayed) "
                          "connections removed; > 0 gives sparse "
                          "connections (SpatialSparse when spatial); the "
                          "kept weights are scaled so each neuron's "
                          "expected input stays that of the dense draw")
    net.add_argument("--sparse-connections", choices=["all", "recurrent"],
                     default="all",
                     help="which delayed connections --sparsity thins: "
                          "all, or only the hidden->hidden one "
                          "(default: all)")
    net.add_argument("--rewiring", action="store_true",
                     help="DEEP R structural plasticity of the sparse "
                          "hidden connections (needs --sparsity > 0); "
                          "a regrown spatial synapse's delay follows from "
                          "the positions")
    net.add_argument("--regrowth-length", type=_positive_float,
                     default=None,
                     help="with --rewiring of spatial connections: draw "
                          "regrown targets with probability ~ "
                          "exp(-distance / length) [space units]; "
                          "default: uniformly")
    net.add_argument("--wiring-cost", type=_non_negative_float, default=0.0,
                     help="strength lambda of the wiring cost "
                          "lambda * sum |w| * distance of every spatial "
                          "connection (needs --dimensions 1-8)")
    net.add_argument("--max-delay", type=_positive_float,
                     default=defaults["max_delay"],
                     help="largest delay [ms]; spatial delays reach it at "
                          "the diagonal of the box")

    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int,
                       default=defaults["epochs"],
                       help="total epochs (a resumed run continues up to "
                            "this number)")
    train.add_argument("--batch-size", type=positive_int,
                       default=defaults.get("batch_size"),
                       help=f"trials per batch; default: 1 on the CPU "
                            f"backend (which runs batch size 1 only), "
                            f"{defaults['gpu_batch_size']} on CUDA")
    train.add_argument("--lr", type=_positive_float,
                       default=defaults["lr"],
                       help="Adam learning rate of the weights")
    train.add_argument("--position-lr", type=_positive_float,
                       default=defaults["position_lr"],
                       help="Adam learning rate of the positions [space "
                            "units]")
    train.add_argument("--delay-lr", type=_positive_float, default=None,
                       help="Adam learning rate of per-synapse delays "
                            "[timesteps] (--dimensions inf); default: "
                            "--position-lr times the delay per space unit "
                            "of a 2-D box, the delay change one position "
                            "step gives")
    train.add_argument("--dt", type=_positive_float, default=defaults["dt"],
                       help="simulation timestep [ms], also used for "
                            "testing")
    train.add_argument("--seed", type=int, default=1,
                       help="seed of weights, positions, sparse synapses "
                            "and shuffling")
    train.add_argument("--backend", choices=list(backends), default=None,
                       help="GeNN backend; default: the best one pygenn "
                            "has (CUDA when built with it)")

    files = parser.add_argument_group("files")
    files.add_argument("--output", default=defaults["output"],
                       help="folder for results.json, checkpoints/, "
                            "layout.npz and hidden_class_counts.npy")
    files.add_argument("--resume", action="store_true",
                       help="continue from the last checkpoint in "
                            "--output (optimiser state starts afresh)")
    parser.set_defaults(gpu_batch_size=defaults["gpu_batch_size"])
    return parser


def check_args(args) -> None:
    """Refuse option combinations that cannot run, with what to do."""
    spatial = delay_mode(args.dimensions) == "spatial"
    if args.wiring_cost > 0.0 and not spatial:
        raise ValueError("--wiring-cost weighs every synapse by its length: "
                         "it needs positions, --dimensions 1 ... "
                         f"{MAX_DIMENSIONS}")
    if args.rewiring and args.sparsity == 0.0:
        raise ValueError("--rewiring rewires sparse connections: give "
                         "--sparsity > 0 as well")
    if args.regrowth_length is not None and not (args.rewiring and spatial):
        raise ValueError("--regrowth-length shapes DEEP R's regrowth in "
                         "space: it needs --rewiring and --dimensions 1 ... "
                         f"{MAX_DIMENSIONS}")


def max_delay_steps(args) -> int:
    """``--max-delay`` [ms] in timesteps of ``--dt`` (at least 1)."""
    return max(1, int(round(args.max_delay / args.dt)))


def delay_learning_rate(args) -> float:
    """``--delay-lr`` [timesteps], or its default: ``--position-lr`` times
    the delay per space unit [timesteps] of a 2-D box."""
    if args.delay_lr is not None:
        return args.delay_lr
    return args.position_lr * max_delay_steps(args) / box_diagonal(2)


def resolve_batch_size(args, backend_name: str) -> int:
    """``--batch-size``, or its default for ``backend_name``."""
    if args.batch_size is not None:
        return args.batch_size
    return 1 if "cpu" in backend_name.lower() else args.gpu_batch_size


# ----------------------------------------------------------------------------
# The network plan
# ----------------------------------------------------------------------------
@dataclass
class LayerSpec:
    """One population: ``kind`` is ``"input"``, ``"hidden"`` or
    ``"output"``."""
    name: str
    size: int
    kind: str


@dataclass
class ConnectionSpec:
    """One connection: its initial weight distribution and whether it is
    one of the hidden connections (delayed and subject to --sparsity)."""
    name: str
    source: str
    target: str
    weight_mean: float
    weight_sd: float
    delayed: bool


@dataclass
class PlannedConnection:
    """A connection with everything drawn.

    Attributes:
        weight:     ``(n_pre, n_post)`` for dense connections, one value per
                    synapse for sparse ones
        pre_ind, post_ind: synapses of a sparse connection (row-major order,
                    GeNN's own), None for dense
        delay:      initial per-synapse delays [timesteps] (``inf`` mode),
                    same shape as ``weight``; None otherwise
    """
    spec: ConnectionSpec
    shape: Tuple[int, int]
    weight: np.ndarray
    pre_ind: Optional[np.ndarray] = None
    post_ind: Optional[np.ndarray] = None
    delay: Optional[np.ndarray] = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def sparse(self) -> bool:
        return self.pre_ind is not None

    @property
    def num_synapses(self) -> int:
        return (len(self.pre_ind) if self.sparse
                else int(np.prod(self.shape)))


@dataclass
class NetworkPlan:
    """A network with all its initial values drawn.

    Attributes:
        mode:           ``"none"``, ``"spatial"`` or ``"per_synapse"``
        dimensions:     D of the space (0 unless spatial)
        max_delay_steps: largest delay [timesteps] (0 without delays)
        scale:          delay per unit distance [timesteps / space unit]
        positions:      initial positions ``(size, D)`` of the placed
                        populations, by name
    """
    mode: str
    dimensions: int
    layers: List[LayerSpec]
    connections: List[PlannedConnection]
    max_delay_steps: int
    scale: Optional[float] = None
    positions: Dict[str, np.ndarray] = field(default_factory=dict)

    def layer(self, kind: str) -> LayerSpec:
        """The (first) layer of a kind."""
        return next(layer for layer in self.layers if layer.kind == kind)

    def space(self) -> Space:
        """The space of the placed populations (spatial mode)."""
        return Space(self.dimensions, bounds=SPACE_BOUNDS)


def box_diagonal(dimensions: int, bounds=SPACE_BOUNDS) -> float:
    """Length of the diagonal of the box ``bounds^D`` [space units]."""
    return float(np.sqrt(dimensions) * (bounds[1] - bounds[0]))


def _sparse_synapses(shape, sparsity: float, no_self: bool, rng
                     ) -> Tuple[np.ndarray, np.ndarray]:
    keep = rng.random(shape) >= sparsity
    if no_self:
        np.fill_diagonal(keep, False)
    pre_ind, post_ind = np.nonzero(keep)
    return pre_ind.astype(np.int64), post_ind.astype(np.int64)


def plan_network(args, layers: Sequence[LayerSpec],
                 connections: Sequence[ConnectionSpec]) -> NetworkPlan:
    """Draw a network from the options and the script's layers.

    Weights, positions, sparse synapses and initial delays come from
    separate random streams of ``--seed``, so changing one option (say
    ``--sparsity``) leaves the others' draws alone.
    """
    mode = delay_mode(args.dimensions)
    dimensions = args.dimensions if mode == "spatial" else 0
    steps = max_delay_steps(args) if mode != "none" else 0
    sizes = {layer.name: layer.size for layer in layers}
    weight_rng, position_rng, mask_rng, delay_rng = (
        np.random.default_rng(s)
        for s in np.random.SeedSequence(args.seed).spawn(4))

    planned = []
    for spec in connections:
        shape = (sizes[spec.source], sizes[spec.target])
        weight = weight_rng.normal(spec.weight_mean, spec.weight_sd, shape)
        delay = (delay_rng.uniform(0.0, steps, shape)
                 if mode == "per_synapse" and spec.delayed else None)
        conn = PlannedConnection(spec, shape, weight, delay=delay)
        recurrent = spec.source == spec.target
        thinned = (spec.delayed and args.sparsity > 0.0
                   and (recurrent or getattr(args, "sparse_connections",
                                             "all") == "all"))
        if thinned:
            conn.pre_ind, conn.post_ind = _sparse_synapses(
                shape, args.sparsity, recurrent, mask_rng)
            if len(conn.pre_ind) == 0:
                raise ValueError(f"--sparsity {args.sparsity} leaves "
                                 f"connection {spec.name} without a "
                                 f"synapse: lower it")
            # A neuron keeps (1 - sparsity) of its inputs: scale the mean
            # by 1 / keep and the spread by 1 / sqrt(keep) so that its
            # expected input (mean and variance) stays the dense one
            keep = 1.0 - args.sparsity
            conn.weight = (spec.weight_mean / keep
                           + (weight[conn.pre_ind, conn.post_ind]
                              - spec.weight_mean) / np.sqrt(keep))
            if delay is not None:
                conn.delay = delay[conn.pre_ind, conn.post_ind]
        planned.append(conn)

    plan = NetworkPlan(mode, dimensions, list(layers), planned, steps)
    if mode == "spatial":
        plan.scale = steps / box_diagonal(dimensions)
        space = Space(dimensions, bounds=SPACE_BOUNDS, rng=position_rng)
        for layer in layers:
            if any(c.spec.delayed and layer.name in (c.spec.source,
                                                     c.spec.target)
                   for c in planned):
                plan.positions[layer.name] = space.initial_positions(
                    layer.size)
    return plan


def parameter_counts(plan: NetworkPlan) -> dict:
    """Trainable parameters of a planned network.

    Returns:
        ``weights`` (synapses), ``positions`` (D x placed neurons),
        ``delays`` (per-synapse delays learned, ``inf`` mode only),
        ``trainable`` (their sum) and ``per_synapse_delays``: the delays
        that per-synapse delay learning of the same delayed connections
        would need, the count spatial delays replace
    """
    weights = sum(c.num_synapses for c in plan.connections)
    per_synapse = sum(c.num_synapses for c in plan.connections
                      if c.spec.delayed) if plan.mode != "none" else 0
    positions = sum(p.size for p in plan.positions.values())
    delays = per_synapse if plan.mode == "per_synapse" else 0
    return {"weights": int(weights), "positions": int(positions),
            "delays": int(delays), "per_synapse_delays": int(per_synapse),
            "trainable": int(weights + positions + delays)}


# ----------------------------------------------------------------------------
# Data helpers
# ----------------------------------------------------------------------------
@dataclass
class TaskSpec:
    """Neurons, readout, loss and EventProp settings of a task.

    Attributes:
        name:           data set name (names the GeNN models and results)
        output:         ``"lif"`` (spiking output, ``readout`` is
                        ``"first_spike_time"``) or ``"li"`` (leaky
                        integrator, e.g. ``"avg_var_exp_weight"``)
        loss:           name of an mlGeNN loss class (``ml_genn.losses``)
        loss_kwargs:    its arguments
        compiler_kwargs: further EventPropCompiler arguments
                        (regularisation, ``max_spikes``, ``ttfs_alpha``...)
    """
    name: str
    output: str
    readout: str
    loss: str = "SparseCategoricalCrossentropy"
    loss_kwargs: dict = field(default_factory=dict)
    compiler_kwargs: dict = field(default_factory=dict)
    v_thresh: float = 1.0
    tau_mem: float = 20.0
    output_tau_mem: float = 20.0
    tau_syn: float = 5.0


@dataclass
class TaskData:
    """Spike trains of a task: each split is ``(trains, labels)`` with one
    ``(times [ms], ids)`` pair per example; ``validation`` may be None."""
    num_inputs: int
    num_classes: int
    train: tuple
    test: tuple
    example_timesteps: int
    validation: Optional[tuple] = None

    def splits(self) -> Dict[str, tuple]:
        """The splits present, by name."""
        splits = {"train": self.train, "validation": self.validation,
                  "test": self.test}
        return {k: v for k, v in splits.items() if v is not None}

    @property
    def max_spikes(self) -> int:
        """Most input spikes of one example over every split."""
        return max(max((len(t) for t, _ in trains), default=0)
                   for trains, _ in self.splits().values())

    def sizes(self) -> Dict[str, int]:
        """Examples per split (``num_train``, ``num_validation``,
        ``num_test``)."""
        return {f"num_{k}": len(v[1]) for k, v in
                (("train", self.train), ("validation", self.validation),
                 ("test", self.test)) if v is not None}


def limit_examples(split, max_examples: Optional[int]):
    """The first ``max_examples`` examples of a ``(trains, labels)`` split."""
    if max_examples is None:
        return split
    trains, labels = split
    return list(trains[:max_examples]), np.asarray(labels)[:max_examples]


def hold_out(split, fraction: float, seed: int):
    """Split ``(trains, labels)`` into training and validation parts.

    Args:
        split:      ``(trains, labels)``
        fraction:   share of the examples held out for validation, in
                    [0, 1); 0 gives no validation part
        seed:       seed of the random choice of held-out examples

    Returns:
        ``(train, validation)``, validation None when ``fraction`` is 0
    """
    if fraction <= 0.0:
        return split, None
    trains, labels = split
    labels = np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(labels))
    num_validation = int(round(fraction * len(labels)))
    if not 0 < num_validation < len(labels):
        raise ValueError(f"--validation-split {fraction} of {len(labels)} "
                         f"examples leaves an empty split")
    held, kept = np.sort(order[:num_validation]), np.sort(
        order[num_validation:])
    return (([trains[i] for i in kept], labels[kept]),
            ([trains[i] for i in held], labels[held]))


def hidden_class_counts(counts, labels, num_classes: int) -> np.ndarray:
    """Spikes of every hidden neuron summed per class.

    Args:
        counts:         spike counts ``(n_examples, n_hidden)``
        labels:         class of each example ``(n_examples,)``
        num_classes:    number of classes

    Returns:
        ``(n_hidden, num_classes)`` float64 array
    """
    counts = np.asarray(counts, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if counts.ndim != 2 or counts.shape[0] != len(labels):
        raise ValueError(f"counts must have shape (n_examples, n_hidden) "
                         f"with n_examples = {len(labels)}, not "
                         f"{counts.shape}")
    one_hot = np.zeros((len(labels), num_classes))
    one_hot[np.arange(len(labels)), labels] = 1.0
    return counts.T @ one_hot


# ----------------------------------------------------------------------------
# Results and resuming
# ----------------------------------------------------------------------------
def config_of(args) -> dict:
    """The options as JSON values (``dimensions`` stays ``"inf"``)."""
    return {k: v for k, v in sorted(vars(args).items())}


def new_results(dataset: str, args, plan: NetworkPlan, **extra) -> dict:
    """The results record of a run before its first epoch."""
    results = {"dataset": dataset, "config": config_of(args),
               "delay_mode": plan.mode,
               "parameters": parameter_counts(plan), "epochs": [],
               "test_accuracy": None, "complete": False}
    results.update(extra)
    return results


def write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (never a half-written file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, default=_json_default)
    os.replace(tmp, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def record_epoch(results: dict, epoch: int, **values) -> dict:
    """Set values of an epoch's entry in ``results["epochs"]`` (created on
    first use)."""
    for entry in results["epochs"]:
        if entry["epoch"] == epoch:
            entry.update(values)
            return entry
    entry = {"epoch": epoch, "train_accuracy": None,
             "validation_accuracy": None, "time_s": None}
    entry.update(values)
    results["epochs"].append(entry)
    results["epochs"].sort(key=lambda e: e["epoch"])
    return entry


def checkpoint_epochs(checkpoint_dir: str) -> List[int]:
    """Epochs with checkpoint files (``<epoch>-<name>-<var>.npy``, mlGeNN's
    Numpy serialiser), ascending."""
    epochs = set()
    for path in glob.glob(os.path.join(checkpoint_dir, "*-*.npy")):
        head = os.path.basename(path).split("-", 1)[0]
        if head.isdigit():
            epochs.add(int(head))
    return sorted(epochs)


def prepare_resume(args, results_path: str, checkpoint_dir: str):
    """Where a ``--resume`` run starts.

    Returns:
        ``(start_epoch, previous_results)``: 0 and None when there is
        nothing to resume; otherwise the epoch after the last checkpoint
        and the earlier run's results, whose epochs after that checkpoint
        are dropped

    Raises:
        ValueError: if the earlier run used options that define a different
                    network or data
    """
    epochs = checkpoint_epochs(checkpoint_dir)
    if not args.resume or not epochs:
        if args.resume:
            print(f"--resume: no checkpoint in {checkpoint_dir}, starting "
                  f"from epoch 0")
        return 0, None
    previous = None
    if os.path.isfile(results_path):
        with open(results_path) as f:
            previous = json.load(f)
        old, new = previous.get("config", {}), config_of(args)
        changed = sorted(k for k in set(old) | set(new)
                         if k not in RESUMABLE_CHANGES
                         and old.get(k) != new.get(k))
        if changed:
            raise ValueError(
                "--resume: options " + ", ".join(
                    f"{k} (was {old.get(k)!r}, now {new.get(k)!r})"
                    for k in changed)
                + f" differ from the run in {os.path.dirname(results_path)}"
                  f"; give the same values or another --output")
        previous["epochs"] = [e for e in previous.get("epochs", [])
                              if e["epoch"] <= epochs[-1]]
    return epochs[-1] + 1, previous


def print_summary(results: dict) -> None:
    """One line per epoch and the test accuracy."""
    for e in results["epochs"]:
        val = e.get("validation_accuracy")
        val = "" if val is None else f", validation {100 * val:.1f} %"
        train = e.get("train_accuracy")
        train = "-" if train is None else f"{100 * train:.1f} %"
        print(f"epoch {e['epoch']}: train {train}{val}")
    if results.get("test_accuracy") is not None:
        print(f"Test accuracy {100 * results['test_accuracy']:.1f} % "
              f"({results.get('backend')})")


# ----------------------------------------------------------------------------
# Running a task
# ----------------------------------------------------------------------------
def require_genn(script: str) -> None:
    """A clear ImportError, saying how to install them, when pygenn or
    ml_genn is missing."""
    from ml_genn_spatial._genn import require_genn as require
    require(f"examples/{script}.py")


def run_with_genn(args, task: TaskSpec, data: TaskData,
                  layers: Sequence[LayerSpec],
                  connections: Sequence[ConnectionSpec]) -> dict:
    """Plan the network and train and test it on GeNN
    (:func:`spatial_genn.run`)."""
    require_genn(task.name)
    plan = plan_network(args, layers, connections)
    import spatial_genn
    return spatial_genn.run(args, task, plan, data)


# ----------------------------------------------------------------------------
# SHD and SSC (shd.py, ssc.py)
# ----------------------------------------------------------------------------
#: Defaults of the Heidelberg scripts: one recurrent hidden layer of 128
#: LIF neurons with 2-D positions in [-1, 1] ("Space as Time Through Neuron
#: Position Learning"); dt, epochs, learning rate and GPU batch size of
#: mlGeNN's SHD EventProp example. The maximum delay and the position
#: learning rate are ours (not published)
HEIDELBERG_DEFAULTS = {"dimensions": 2, "hidden": 128, "recurrent": True,
                       "epochs": 100, "lr": 0.001, "position_lr": 0.001,
                       "max_delay": 150.0, "dt": 1.0, "gpu_batch_size": 32}


def heidelberg_task(name: str) -> TaskSpec:
    """mlGeNN's SHD EventProp example: leaky-integrator output with the
    exponentially weighted average readout, cross-entropy loss and its
    spike-count regularisation."""
    return TaskSpec(name=name, output="li", readout="avg_var_exp_weight",
                    compiler_kwargs={"reg_lambda_upper": 2.5e-10,
                                     "reg_lambda_lower": 2.5e-10,
                                     "reg_nu_upper": 14, "max_spikes": 1500})


def heidelberg_parser(name: str, description: str, has_validation: bool
                      ) -> argparse.ArgumentParser:
    """Options of shd.py / ssc.py."""
    defaults = dict(HEIDELBERG_DEFAULTS, output=os.path.join("runs", name))
    parser = make_parser(description, defaults)
    data = parser.add_argument_group("data")
    data.add_argument("--data", default="data",
                      help=f"folder holding {name}_train.h5 ... (directly "
                           f"or in {name.upper()}/, tonic's layout)")
    data.add_argument("--num-channels", type=positive_int, default=None,
                      help="merge neighbouring input channels into this "
                           "many inputs (a divisor of 700); default: all "
                           "700")
    data.add_argument("--max-examples", type=positive_int, default=None,
                      help="use only the first N examples of each split "
                           "(quick runs)")
    data.add_argument("--max-time", type=_positive_float, default=None,
                      help="drop input spikes at or after this time [ms], "
                           "shortening trials; default: keep all")
    if not has_validation:
        data.add_argument("--validation-split", type=_fraction, default=0.0,
                          help="fraction of the training examples held out "
                               "for per-epoch validation")
    return parser


def load_heidelberg(args, loader, num_classes: int, has_validation: bool
                    ) -> TaskData:
    """The splits of SHD or SSC as the options ask (channels merged, trials
    cut, examples limited)."""
    from ml_genn_spatial.datasets import (HEIDELBERG_NUM_CHANNELS,
                                          bin_channels, example_timesteps,
                                          truncate_spike_trains)
    num_inputs = HEIDELBERG_NUM_CHANNELS
    factor = 1
    if args.num_channels is not None:
        if HEIDELBERG_NUM_CHANNELS % args.num_channels:
            divisors = [d for d in range(1, HEIDELBERG_NUM_CHANNELS + 1)
                        if HEIDELBERG_NUM_CHANNELS % d == 0]
            raise ValueError(f"--num-channels must divide "
                             f"{HEIDELBERG_NUM_CHANNELS}: one of {divisors}")
        num_inputs = args.num_channels
        factor = HEIDELBERG_NUM_CHANNELS // args.num_channels

    def load(split):
        trains, labels = limit_examples(loader(args.data, split),
                                        args.max_examples)
        if factor > 1:
            trains = bin_channels(trains, factor)
        if args.max_time is not None:
            trains = truncate_spike_trains(trains, args.max_time)
        return trains, labels

    train, test = load("train"), load("test")
    if has_validation:
        validation = load("valid")
    else:
        train, validation = hold_out(train, args.validation_split, args.seed)
    splits = [s for s in (train, validation, test) if s is not None]
    timesteps = example_timesteps([t for trains, _ in splits
                                   for t in trains], args.dt)
    return TaskData(num_inputs, num_classes, train, test, timesteps,
                    validation)


def heidelberg_network(args, num_inputs: int, num_classes: int):
    """Layers and connections of the Heidelberg scripts: input -> hidden
    (-> hidden) with delays, hidden -> output without; initial weights of
    mlGeNN's SHD example."""
    layers = [LayerSpec("input", num_inputs, "input"),
              LayerSpec("hidden", args.hidden, "hidden"),
              LayerSpec("output", num_classes, "output")]
    connections = [ConnectionSpec("input_hidden", "input", "hidden",
                                  0.03, 0.01, delayed=True)]
    if args.recurrent:
        connections.append(ConnectionSpec("hidden_hidden", "hidden",
                                          "hidden", 0.0, 0.02, delayed=True))
    connections.append(ConnectionSpec("hidden_output", "hidden", "output",
                                      0.0, 0.03, delayed=False))
    return layers, connections


def heidelberg_main(name: str, description: str, loader, num_classes: int,
                    has_validation: bool, argv=None) -> dict:
    """Everything shd.py / ssc.py do."""
    args = heidelberg_parser(name, description, has_validation).parse_args(
        argv)
    check_args(args)
    require_genn(name)
    data = load_heidelberg(args, loader, num_classes, has_validation)
    layers, connections = heidelberg_network(args, data.num_inputs,
                                             data.num_classes)
    return run_with_genn(args, heidelberg_task(name), data, layers,
                         connections)
