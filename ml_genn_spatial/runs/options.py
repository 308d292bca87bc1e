"""Command-line options shared by the training scripts, checked when parsed.

Every value is refused by argparse itself (a one-line ``error:`` naming the
option, exit status 2) when it is out of range, not finite, of the wrong
kind, or impossible together with another option. No GeNN import.
"""
import argparse
import math
from typing import Optional

import numpy as np

from ..geometry import spread_box
from .folder import RunError, output_problem
from .schedule import COSINE_FINAL_FRACTION, LR_SCHEDULES

#: Largest number of spatial dimensions the scripts accept
MAX_DIMENSIONS = 8

#: Box the spatial populations live in [space units] ("Space as Time
#: Through Neuron Position Learning": positions in [-1, 1]^2)
SPACE_BOUNDS = (-1.0, 1.0)

#: GeNN holds dendritic delays of up to this many timesteps
MAX_DELAY_STEPS = 65534

#: ``--backend`` values: GeNN's CPU and CUDA backends and the NumPy
#: reference model of ml_genn_spatial.reference
BACKENDS = ("single_threaded_cpu", "cuda", "reference")


# ----------------------------------------------------------------------------
# Value types (argparse ``type=``): each refuses with what is allowed
# ----------------------------------------------------------------------------
def _number(text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, not {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, not "
                                         f"{value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, not "
                                         f"{value}")
    return value


def positive_real(text: str) -> float:
    """A finite number > 0."""
    value = _number(text)
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, "
                                         f"not {text!r}")
    return value


def non_negative_real(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text)
    if value < 0.0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, "
                                         f"not {text!r}")
    return value


def share(text: str) -> float:
    """A number in (0, 1]."""
    value = _number(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1)."""
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), not {text!r}")
    return value


def unit_interval(text: str) -> float:
    """A number in [0, 1]."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], not {text!r}")
    return value


def dimensions(text: str):
    """``--dimensions``: an integer 0 ... 8, or ``inf``."""
    if str(text).strip().lower() in ("inf", "infinity", "\u221e"):
        return "inf"
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_DIMENSIONS:
        raise argparse.ArgumentTypeError(
            f"must be 0 (no delays), 1 ... {MAX_DIMENSIONS} (spatial "
            f"delays) or inf (per-synapse delays), not {text!r}")
    return value


def delay_mode(dims) -> str:
    """``"none"``, ``"spatial"`` or ``"per_synapse"`` for a
    ``--dimensions`` value."""
    if dims == "inf":
        return "per_synapse"
    return "none" if dims == 0 else "spatial"


