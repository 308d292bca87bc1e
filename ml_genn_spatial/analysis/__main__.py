"""Command line: figures and metrics of a learned layout.

    python3 -m ml_genn_spatial.analysis RUN --output FOLDER

where RUN is a run folder holding ``layout.npz`` or a layout ``.npz``,
writes PNG figures and ``summary.json`` into FOLDER and prints their paths.
Bad options end in a one-line usage error (exit status 2), unreadable files
in a one-line error naming the file (exit status 1).
"""
import argparse
import os
import sys

from ..runs.options import (non_negative_int, non_negative_real,
                            positive_int, share)
from .layout_file import load_run
from .report import DEFAULT_TOP_FRACTION, write_report


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m ml_genn_spatial.analysis",
        description="Figures and metrics (summary.json) of a learned spatial "
                    "layout: delays, connection lengths, weight against "
                    "distance, graph measures of the recurrent connectivity "
                    "and spatial clustering of function.")
    parser.add_argument("run", help="run folder holding layout.npz (and "
                        "optionally hidden_class_counts.npy, results.json), "
                        "or a layout .npz")
    parser.add_argument("--output", required=True,
                        help="folder for the PNG figures and summary.json")
    parser.add_argument("--class-counts", default=None,
                        help="spike counts per neuron and class, .npy of "
                             "shape (N, classes) (default: "
                             "hidden_class_counts.npy beside the layout)")
    parser.add_argument("--class-population", default=None,
                        help="population the class counts belong to "
                             "(default: inferred from their rows)")
    parser.add_argument("--top-fraction", type=share, default=None,
                        help=f"share of the strongest synapses kept in the "
                             f"graph of a recurrent connection (default "
                             f"{DEFAULT_TOP_FRACTION} for dense connections "
                             f"without --threshold; all for sparse ones)")
    parser.add_argument("--threshold", type=non_negative_real, default=None,
                        help="keep only synapses with |w| above this in the "
                             "recurrent graph")
    parser.add_argument("--communities", choices=("greedy", "louvain"),
                        default="greedy",
                        help="community detection (default greedy "
                             "modularity)")
    parser.add_argument("--random-graphs", type=positive_int, default=5,
                        help="random reference graphs of the small-world "
                             "coefficient (default 5)")
    parser.add_argument("--permutations", type=positive_int, default=1000,
                        help="label shuffles of the spatial clustering test "
                             "(default 1000)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of every random choice (default 0)")
    return parser


def parse_args(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    if not os.path.exists(args.run):
        parser.error(f"RUN {args.run} does not exist: give a run folder or "
                     f"a layout .npz")
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        parser.error(f"--output {args.output} is a file: give a folder")
    if args.class_counts is not None and not os.path.isfile(
            args.class_counts):
        parser.error(f"--class-counts {args.class_counts} is not a file")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        run = load_run(args.run, class_counts=args.class_counts)
        written = write_report(
            run, args.output, top_fraction=args.top_fraction,
            threshold=args.threshold, community_method=args.communities,
            random_graphs=args.random_graphs,
            permutations=args.permutations, seed=args.seed,
            class_population_name=args.class_population)
    except (ImportError, OSError, ValueError) as error:
        sys.exit(f"error: {error}")
    for path in written["figures"]:
        print(f"Wrote {path}")
    print(f"Wrote {written['summary']}")
    return written


if __name__ == "__main__":
    main()
