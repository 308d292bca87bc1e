"""Sweep examples/yin_yang.py over --dimensions and seeds (arXiv
2512.10011's Yin-Yang plot: test accuracy against D).

Trains every (D, seed) of RECIPE on the official split (5000 / 1000 /
1000), -j runs side by side, each in <runs>/d<D>_s<seed> with its log
beside it, and after each run rewrites --results: the recipe, every run
(accuracies of the epoch chosen by validation accuracy, trainable
parameters, seconds, the command that re-runs it) and the median and
interquartile range per D. Resumable: runs already in --results are
skipped (an interrupted run starts afresh); a file of another recipe is
refused. --figure draws test accuracy against D, every seed a dot, and
--table prints the markdown table, from --results only.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter

from ml_genn_spatial import runs
from ml_genn_spatial.runs import sweep

#: examples/yin_yang.py options of every run (see examples/results/
#: yin_yang_recipe.md for why): neurons that spike once per trial and,
#: per D, the hidden width that gives every D about the 1400 trainable
#: parameters of per-synapse delays at 100 hidden neurons;
#: --dimensions, --seed, --output are added
RECIPE = {"backend": "single_threaded_cpu", "train_size": 5000,
          "validation_size": 1000, "test_size": 1000,
          "hidden": {"0": 199, "1": 174, "2": 153, "3": 137, "inf": 100},
          "dt": 0.05, "tau_mem": 10.0, "input_window": 10.0,
          "max_delay": 10.0, "epochs": 20, "lr": 0.002,
          "position_lr": 0.002, "lr_schedule": "cosine",
          "recycle_silent": 500, "single_spike": True}

#: --gpu: a recipe at the paper's scale (steps of batch 150, dt 0.01 ms,
#: 300 epochs of 34 batches, about its 10 000 steps, 500 warm-up batches)
GPU_SCALE = {"backend": "cuda", "batch_size": 150, "accumulate_batches": 1,
             "dt": 0.01, "epochs": 300, "lr_warm_up": 500}
GPU_RECIPE = dict(RECIPE, **GPU_SCALE)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

parser = argparse.ArgumentParser(
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--dimensions", type=runs.dimensions, nargs="+",
                    default=list(sweep.SWEEP_DIMENSIONS),
                    help="the --dimensions to train")
parser.add_argument("--seeds", type=runs.positive_int, default=5,
                    help="seeds 1 ... N of every D")
parser.add_argument("-j", "--jobs", type=runs.positive_int, default=2,
                    help="runs side by side (one core each on the CPU)")
parser.add_argument("--gpu", action="store_true",
                    help="the recipe at the paper's scale (GPU_SCALE: CUDA, "
                         "batch 150, dt 0.01 ms, 300 epochs); default "
                         "--results yin_yang_sweep_gpu.json")
parser.add_argument("--results", default=None,
                    help="the sweep file (relative to the repository); "
                         "default: examples/results/yin_yang_sweep.json")
parser.add_argument("--runs", default="runs/yin_yang_sweep",
                    help="folder of the run folders and logs (relative to "
                         "the repository)")
parser.add_argument("--recipe", default=None,
                    help="a JSON file of yin_yang.py options replacing "
                         "RECIPE, a value may be one per D ({\"2\": 153, "
                         "\"inf\": 100}); another recipe needs another "
                         "--results")
parser.add_argument("--figure", default=None,
                    help="only draw the figure of --results into this file "
                         "(.png, .pdf)")
parser.add_argument("--table", action="store_true",
                    help="only print the markdown table of --results")


def load_recipe(args) -> dict:
    recipe = RECIPE
    if args.recipe is not None:
        try:
            with open(args.recipe) as f:
                recipe = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise runs.RunError(f"--recipe {args.recipe} is damaged ({exc})")
        if not isinstance(recipe, dict):
            raise runs.RunError(f"--recipe {args.recipe} is not a JSON "
                                f"object")
    return dict(recipe, **GPU_SCALE) if args.gpu else dict(recipe)


def train(args, recipe: dict) -> dict:
    path = os.path.join(ROOT, args.results)
    state = sweep.open_sweep(path, recipe)
    done = sweep.finished(state)
    todo = [(sweep.dimensions_key(d), s) for d in args.dimensions
            for s in range(1, args.seeds + 1)
            if (sweep.dimensions_key(d), s) not in done]
    commands = {(d, s): sweep.run_argv(recipe, d, s, os.path.join(
        args.runs, sweep.run_name(d, s))) for d, s in todo}
    print(f"{len(done)} runs in {args.results}, {len(todo)} to train, "
          f"{args.jobs} at a time")
    os.makedirs(os.path.join(ROOT, args.runs), exist_ok=True)
    lock = threading.Lock()

    def one(dims, seed):
        argv = commands[dims, seed]
        output = argv[argv.index("--output") + 1]
        clock = perf_counter()
        with open(os.path.join(ROOT, output + ".log"), "w") as log:
            done = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        seconds = perf_counter() - clock
        if done.returncode != 0:
            return f"{output}: exit status {done.returncode}, see its .log"
        results = runs.read_results(os.path.join(ROOT, output,
                                                 runs.RESULTS_FILE))
        entry = sweep.run_entry(results, dims, seed, seconds,
                                sweep.command_string(argv))
        with lock:
            sweep.add_run(state, entry)
            sweep.write_sweep(path, state)
        print(f"D {dims} seed {seed}: test {100 * entry['test_accuracy']:.1f}"
              f" % (epoch {entry['tested_epoch']}, validation "
              f"{100 * entry['validation_accuracy']:.1f} %), "
              f"{seconds:.0f} s", flush=True)

    with ThreadPoolExecutor(args.jobs) as pool:
        failures = [f for f in pool.map(lambda t: one(*t), todo) if f]
    for failure in failures:
        print(failure, file=sys.stderr)
    if state["runs"]:
        sweep.write_sweep(path, state)
    if failures:
        raise runs.RunError(f"{len(failures)} runs failed; run the sweep "
                            f"again to retry them")
    return state


def figure(args) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    state = sweep.read_sweep(os.path.join(ROOT, args.results))
    summary = sweep.summarise(state["runs"])
    labels = list(summary)
    per_d = isinstance(state["recipe"].get("hidden"), dict)  # a width per D
    # three-line labels ("2", "153 hidden", "1391") need about an inch each
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(labels) + 0.9)
                                    if per_d else 4.5, 3.2))
    for x, dims in enumerate(labels):
        values = [100 * r["test_accuracy"] for r in state["runs"]
                  if r["dimensions"] == dims]
        jitter = np.linspace(-0.12, 0.12, len(values))
        ax.scatter(x + jitter, values, s=14, color="tab:blue", alpha=0.7)
        q1, q3 = summary[dims]["test_accuracy_quartiles"]
        ax.plot([x - 0.25, x + 0.25], [100 * summary[dims][
            "median_test_accuracy"]] * 2, color="black")
        ax.plot([x, x], [100 * q1, 100 * q3], color="black", lw=3,
                alpha=0.3)
    ticks = ["\u221e" if d == "inf" else d for d in labels]
    if per_d:
        ticks = [f"{t}\n{sweep.recipe_options(state['recipe'], d)['hidden']}"
                 f" hidden" for t, d in zip(ticks, labels)]
    ax.set_xticks(range(len(labels)), [
        f"{t}\n{summary[d]['parameters']}" for t, d in zip(ticks, labels)])
    ax.set_xlabel("dimensions D (\u221e: per-synapse delays)\n"
                  "and trainable parameters")
    ax.set_ylabel("test accuracy [%]")
    ax.set_title("Yin-Yang, epoch chosen by validation", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.figure, dpi=150)
    print(f"wrote {args.figure} from {args.results}")


def main(argv=None):
    args = parser.parse_args(argv)
    if args.results is None:
        args.results = os.path.join("examples", "results", "yin_yang_sweep"
                                    + ("_gpu" if args.gpu else "") + ".json")
    if args.figure is not None:
        return figure(args)
    if args.table:
        print(sweep.markdown_table(sweep.read_sweep(
            os.path.join(ROOT, args.results))["runs"]))
        return None
    return train(args, load_recipe(args))


if __name__ == "__main__":
    with runs.exit_on_error():
        main()
