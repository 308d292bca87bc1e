"""Data options of the SHD / SSC scripts: which examples, channels and
spikes a run uses, checked when parsed. No GeNN import."""
import argparse
import os

import numpy as np

from ..datasets import (HEIDELBERG_NUM_CHANNELS, bin_channels,
                        example_timesteps, truncate_spike_trains)
from .folder import RunError
from .options import fraction, non_negative_int, positive_int, positive_real


def num_channels(text: str) -> int:
    """``--num-channels``: a divisor of 700 (neighbouring channels are
    merged)."""
    value = positive_int(text)
    if HEIDELBERG_NUM_CHANNELS % value:
        divisors = [d for d in range(1, HEIDELBERG_NUM_CHANNELS + 1)
                    if HEIDELBERG_NUM_CHANNELS % d == 0]
        raise argparse.ArgumentTypeError(
            f"must divide {HEIDELBERG_NUM_CHANNELS}: one of {divisors}, not "
            f"{value}")
    return value


def add_heidelberg_options(parser, name: str, has_validation: bool):
    """``--data``, ``--num-channels``, ``--max-examples``, ``--max-time``,
    augmentation (``--shift``, ``--blend``), ``--no-warm-up`` and, for SHD
    (no published validation split), ``--validation-split``."""
    data = parser.add_argument_group("data")
    data.add_argument("--data", default="data",
                      help=f"folder holding {name}_train.h5 ... (directly "
                           f"or in {name.upper()}/, tonic's layout)")
    data.add_argument("--num-channels", type=num_channels, default=None,
                      help="merge neighbouring input channels into this "
                           "many inputs (a divisor of 700); default: 700")
    data.add_argument("--max-examples", type=positive_int, default=None,
                      help="use only the first N examples of each split")
    data.add_argument("--max-time", type=positive_real, default=None,
                      help="drop input spikes at or after this time [ms]")
    data.add_argument("--shift", type=non_negative_int, default=40,
                      help="augmentation: shift each training example by "
                           "a random number of channels in [-N, N] every "
                           "epoch (2501.07331: 40); 0: off")
    data.add_argument("--blend", type=fraction, default=0.5,
                      help="augmentation: add examples blended from two "
                           "of one class, keeping each spike with this "
                           "probability (2501.07331: 0.5); 0: off")
    parser.add_argument("--no-warm-up", dest="warm_up",
                        action="store_false",
                        help="start at --lr instead of warming every "
                             "learning rate up from 1/100 of it (x1.05 per "
                             "batch, 2501.07331)")
    if not has_validation:
        data.add_argument("--validation-split", type=fraction, default=0.0,
                          help="fraction of the training examples held out "
                               "for per-epoch validation")


def check_heidelberg_options(parser, args) -> None:
    """Refuse data options impossible with the others (``parser.error``)."""
    if not os.path.isdir(args.data):
        parser.error(f"--data {args.data} is not a folder: give the folder "
                     f"holding the data set's .h5 files")
    if args.max_time is not None and not args.dt < args.max_time:
        parser.error(f"--dt {args.dt} ms is not shorter than --max-time "
                     f"{args.max_time} ms")


def hold_out(split, fraction_held: float, seed: int):
    """Split ``(trains, labels)`` into training and validation parts.

    Args:
        split:          ``(trains, labels)``
        fraction_held:  share of the examples held out, in [0, 1); 0 gives
                        no validation part
        seed:           seed of the random choice

    Returns:
        ``(train, validation)``, validation None when ``fraction_held`` is 0

    Raises:
        RunError: naming ``--validation-split``, if a part would be empty
    """
    if fraction_held <= 0.0:
        return split, None
    trains, labels = split
    labels = np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(labels))
    held = int(round(fraction_held * len(labels)))
    if not 0 < held < len(labels):
        raise RunError(f"--validation-split {fraction_held} of "
                       f"{len(labels)} examples leaves an empty split")
    held, kept = np.sort(order[:held]), np.sort(order[held:])
    return (([trains[i] for i in kept], labels[kept]),
            ([trains[i] for i in held], labels[held]))


def load_split(loader, args, split: str):
    """One split as the options ask: at most ``--max-examples`` examples,
    spikes before ``--max-time``; channels are merged later (after any
    augmentation) with :func:`merge_channels`.

    Raises:
        RunError: naming the data folder and split, if the file is missing
                  or damaged
    """
    try:
        trains, labels = loader(args.data, split)
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"--data {args.data}, split {split!r}: {exc}")
    if args.max_examples is not None:
        trains, labels = trains[:args.max_examples], labels[
            :args.max_examples]
    if args.max_time is not None:
        trains = truncate_spike_trains(trains, args.max_time)
    return list(trains), np.asarray(labels)


def merge_channels(trains, args):
    """Merge neighbouring channels into ``--num-channels`` inputs."""
    if args.num_channels is None:
        return trains
    return bin_channels(trains, HEIDELBERG_NUM_CHANNELS // args.num_channels)


def trial_timesteps(parser, args, splits) -> int:
    """Timesteps of ``--dt`` a trial needs for every split's spikes;
    refuses (``parser.error``) a ``--dt`` that leaves fewer than 2."""
    steps = example_timesteps([t for trains, _ in splits for t in trains],
                              args.dt)
    if steps < 2:
        parser.error(f"--dt {args.dt} ms is longer than the trials: give a "
                     f"shorter --dt")
    return steps