# ----------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------
class _HelpFormatter(argparse.RawDescriptionHelpFormatter,
                     argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's lines; shows defaults, except None and
    those of on/off flags."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def make_parser(description: str, defaults: dict) -> argparse.ArgumentParser:
    """The options every training script has, with the script's defaults.

    Args:
        description:    ``--help`` text (the script's docstring)
        defaults:       default of each option by dest name: ``dimensions``,
                        ``hidden``, ``recurrent``, ``epochs``, ``lr``,
                        ``position_lr``, ``max_delay`` [ms], ``dt`` [ms],
                        ``output`` and ``gpu_batch_size`` (the batch size
                        on CUDA when ``--batch-size`` is not given)
    """
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=_HelpFormatter)
    net = parser.add_argument_group("network")
    net.add_argument("--dimensions", type=dimensions,
                     default=defaults["dimensions"],
                     help="0: no delays; 1-8: neurons have learnable "
                          "positions in [-1, 1]^D and delays are "
                          "distances; inf: mlGeNN's per-synapse learnable "
                          "delays (comparison)")
    net.add_argument("--hidden", type=positive_int,
                     default=defaults["hidden"], help="hidden LIF neurons")
    recurrent = net.add_mutually_exclusive_group()
    on = defaults["recurrent"]
    recurrent.add_argument("--recurrent", dest="recurrent",
                           action="store_true",
                           help="add a delayed hidden->hidden connection"
                                + (" (default)" if on else ""))
    recurrent.add_argument("--no-recurrent", dest="recurrent",
                           action="store_false",
                           help="no hidden->hidden connection"
                                + ("" if on else " (default)"))
    parser.set_defaults(recurrent=on)
    net.add_argument("--sparsity", type=fraction, default=0.0,
                     help="fraction of the synapses of the delayed "
                          "connections removed (> 0: sparse connections); "
                          "kept weights are scaled so each neuron's "
                          "expected input stays that of the dense draw")
    net.add_argument("--sparse-connections", choices=["all", "recurrent"],
                     default="all",
                     help="which delayed connections --sparsity thins")
    net.add_argument("--rewiring", action="store_true",
                     help="DEEP R structural plasticity of the sparse "
                          "connections (needs --sparsity > 0)")
    net.add_argument("--regrowth-length", type=positive_real, default=None,
                     help="with --rewiring of spatial connections: regrow "
                          "towards targets with probability ~ "
                          "exp(-distance / length) [space units]; "
                          "default: uniformly")
    net.add_argument("--wiring-cost", type=non_negative_real, default=0.0,
                     help="strength lambda of the wiring cost lambda * sum "
                          "|w| * distance (needs --dimensions 1-8)")
    net.add_argument("--max-delay", type=positive_real,
                     default=defaults["max_delay"],
                     help="largest delay [ms]; spatial delays reach it at "
                          "the diagonal of the box")

    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int,
                       default=defaults["epochs"],
                       help="total epochs (a resumed run continues up to "
                            "this number)")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help=f"trials per batch; default: 1 on GeNN's CPU "
                            f"backend (which runs batch size 1 only), "
                            f"{defaults['gpu_batch_size']} on CUDA")
    train.add_argument("--accumulate-batches", type=positive_int,
                       default=1, metavar="N",
                       help="one optimiser step per N batches, with their "
                            "mean gradient: the steps of batch size N x "
                            "--batch-size (on the CPU backend, batch N)")
    train.add_argument("--lr", type=positive_real, default=defaults["lr"],
                       help="Adam learning rate of the weights")
    train.add_argument("--position-lr", type=positive_real,
                       default=defaults["position_lr"],
                       help="Adam learning rate of the positions [space "
                            "units]")
    train.add_argument("--delay-lr", type=positive_real,
                       default=defaults.get("delay_lr"),
                       help="Adam learning rate of per-synapse delays "
                            "[timesteps] (--dimensions inf); default: "
                            "--position-lr times the delay per space unit "
                            "of a 2-D box")
    train.add_argument("--dt", type=positive_real, default=defaults["dt"],
                       help="simulation timestep [ms], also for testing")
    train.add_argument("--seed", type=non_negative_int, default=1,
                       help="seed of weights, positions, synapses and "
                            "shuffling")
    train.add_argument("--backend", choices=BACKENDS, default=None,
                       help="default: GeNN's best backend when pygenn is "
                            "installed (CUDA when built with it), else the "
                            "NumPy reference model where the script has one")

    files = parser.add_argument_group("files")
    files.add_argument("--output", default=defaults["output"],
                       help="run folder: results.json, checkpoints/, "
                            "layout.npz, hidden_class_counts.npy")
    again = files.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run in --output from its last "
                            "good checkpoint (optimiser state starts "
                            "afresh)")
    again.add_argument("--overwrite", action="store_true",
                       help="delete the run files in --output first")
    parser.set_defaults(gpu_batch_size=defaults["gpu_batch_size"])
    return parser


def _option_group(parser, title: str):
    """The argument group ``title`` of a :func:`make_parser` parser."""
    return next(g for g in parser._action_groups if g.title == title)


def add_lr_schedule_options(parser) -> None:
    """``--lr-schedule``, ``--lr-final`` and ``--lr-warm-up``: every
    learning rate (weights, positions, delays) follows one schedule over
    the run's batches (:func:`~.schedule.learning_rate_scale`)."""
    train = _option_group(parser, "training")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                       default="constant",
                       help="cosine: decay every learning rate over the "
                            "run's batches to --lr-final of itself")
    train.add_argument("--lr-final", type=unit_interval,
                       default=COSINE_FINAL_FRACTION,
                       help="with --lr-schedule cosine: the last learning "
                            "rate over the first (the SpSNN paper's: "
                            f"{COSINE_FINAL_FRACTION:g}; 0: decay to zero)")
    train.add_argument("--lr-warm-up", type=non_negative_int, default=0,
                       help="batches over which every learning rate rises "
                            "linearly to its value (0: none)")


def add_spread_output_option(parser) -> None:
    """``--spread-output DRAWS`` (network options): the output neurons at
    the most spread of DRAWS uniform draws
    (:func:`spread_output_positions`)."""
    network = _option_group(parser, "network")
    network.add_argument("--spread-output", type=non_negative_int, default=0,
                         metavar="DRAWS",
                         help="place the output neurons at the most spread "
                              "(largest smallest distance) of DRAWS uniform "
                              "draws of their own (needs --dimensions "
                              f"1-{MAX_DIMENSIONS}; 0: drawn with the other "
                              "populations)")


def add_single_spike_option(parser) -> None:
    """``--single-spike`` / ``--no-single-spike`` (network options): LIF
    neurons that spike at most once per trial (:func:`lif_params`)."""
    network = _option_group(parser, "network")
    network.add_argument("--single-spike",
                         action=argparse.BooleanOptionalAction,
                         default=False,
                         help="LIF neurons spike at most once per trial and "
                              "are then held at 0 (the SpSNN paper's "
                              "neurons: a refractory period of twice the "
                              "trial)")


def lif_params(args, trial_time: float) -> dict:
    """The LIF neurons' parameters: threshold 1, ``--tau-mem`` and, with
    ``--single-spike``, a refractory period of twice the ``trial_time``
    [ms], in which EventProp's LIF neurons are held at ``v_reset = 0``.
    mlGeNN's adjoint ignores refractoriness, which is exact for a period
    that outlasts the trial (the reference model's notes; its
    finite-difference tests)."""
    return dict(v_thresh=1.0, tau_mem=args.tau_mem,
                tau_refrac=2.0 * trial_time if args.single_spike else None)


def add_first_spike_loss_options(parser) -> None:
    """``--softmax-temperature`` and ``--ttfs-alpha`` (training options):
    the first-spike-time cross-entropy of mlGeNN's EventProp compiler
    (and the reference model), softmax over minus the output spike times
    divided by the temperature [ms], plus the regulariser ``ttfs_alpha /
    (1.01 T - t)^2`` that pulls the correct output's spike early."""
    train = _option_group(parser, "training")
    train.add_argument("--softmax-temperature", type=positive_real,
                       default=0.5,
                       help="temperature of the softmax over minus the "
                            "output spike times [ms] (default: 0.5)")
    train.add_argument("--ttfs-alpha", type=non_negative_real, default=0.1,
                       help="strength of the regulariser pulling the "
                            "correct output's first spike early "
                            "(default: 0.1)")


def add_recycle_silent_option(parser) -> None:
    """``--recycle-silent TRIALS`` (training options): hidden neurons with
    no spike in TRIALS training trials get fresh input weights and zero
    output weights (:class:`~ml_genn_spatial.callbacks.RecycleSilent`)."""
    train = _option_group(parser, "training")
    train.add_argument("--recycle-silent", type=non_negative_int, default=0,
                       metavar="TRIALS",
                       help="recycle hidden neurons with no spike in TRIALS "
                            "training trials (ReDo): new input weights from "
                            "their initial distribution, output weights 0 "
                            "(0: never; dense connections, GeNN backends)")


def add_yin_yang_data_options(parser, trial_time: float) -> None:
    """The Yin-Yang splits' sizes and ``--input-window``, the span of the
    inputs' latency code [ms] in trials of ``trial_time`` ms."""
    data = parser.add_argument_group("data")
    data.add_argument("--train-size", type=positive_int, default=3000,
                      help="training examples")
    data.add_argument("--validation-size", type=non_negative_int,
                      default=300, help="validation examples tested after "
                                        "every epoch (0: none)")
    data.add_argument("--test-size", type=positive_int, default=1000,
                      help="test examples")
    data.add_argument("--input-window", type=positive_real,
                      default=trial_time, help="span of the latency code "
                      f"[ms] (default: the {trial_time:g} ms trial)")


def check_options(parser: argparse.ArgumentParser, args,
                  backends=BACKENDS) -> None:
    """Refuse, through ``parser.error`` (exit status 2), options that are
    impossible together or with the files and software present.

    Args:
        parser:     the parser that read ``args``
        args:       its result
        backends:   the backends this script supports
    """
    error = parser.error
    mode = delay_mode(args.dimensions)
    spatial = mode == "spatial"
    if args.wiring_cost > 0.0 and not spatial:
        error("--wiring-cost weighs every synapse by its length: it needs "
              f"positions, --dimensions 1 ... {MAX_DIMENSIONS}")
    if args.rewiring and args.sparsity == 0.0:
        error("--rewiring rewires sparse connections: give --sparsity > 0 "
              "as well")
    if args.regrowth_length is not None and not (args.rewiring and spatial):
        error("--regrowth-length shapes DEEP R's regrowth in space: it "
              f"needs --rewiring and --dimensions 1 ... {MAX_DIMENSIONS}")
    if args.sparse_connections == "recurrent" and not args.recurrent \
            and args.sparsity > 0.0:
        error("--sparse-connections recurrent thins the hidden->hidden "
              "connection: it needs --recurrent")
    if (args.delay_lr != parser.get_default("delay_lr")
            and mode != "per_synapse"):
        error("--delay-lr is the learning rate of per-synapse delays: it "
              "needs --dimensions inf")
    if (hasattr(args, "lr_final") and args.lr_schedule != "cosine"
            and args.lr_final != parser.get_default("lr_final")):
        error("--lr-final is where the cosine schedule ends: it needs "
              "--lr-schedule cosine")
    if getattr(args, "spread_output", 0) and not spatial:
        error(f"--spread-output places the output neurons in space: it "
              f"needs --dimensions 1 ... {MAX_DIMENSIONS}")
    if mode != "none":
        if args.max_delay < args.dt:
            error(f"--max-delay {args.max_delay} ms is shorter than one "
                  f"--dt {args.dt} ms step: give at least --dt")
        if max_delay_steps(args) > MAX_DELAY_STEPS:
            error(f"--max-delay {args.max_delay} ms is "
                  f"{max_delay_steps(args)} steps of --dt {args.dt} ms; "
                  f"GeNN holds at most {MAX_DELAY_STEPS}: lower --max-delay "
                  f"or raise --dt")
    if args.backend is not None and args.backend not in backends:
        error(f"--backend {args.backend} is not available to this script "
              f"(it has {', '.join(backends)})")
    if args.backend in ("single_threaded_cpu", "cuda"):
        problem = genn_backend_problem(args.backend)
        if problem:
            error(f"--backend {args.backend}: {problem}")
    if args.backend == "single_threaded_cpu" and (args.batch_size or 1) > 1:
        error(f"--batch-size {args.batch_size}: GeNN's single_threaded_cpu "
              f"backend runs batch size 1 only (CUDA runs larger batches)")
    if getattr(args, "recycle_silent", 0) and args.sparsity > 0.0:
        error("--recycle-silent draws the weights of dense connections: "
              "it cannot be combined with --sparsity")
    if args.backend == "reference":
        problem = reference_problem(args)
        if problem:
            error(f"{problem}: give a GeNN --backend")
    problem = output_problem(args.output, args.resume, args.overwrite)
    if problem:
        error(problem)


def check_input_window(parser, args, trial_time: float,
                       margin_steps: int = 2) -> None:
    """Refuse an ``--input-window`` [ms] longer than the trial of
    ``trial_time`` [ms] or too short for ``margin_steps`` steps of
    ``--dt`` at each end (``parser.error``)."""
    if args.input_window > trial_time:
        parser.error(f"--input-window {args.input_window:g} ms is longer "
                     f"than the {trial_time:g} ms trial")
    if not args.dt * 2 * margin_steps < args.input_window:
        parser.error(f"--dt {args.dt} ms is too long for an --input-window "
                     f"of {args.input_window:g} ms: it must be below "
                     f"{args.input_window / (2 * margin_steps):g} ms")


def check_tau_mem(parser, args, tau_syn: float) -> None:
    """Refuse a ``--tau-mem`` equal to the synapses' ``tau_syn`` [ms]:
    EventProp divides by their difference (``parser.error``)."""
    if math.isclose(args.tau_mem, tau_syn):
        parser.error(f"--tau-mem {args.tau_mem:g} ms equals the synapses' "
                     f"time constant: EventProp divides by their "
                     f"difference, choose another")


def genn_backend_problem(backend: str):
    """Why GeNN's ``backend`` cannot run here, or None when it can."""
    try:
        from pygenn.genn_model import backend_modules
        import ml_genn  # noqa: F401
    except ImportError as exc:
        return (f"pygenn / ml_genn cannot be imported ({exc}); install GeNN "
                f"and mlGeNN as README.md describes, or use --backend "
                f"reference")
    if backend not in backend_modules:
        return (f"this pygenn build has only {', '.join(backend_modules)}; "
                f"CUDA needs pygenn built with CUDA_PATH set")
    return None


def max_delay_steps(args) -> int:
    """``--max-delay`` [ms] in timesteps of ``--dt`` (at least 1)."""
    return max(1, int(round(args.max_delay / args.dt)))


def box_diagonal(dims: int, bounds=SPACE_BOUNDS) -> float:
    """Length of the diagonal of the box ``bounds^D`` [space units]."""
    return math.sqrt(dims) * (bounds[1] - bounds[0])


def spread_output_positions(args, num_outputs: int):
    """``--spread-output``: initial positions of the output neurons, the
    most spread of ``args.spread_output`` uniform draws from the box
    (:func:`~ml_genn_spatial.geometry.spread_box`), from a generator of
    their own (``--seed`` and 1), so the other populations' draws stay
    those of a run without the option; ``None`` when it is 0."""
    if not args.spread_output:
        return None
    return spread_box(num_outputs, args.dimensions, *SPACE_BOUNDS,
                      draws=args.spread_output,
                      rng=np.random.default_rng((args.seed, 1)))


def delay_learning_rate(args) -> float:
    """``--delay-lr`` [timesteps], or its default: ``--position-lr`` times
    the delay per space unit [timesteps] of a 2-D box."""
    if args.delay_lr is not None:
        return args.delay_lr
    return args.position_lr * max_delay_steps(args) / box_diagonal(2)


def reference_problem(args) -> Optional[str]:
    """What the options ask of the NumPy reference model that it cannot do
    (GeNN only), or None. Checked for ``--backend reference`` by
    :func:`check_options` and for the fallback to it by
    :func:`resolve_backend`."""
    if getattr(args, "recycle_silent", 0):
        return ("--recycle-silent: the NumPy reference model does not "
                "recycle neurons")
    if getattr(args, "rewiring", False):
        return "--rewiring: the NumPy reference model has no DEEP R"
    return None


def resolve_backend(args, script: str,
                    reference_available: bool = False) -> str:
    """The backend a run uses: ``--backend``, else GeNN's first (CUDA when
    pygenn was built with it), else the NumPy reference model when the
    script has one (saying so).

    Args:
        args:       the parsed options
        script:     the script's name, for the error message
        reference_available: whether the script can train the reference

    Raises:
        RunError: if GeNN is missing and the script has no reference,
                  or the options ask what the reference cannot do
    """
    if args.backend is not None:
        return args.backend
    try:
        from pygenn.genn_model import backend_modules
        import ml_genn  # noqa: F401
    except ImportError:
        if not reference_available:
            raise RunError(f"{script} trains on GeNN, and pygenn / ml_genn "
                           f"cannot be imported: install GeNN and mlGeNN "
                           f"as README.md describes")
        problem = reference_problem(args)
        if problem:
            raise RunError(f"{problem}, and pygenn / ml_genn cannot be "
                           f"imported: install GeNN and mlGeNN as README.md "
                           f"describes")
        print("pygenn / ml_genn are not installed: training the NumPy "
              "reference model instead (--backend reference; README.md "
              "says how to install GeNN)")
        return "reference"
    return next(iter(backend_modules))


def resolve_batch_size(args, backend: str) -> int:
    """``--batch-size``, or its default for ``backend``."""
    if args.batch_size is not None:
        return args.batch_size
    return 1 if "cpu" in backend else args.gpu_batch_size
