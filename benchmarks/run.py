"""Time and memory of spatial delays against mlGeNN's weight-only EventProp
and its per-synapse delay learning, trained side by side.

    python3 benchmarks/run.py            # default sweep, a few minutes
    python3 benchmarks/run.py --full     # H = 64 ... 1024
    python3 benchmarks/run.py --cuda     # batch 32 and 256 on CUDA
    python3 benchmarks/run.py --report runs/benchmarks/results.json

For every shape (Yin-Yang-like 5-H-3, SHD-like 700-H(recurrent)-20) and
hidden size H, each mode is built and loaded in its own process (so its
host memory is its own), then all modes train the same number of trials in
interleaved blocks, the mode order rotated every repeat, so that drifts of
the machine hit every mode alike. A Markdown report goes to stdout, every
number to a JSON file (``--output``/results.json by default). The command
exits with status 1 when any requested run failed (after writing the JSON
and the report of the others).
"""
import argparse
import json
import multiprocessing
import os
import platform
import sys
import time

if __package__ in (None, ""):
    # Run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))

from benchmarks import measure                              # noqa: E402
from ml_genn_spatial.runs.options import (                  # noqa: E402
    non_negative_int, positive_int, positive_real, share)
from benchmarks.workloads import (COMPARED_MODES, MODES,    # noqa: E402
                                  SHAPES)

DEFAULT_HIDDEN = (64, 128, 256)
FULL_HIDDEN = (64, 128, 256, 512, 1024)
CUDA_BATCH_SIZES = (32, 256)
TARGET_HIDDEN, TARGET_DIMENSIONS = 256, 3
# The memory model is printed at these batch sizes and hidden sizes
MODEL_BATCH_SIZES = (1, 32, 256)
MODEL_HIDDEN = (256, 512, 1024)
# Issue 10's targets: time per trial at most 1.5x weight-only (stated for
# the dense SHD-like network) and at most 1.0x per-synapse delays;
# delay-related memory (per-synapse / spatial) at least 2 for dense
# connections (spatial at most half) and at least 1 for sparse ones
TARGETS = {"time_vs_weights": 1.5, "time_vs_delays": 1.0,
           "delay_memory_ratio": 2.0}
SPARSE_DELAY_MEMORY_TARGET = 1.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--full", action="store_true",
                        help=f"hidden sizes {list(FULL_HIDDEN)} and more "
                             f"repeats (instead of {list(DEFAULT_HIDDEN)})")
    parser.add_argument("--cuda", action="store_true",
                        help=f"CUDA backend, batch sizes "
                             f"{list(CUDA_BATCH_SIZES)} (untested here: "
                             f"needs an NVIDIA GPU)")
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=None,
                        help="hidden sizes (overrides --full)")
    parser.add_argument("--batch-sizes", type=positive_int, nargs="+",
                        default=None,
                        help="batch sizes (default 1, or 32 256 with --cuda)")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES),
                        choices=list(SHAPES))
    parser.add_argument("--modes", nargs="+", default=list(COMPARED_MODES),
                        choices=list(MODES))
    parser.add_argument("--ablation", action="store_true",
                        help="add the diagnostic modes: "
                             "spatial-3d-noscatter (spatial delays without "
                             "the position-gradient pipeline) and "
                             "spatial-3d(-sparse)-computed (delays "
                             "computed from the distance at every spike "
                             "instead of stored), to split where spatial "
                             "time goes")
    parser.add_argument("--warmup", type=non_negative_int, default=3,
                        help="untimed trials per mode before the first block "
                             "(position learning starts at trial 3)")
    parser.add_argument("--repeats", type=positive_int, default=None,
                        help="interleaved rounds (default 5, 7 with --full)")
    parser.add_argument("--block", type=positive_int, default=3,
                        help="trials per mode per round")
    parser.add_argument("--yin-yang-ms", type=positive_real, default=None,
                        help="Yin-Yang trial length [ms] (default 30)")
    parser.add_argument("--shd-ms", type=positive_real, default=None,
                        help="SHD trial length [ms] (default 1000)")
    parser.add_argument("--shd-spikes", type=positive_real, default=4000.0,
                        help="mean input spikes per SHD-like trial")
    parser.add_argument("--sparse-p", type=share, default=0.1,
                        help="connection probability of the sparse modes")
    parser.add_argument("--no-optimize", action="store_true",
                        help="compile GeNN code without optimisation "
                             "(GeNN's CPU default, -O0) instead of with "
                             "optimize_code=True (-O3 -ffast-math)")
    parser.add_argument("--no-profile", action="store_true",
                        help="do not record GeNN kernel times")
    parser.add_argument("--seed", type=non_negative_int, default=1)
    parser.add_argument("--build-jobs", type=positive_int, default=2,
                        help="modes built at the same time (build times "
                             "then overlap; trial times never do)")
    parser.add_argument("--timeout", type=positive_real, default=900.0,
                        help="seconds to wait for one build or block")
    parser.add_argument("--output", default=os.path.join("runs",
                                                         "benchmarks"),
                        help="folder for the JSON, logs and GeNN code")
    parser.add_argument("--json", default=None,
                        help="JSON path (default <output>/results.json)")
    parser.add_argument("--report", metavar="JSON", default=None,
                        help="print the Markdown report of a results file "
                             "that an earlier run wrote, and run nothing")
    args = parser.parse_args(argv)
    if args.hidden is None:
        args.hidden = list(FULL_HIDDEN if args.full else DEFAULT_HIDDEN)
    if args.repeats is None:
        args.repeats = 7 if args.full else 5
    if args.batch_sizes is None:
        args.batch_sizes = list(CUDA_BATCH_SIZES if args.cuda else (1,))
    args.backend = "cuda" if args.cuda else None
    if args.ablation:
        args.modes += [m for m in MODES if MODES[m].diagnostic
                       and m not in args.modes]
    if args.json is None:
        args.json = os.path.join(args.output, "results.json")
    if args.backend is None and max(args.batch_sizes) > 1:
        parser.error("batch sizes above 1 need the CUDA backend (--cuda)")
    if min(args.hidden) < 1 or min(args.block, args.repeats,
                                   args.build_jobs) < 1:
        parser.error("--hidden, --block, --repeats and --build-jobs must "
                     "be positive")
    return args


def trial_ms(args, shape_name):
    value = {"yin_yang": args.yin_yang_ms, "shd": args.shd_ms}[shape_name]
    return SHAPES[shape_name].trial_ms if value is None else value


class Worker:
    """Parent-side handle of one mode's process."""

    def __init__(self, context, config, timeout):
        from benchmarks.worker import main
        self.config = config
        self.timeout = timeout
        self.conn, child = context.Pipe()
        self.process = context.Process(target=main, args=(child, config),
                                       daemon=True)
        self.process.start()
        child.close()

    def receive(self, expected):
        deadline = time.monotonic() + self.timeout
        while not self.conn.poll(1.0):
            if not self.process.is_alive():
                raise RuntimeError(self._failure("worker exited"))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self._failure(
                    f"no answer in {self.timeout:.0f} s"))
        try:
            message = self.conn.recv()
        except EOFError:
            raise RuntimeError(self._failure("worker exited")) from None
        if message.get("type") == "error":
            raise RuntimeError(message["error"])
        if message.get("type") != expected:
            raise RuntimeError(f"expected {expected}, got {message}")
        return message

    def run_block(self, trials):
        self.conn.send({"cmd": "run", "trials": trials})
        return self.receive("block")

    def _failure(self, what):
        tail = ""
        try:
            with open(self.config["log"]) as log:
                tail = log.read()[-3000:]
        except OSError:
            pass
        return f"{what} (log {self.config['log']}):\n{tail}"

    def stop(self):
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(10)


def _new_result(shape, hidden, batch_size, mode):
    spec = MODES[mode]
    return {"shape": shape, "hidden": hidden, "batch_size": batch_size,
            "mode": mode, "delays": spec.delays,
            "dimensions": spec.dimensions, "sparse": spec.sparse,
            "diagnostic": spec.diagnostic, "status": "ok", "error": None,
            "warmup_times_s": [], "blocks_s": [], "cpu_blocks_s": [],
            "hidden_spikes": [], "profile_blocks_s": []}


def run_configuration(context, args, shape, hidden, batch_size, log):
    """All modes of one (shape, H, batch size), interleaved."""
    total_trials = args.warmup + args.repeats * args.block
    results, workers = {}, {}
    build_dir = os.path.abspath(os.path.join(args.output, "build"))
    log_dir = os.path.abspath(os.path.join(args.output, "logs"))
    os.makedirs(log_dir, exist_ok=True)

    def start(mode):
        name = (f"{shape}_h{hidden}_b{batch_size}_{mode}"
                f"{'_O0' if args.no_optimize else ''}").replace("-", "_")
        config = {"name": name, "shape": shape, "mode": mode,
                  "hidden": hidden, "batch_size": batch_size,
                  "backend": args.backend, "profile": not args.no_profile,
                  "optimize_code": not args.no_optimize,
                  "sparse_p": args.sparse_p, "seed": args.seed,
                  "trial_ms": trial_ms(args, shape),
                  "mean_spikes": args.shd_spikes, "trials": total_trials,
                  "build_dir": build_dir,
                  "log": os.path.join(log_dir, f"{name}.log")}
        result = results[mode] = _new_result(shape, hidden, batch_size, mode)
        result["trial_ms"] = config["trial_ms"]
        log(f"  building {name}")
        workers[mode] = Worker(context, config, args.timeout)

    def ready(mode):
        result = results[mode]
        try:
            message = workers[mode].receive("ready")
        except RuntimeError as error:
            _fail(result, error, workers.pop(mode))
            return
        result["build_s"] = message["build_s"]
        result["backend"] = message["backend"]
        result["max_input_spikes"] = message["max_input_spikes"]
        result["groups"] = message["groups"]
        result["arrays"] = message["records"]
        result["parameters"] = measure.count_parameters(message["groups"])
        result["memory"] = {
            "baseline_rss": message["baseline_rss"],
            "loaded_rss": message["loaded_rss"],
            "build_peak_rss": message["build_peak_rss"],
            "gpu_memory_loaded": message["gpu_memory_loaded"],
            "genn_bytes": measure.group_memory(message["records"]),
            "genn_total_bytes": sum(r["bytes"] for r in message["records"]),
            "delay_related": measure.delay_related_memory(
                message["records"]),
            # The memory model against GeNN's own allocation at this
            # batch size (host copies only on CUDA)
            "model_check": measure.check_model(message["records"],
                                               batch_size)}

    # A few builds at a time (GeNN's make uses every core, code generation
    # one); every process stays alive, idle, until its blocks are asked for
    pending, building = list(args.modes), []
    while pending or building:
        while pending and len(building) < args.build_jobs:
            building.append(pending.pop(0))
            start(building[-1])
        ready(building.pop(0))

    def block(mode, trials, warmup):
        worker = workers.get(mode)
        if worker is None:
            return
        try:
            message = worker.run_block(trials)
        except RuntimeError as error:
            _fail(results[mode], error, workers.pop(mode))
            return
        result = results[mode]
        if warmup:
            result["warmup_times_s"] = message["times"]
            return
        result["blocks_s"].append(message["times"])
        result["cpu_blocks_s"].append(message["cpu_times"])
        result["hidden_spikes"] += message["hidden_spikes"]
        result["profile_blocks_s"].append(message["profile"])

    log(f"  training {args.warmup} warm-up + {args.repeats} x {args.block} "
        f"trials per mode, interleaved")
    load_before = _load_average()
    for mode in args.modes:
        block(mode, args.warmup, True)
    for repeat in range(args.repeats):
        for mode in measure.rotated(args.modes, repeat):
            block(mode, args.block, False)
    load_after = _load_average()

    for mode, worker in list(workers.items()):
        try:
            done = worker.receive("done")
            memory = results[mode]["memory"]
            memory["train_peak_rss"] = done["train_peak_rss"]
            memory["peak_rss"] = done["peak_rss"]
            memory["gpu_memory_trained"] = done["gpu_memory_trained"]
            peak = done["train_peak_rss"] or done["peak_rss"]
            memory["rss_above_baseline"] = peak - memory["baseline_rss"]
        except RuntimeError as error:
            _fail(results[mode], error, None)
        worker.stop()

    for result in results.values():
        result["load_average"] = [load_before, load_after]
        result["profile_per_trial_s"] = measure.profile_per_trial(
            result["profile_blocks_s"], result["blocks_s"], batch_size)
        for key, blocks in (("time_per_trial_s", result["blocks_s"]),
                            ("cpu_time_per_trial_s",
                             result["cpu_blocks_s"])):
            times = [t / batch_size for b in blocks for t in b]
            if key == "time_per_trial_s":
                result["trial_times_s"] = times
            result[key] = measure.summarise_times(times)
        result["hidden_spikes_per_trial"] = (
            float(sum(result["hidden_spikes"]))
            / max(1, len(result["hidden_spikes"]) * batch_size))
    return [results[mode] for mode in args.modes]


def _load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _fail(result, error, worker):
    result["status"] = "error"
    result["error"] = str(error)
    if worker is not None:
        worker.stop()


def _find(results, shape, hidden, batch_size, mode):
    for r in results:
        if (r["shape"], r["hidden"], r["batch_size"], r["mode"]) == (
                shape, hidden, batch_size, mode) and r["status"] == "ok":
            return r
    return None


def _median(result, key="time_per_trial_s"):
    return None if result is None else result[key]["median"]


def _delay_memory(result):
    if result is None or "memory" not in result:
        return None
    return result["memory"]["delay_related"]["total"]


def _baseline(results, key, name, sparse):
    """The baseline ``name`` ("weights" or "delays") of the same sparsity
    as a spatial mode, or the dense one when that was not run."""
    found = (_find(results, *key, f"{name}-sparse") if sparse else None)
    return found or _find(results, *key, name)


def compute_ratios(results):
    """Ratios of every spatial mode to the two baselines of the same
    sparsity (dense ones if the sparse ones were not run), per (shape, H,
    batch size): time (ratio of median wall times, median of the per-round
    paired ratios, ratio of median CPU times) and delay-related memory."""
    ratios = []
    for r in results:
        if r["delays"] != "spatial" or r["status"] != "ok":
            continue
        key = (r["shape"], r["hidden"], r["batch_size"])
        entry = {"shape": r["shape"], "hidden": r["hidden"],
                 "batch_size": r["batch_size"], "mode": r["mode"],
                 "dimensions": r["dimensions"], "sparse": r["sparse"],
                 "diagnostic": r["diagnostic"], "clock": primary_clock(r)}
        for name in ("weights", "delays"):
            base = _baseline(results, key, name, r["sparse"])
            entry[f"{name}_baseline"] = None if base is None else base["mode"]
            entry[f"time_vs_{name}"] = measure.ratio(_median(r),
                                                     _median(base))
            entry[f"time_vs_{name}_paired"] = (
                None if base is None
                else measure.paired_ratio(r["blocks_s"], base["blocks_s"]))
            entry[f"cpu_time_vs_{name}"] = measure.ratio(
                _median(r, "cpu_time_per_trial_s"),
                _median(base, "cpu_time_per_trial_s"))
        delays = _baseline(results, key, "delays", r["sparse"])
        entry["delay_memory_ratio"] = measure.ratio(_delay_memory(delays),
                                                    _delay_memory(r))
        if delays is not None:
            entry["delay_parameters_ratio"] = measure.ratio(
                delays["parameters"]["delays"], r["parameters"]["positions"])
            entry["delay_parameters_and_optimiser_ratio"] = measure.ratio(
                delays["memory"]["delay_related"]["parameters_and_optimiser"],
                r["memory"]["delay_related"]["parameters_and_optimiser"])
        ratios.append(entry)
    return ratios


def compute_fits(results):
    """Power-law exponents vs H per (shape, batch size, mode): median trial
    wall and CPU time, bytes of GeNN arrays, host RSS above the
    baseline."""
    fits = []
    keys = sorted({(r["shape"], r["batch_size"], list(MODES).index(r["mode"]))
                   for r in results if r["status"] == "ok"})
    for shape, batch_size, mode_index in keys:
        mode = list(MODES)[mode_index]
        rows = sorted((r for r in results if r["status"] == "ok"
                       and (r["shape"], r["batch_size"], r["mode"])
                       == (shape, batch_size, mode)),
                      key=lambda r: r["hidden"])
        hidden = [r["hidden"] for r in rows]
        fits.append({
            "shape": shape, "batch_size": batch_size, "mode": mode,
            "hidden": hidden,
            "time": measure.fit_power_law(hidden, [_median(r) for r in rows]),
            "cpu_time": measure.fit_power_law(
                hidden, [_median(r, "cpu_time_per_trial_s") for r in rows]),
            "genn_memory": measure.fit_power_law(
                hidden, [r["memory"]["genn_total_bytes"] for r in rows]),
            "host_memory": measure.fit_power_law(
                hidden, [r["memory"].get("rss_above_baseline")
                         for r in rows])})
    return fits


def compute_memory_model(results, batch_sizes=MODEL_BATCH_SIZES,
                         hidden_sizes=MODEL_HIDDEN):
    """The memory model of every shape and mode at ``batch_sizes`` x
    ``hidden_sizes``, from the arrays of the mode's run at the target H
    (or the largest H run) and its smallest batch size: one row per
    (shape, mode, H, batch) with total and delay-related bytes and the
    bytes per category."""
    rows = []
    for shape in sorted({r["shape"] for r in results}):
        ok = [r for r in results if r["shape"] == shape
              and r["status"] == "ok" and r.get("arrays")]
        if not ok:
            continue
        batch = min(r["batch_size"] for r in ok)
        hidden = _target_hidden(ok, shape, batch)
        for r in ok:
            if r["hidden"] != hidden or r["batch_size"] != batch:
                continue
            records = r["arrays"]
            for row in measure.memory_model(
                    records, batch_sizes,
                    [{"hidden": h} for h in hidden_sizes], batch):
                rows.append({"shape": shape, "mode": r["mode"],
                             "measured_hidden": hidden,
                             "hidden": row["sizes"]["hidden"],
                             "batch_size": row["batch_size"],
                             "total": row["total"], "delay": row["delay"],
                             "delay_parts": row["delay_parts"],
                             "categories": row["categories"],
                             "feature": row["feature"]})
    return rows


def memory_model_table(model_rows, shape, modes):
    """Markdown rows of the memory model of one shape: per (H, batch),
    every mode's total GeNN MiB and delay-related MiB."""
    keys = sorted({(m["hidden"], m["batch_size"]) for m in model_rows
                   if m["shape"] == shape})
    rows = []
    for hidden, batch in keys:
        row = [hidden, batch]
        for mode in modes:
            m = next((m for m in model_rows if m["shape"] == shape
                      and m["mode"] == mode and m["hidden"] == hidden
                      and m["batch_size"] == batch), None)
            row.append(None if m is None else
                       f"{measure.mib(m['total'], 1)} / "
                       f"{measure.mib(m['delay'], 1)}")
        rows.append(row)
    return rows


def primary_clock(result) -> str:
    """The clock the targets are judged by: CPU time of the mode's process
    on GeNN's single-threaded CPU backend (equal to wall time on an idle
    machine, and blind to other processes sharing the cores), wall time
    on a GPU."""
    return "cpu" if "cpu" in (result.get("backend") or "").lower() else "wall"


def target_summary(ratios):
    """The issue's targets for every compared spatial mode and H (the
    memory ratio for D = 3 only). ``value`` is the ratio of median times
    of the primary clock (:func:`primary_clock`); the wall-time, paired and
    CPU-time ratios are kept beside it."""
    summary = []
    for entry in ratios:
        if entry["diagnostic"]:
            continue
        for key, limit in TARGETS.items():
            if key == "delay_memory_ratio" and entry.get("sparse"):
                limit = SPARSE_DELAY_MEMORY_TARGET
            value = entry.get(key)
            if key != "delay_memory_ratio" and entry["clock"] == "cpu":
                value = entry.get(f"cpu_{key}")
            if key == "delay_memory_ratio":
                if entry["dimensions"] != TARGET_DIMENSIONS:
                    continue
                met = None if value is None else value >= limit
            else:
                met = None if value is None else value <= limit
            summary.append({**{k: entry[k] for k in ("shape", "hidden",
                                                     "batch_size", "mode")},
                            "ratio": key, "value": value,
                            "baseline": entry.get(
                                "delays_baseline" if key != "time_vs_weights"
                                else "weights_baseline"),
                            "clock": (None if key == "delay_memory_ratio"
                                      else entry["clock"]),
                            "wall": (None if key == "delay_memory_ratio"
                                     else entry.get(key)),
                            "paired": entry.get(f"{key}_paired"),
                            "cpu": entry.get(f"cpu_{key}"),
                            "target": limit, "met": met})
    return summary


def _target_hidden(results, shape, batch_size):
    sizes = sorted({r["hidden"] for r in results
                    if r["shape"] == shape and r["batch_size"] == batch_size})
    if not sizes:
        return None
    return TARGET_HIDDEN if TARGET_HIDDEN in sizes else sizes[-1]


def _ms(seconds, spec=".1f"):
    return measure.fmt(None if seconds is None else 1e3 * seconds, spec)


class ResultsFileError(ValueError):
    """A benchmark results file that is missing, damaged or not one."""


#: Top-level keys of a results file (what :func:`main` writes)
RESULTS_KEYS = ("command", "config", "environment", "wall_time_s", "results",
                "ratios", "fits", "targets")


def load_results(path) -> dict:
    """Read a results file that :func:`main` wrote.

    Raises:
        ResultsFileError: naming the file, when it cannot be read, is not
            JSON, or lacks what a results file holds
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ResultsFileError(
            f"{path}: cannot read benchmark results ({error.strerror}); "
            f"benchmarks/run.py writes them to <--output>/results.json"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ResultsFileError(
            f"{path}: damaged benchmark results, not valid JSON ({error}); "
            f"rerun benchmarks/run.py to write them again") from None
    missing = ([k for k in RESULTS_KEYS if k not in data]
               if isinstance(data, dict) else list(RESULTS_KEYS))
    if missing or not isinstance(data["results"], list):
        raise ResultsFileError(
            f"{path}: not a results file of benchmarks/run.py (missing "
            f"{', '.join(missing) or 'the list of results'}); rerun "
            f"benchmarks/run.py to write one")
    return data


def failed_runs(data) -> list:
    """The results of ``data`` whose run failed."""
    return [r for r in data["results"] if r.get("status") != "ok"]


def report(data) -> str:
    """The Markdown report of a results dict."""
    results, ratios = data["results"], data["ratios"]
    config = data["config"]
    loads = [x for r in results for x in r.get("load_average", []) if x]
    lines = ["# ml_genn_spatial benchmarks", "",
             f"`{data['command']}` ({data['wall_time_s'] / 60:.1f} min)  ",
             f"{data['environment']['summary']}"
             + (f"; 1-min load average {min(loads):.1f}–{max(loads):.1f} "
                f"while training" if loads else "") + "  ",
             f"Per mode: {config['warmup']} warm-up trials, then "
             f"{config['repeats']} interleaved rounds of {config['block']} "
             f"trials (mode order rotated each round). Spatial modes are "
             f"compared with the baselines of the same sparsity. Times "
             f"are per trial "
             f"(per batch / batch size): wall median, its IQR and range, "
             f"and the median CPU time of the mode's process. ÷ columns: "
             f"ratios of median CPU and wall times. RSS↑: peak resident "
             f"memory of the mode's own process while training, above its "
             f"baseline after imports. GeNN: bytes of every array GeNN "
             f"allocated. Delay mem: delay-related parameters + gradients + "
             f"optimiser state (positions, their copies, the per-synapse "
             f"delay gradient, its copy in the mirror and a sparse "
             f"mirror's rows for spatial modes). "
             f"Hidden spikes: mean per trial over the timed trials (the "
             f"work of the backward pass and of spike propagation scales "
             f"with it).",
             ""]
    configurations = sorted({(r["shape"], r["batch_size"]) for r in results})
    for shape, batch_size in configurations:
        rows = []
        for r in sorted((r for r in results if r["shape"] == shape
                         and r["batch_size"] == batch_size),
                        key=lambda r: (r["hidden"],
                                       list(MODES).index(r["mode"]))):
            if r["status"] != "ok":
                rows.append([r["mode"], r["hidden"], "failed", *[None] * 10])
                continue
            t = r["time_per_trial_s"]
            ratio = next((e for e in ratios if (e["shape"], e["hidden"],
                                                e["batch_size"], e["mode"])
                          == (shape, r["hidden"], batch_size, r["mode"])), {})
            memory = r["memory"]
            rows.append([
                r["mode"], r["hidden"], _ms(t["median"]), _ms(t["iqr"]),
                f"{_ms(t['min'])}–{_ms(t['max'])}",
                _ms(r["cpu_time_per_trial_s"]["median"]),
                _pair(ratio, "weights"), _pair(ratio, "delays"),
                measure.mib(memory.get("rss_above_baseline"), 1),
                measure.mib(memory["genn_total_bytes"]),
                measure.mib(memory["delay_related"]["total"], 3),
                r["parameters"]["total"],
                round(r["hidden_spikes_per_trial"])])
        trial = next(r["trial_ms"] for r in results if r["shape"] == shape)
        lines += [f"## {shape} (batch {batch_size}, {trial:g} ms trials)", "",
                  measure.markdown_table(
                      ["mode", "H", "trial [ms]", "IQR [ms]", "min–max [ms]",
                       "CPU [ms]", "÷ weights (CPU / wall)",
                       "÷ delays (CPU / wall)", "RSS↑ [MiB]",
                       "GeNN [MiB]", "delay mem [MiB]", "trainable params",
                       "hidden spikes"],
                      rows), ""]

        hidden = _target_hidden(results, shape, batch_size)
        chosen = [r for r in results if r["shape"] == shape
                  and r["batch_size"] == batch_size and r["hidden"] == hidden
                  and r["status"] == "ok"]
        lines += [f"GeNN memory by category at H = {hidden} [MiB]:", "",
                  measure.markdown_table(
                      ["mode", *measure.MEMORY_CATEGORIES],
                      [[r["mode"], *[measure.mib(r["memory"]["genn_bytes"][c],
                                                 3)
                                     for c in measure.MEMORY_CATEGORIES]]
                       for r in chosen]), ""]
        profiled = [r for r in chosen if r["profile_per_trial_s"]]
        if profiled:
            lines += [f"Where the time goes at H = {hidden} (GeNN kernel "
                      f"timers, ms per trial, the median over rounds; host = "
                      f"wall time outside the timed kernels: Python, mlGeNN "
                      f"and ml_genn_spatial callbacks, input upload):", "",
                      measure.markdown_table(
                          ["mode", "wall", "neuron", "presynaptic",
                           "custom updates", "host",
                           "largest custom updates"],
                          [_profile_row(r) for r in profiled]), ""]

    lines += _memory_model_lines(data)

    fit_rows = [[f["shape"], f["batch_size"], f["mode"],
                 " ".join(map(str, f["hidden"])),
                 *[measure.fmt(None if f[k] is None else f[k]["exponent"])
                   for k in ("time", "cpu_time", "genn_memory",
                             "host_memory")]]
                for f in data["fits"]]
    lines += ["## Scaling with H (fitted exponent b of c · H^b)", "",
              measure.markdown_table(["shape", "batch", "mode", "H",
                                      "wall time", "CPU time", "GeNN memory",
                                      "host RSS↑"], fit_rows), ""]
    target_rows = [[t["shape"], t["hidden"], t["batch_size"], t["mode"],
                    f"{t['ratio']} ({t['baseline']})",
                    measure.fmt(t["value"]),
                    measure.fmt(t["wall"]), measure.fmt(t["paired"]),
                    ("≥ " if t["ratio"] == "delay_memory_ratio" else "≤ ")
                    + format(t["target"], "g"),
                    {True: "met", False: "MISSED", None: "—"}[t["met"]]]
                   for t in data["targets"]
                   if t["hidden"] == _target_hidden(results, t["shape"],
                                                    t["batch_size"])]
    lines += ["## Targets of the issue", "",
              "value: ratio of median times per trial, CPU time of the "
              "mode's process on the CPU backend (wall time on a GPU), or "
              "of delay-related bytes for the memory ratio; wall: ratio of "
              "median wall times; paired: median over rounds of the "
              "wall-time ratio within a round.", "",
              measure.markdown_table(["shape", "H", "batch", "mode", "ratio",
                                      "value", "wall", "paired", "target",
                                      ""], target_rows), ""]
    for r in results:
        if r["status"] != "ok":
            last = (r["error"] or "").strip().splitlines()
            lines.append(f"- FAILED {r['shape']} H={r['hidden']} {r['mode']}: "
                         f"{last[-1] if last else ''}")
    return "\n".join(lines)


def _memory_model_lines(data) -> list:
    results = data["results"]
    checks = [r for r in results if r["status"] == "ok"
              and "model_check" in r.get("memory", {})]
    if not checks:
        return []
    arrays = sum(r["memory"]["model_check"]["arrays"] for r in checks)
    modelled = sum(r["memory"]["model_check"]["modelled"] for r in checks)
    mismatched = [(r["shape"], r["hidden"], r["mode"], m)
                  for r in checks
                  for m in r["memory"]["model_check"]["mismatches"]]
    unmodelled = sum(r["memory"]["model_check"]["unmodelled_bytes"]
                     for r in checks)
    lines = ["## Memory model", "",
             "Bytes of every GeNN array = elements (from the group sizes: "
             "neurons x delay slots, pre x row length, ...) x the element "
             "type's size x B where GeNN keeps one copy per batch lane "
             "(the variable's access dimensions), 1 where the lanes share "
             "it (`benchmarks/measure.py`, `model_bytes`). Check against "
             f"GeNN's allocation in this run: {modelled} of "
             f"{arrays} arrays modelled, {len(mismatched)} differ, "
             f"{unmodelled} bytes not modelled."]
    lines += [f"- differs: {s} H={h} {mode} {m['group']}.{m['array']}: "
              f"{m['measured']} measured, {m['modelled']} modelled"
              for s, h, mode, m in mismatched[:10]]
    lines.append("")
    # Recomputed from the runs' arrays, so a saved file reports with the
    # current model
    model_rows = (compute_memory_model(results)
                  or data.get("memory_model") or [])
    for shape in sorted({m["shape"] for m in model_rows}):
        modes = [mode for mode in MODES
                 if any(m["shape"] == shape and m["mode"] == mode
                        for m in model_rows)]
        measured = next(m["measured_hidden"] for m in model_rows
                        if m["shape"] == shape)
        lines += [f"{shape}: modelled GeNN memory, total / delay-related "
                  f"[MiB] (from the arrays of the run at H = {measured}; "
                  f"sparse rows scale with the target population):", "",
                  measure.markdown_table(
                      ["H", "batch", *modes],
                      memory_model_table(model_rows, shape, modes)), ""]
        ratio_rows = memory_model_ratios(model_rows, shape)
        if ratio_rows:
            lines += [f"{shape}: spatial 3-D against the baselines of the "
                      f"same sparsity in the memory model (total GeNN "
                      f"bytes ÷ weight-only, ÷ per-synapse delays; "
                      f"delay-related bytes ÷ per-synapse delays'):", "",
                      measure.markdown_table(
                          ["H", "batch", "dense ÷ weights", "dense ÷ delays",
                           "dense delay mem ÷ delays", "sparse ÷ weights",
                           "sparse ÷ delays", "sparse delay mem ÷ delays"],
                          ratio_rows), ""]
        feature_rows = feature_saving_table(model_rows, shape)
        if feature_rows:
            lines += [f"{shape}: spatial 3-D delay memory [MiB] with the "
                      f"GeNN feature of benchmarks/README.md (named, atomic "
                      f"addToPre/addToPost targets): what it removes (the "
                      f"per-synapse delay gradient, its batch sum, the "
                      f"mirror), now -> then (then: plus D inputs per "
                      f"placed neuron and batch lane), and per-synapse "
                      f"delays' for comparison:", "",
                      measure.markdown_table(
                          ["H", "batch", "removed (dense / 10 %)",
                           "now -> then (dense)", "now -> then (10 %)",
                           "per-synapse delays (dense / 10 %)"],
                          feature_rows), ""]
    return lines


def _model_grid(model_rows, shape):
    """``(hidden, batch, find)`` for every H and batch size of one shape's
    memory model, ``find(mode)`` giving that mode's row (or None)."""
    for hidden, batch in sorted({(m["hidden"], m["batch_size"])
                                 for m in model_rows
                                 if m["shape"] == shape}):
        def find(mode, hidden=hidden, batch=batch):
            return next((m for m in model_rows if m["shape"] == shape
                         and m["mode"] == mode and m["hidden"] == hidden
                         and m["batch_size"] == batch), None)
        yield hidden, batch, find


def feature_saving_table(model_rows, shape):
    """Rows of the GeNN-feature table (see :func:`_memory_model_lines`)."""
    rows = []
    for hidden, batch, find in _model_grid(model_rows, shape):
        found = [(find(f"spatial-3d{s}"), find(f"delays{s}"))
                 for s in ("", "-sparse")]
        if any(spatial is None or "feature" not in spatial
               or delays is None for spatial, delays in found):
            continue
        removed, now_then, baseline = [], [], []
        for spatial, delays in found:
            feature = spatial["feature"]
            then = spatial["delay"] - feature["removed"] + feature["added"]
            removed.append(measure.mib(feature["removed"], 1))
            now_then.append(f"{measure.mib(spatial['delay'], 1)} -> "
                            f"{measure.mib(then, 1)}")
            baseline.append(measure.mib(delays["delay"], 1))
        rows.append([hidden, batch, " / ".join(map(str, removed)),
                     *now_then, " / ".join(map(str, baseline))])
    return rows


def memory_model_ratios(model_rows, shape):
    """Rows (H, batch, then for dense and sparse: spatial-3d total ÷
    weights total, ÷ delays total, spatial-3d delay-related ÷ delays
    delay-related) of the memory model of one shape."""
    rows = []
    for hidden, batch, find in _model_grid(model_rows, shape):
        row = [hidden, batch]
        for suffix in ("", "-sparse"):
            spatial = find(f"spatial-3d{suffix}")
            weights = find(f"weights{suffix}")
            delays = find(f"delays{suffix}")
            for a, b, key in ((spatial, weights, "total"),
                              (spatial, delays, "total"),
                              (spatial, delays, "delay")):
                row.append(None if a is None or b is None else
                           measure.fmt(measure.ratio(a[key], b[key])))
        if any(v is not None for v in row[2:]):
            rows.append(row)
    return rows


def _pair(ratio, base):
    wall, cpu = ratio.get(f"time_vs_{base}"), ratio.get(f"cpu_time_vs_{base}")
    if wall is None and cpu is None:
        return None
    return f"{measure.fmt(cpu)} / {measure.fmt(wall)}"


def _profile_row(result):
    profile = result["profile_per_trial_s"]
    custom = {k.split(":", 1)[1]: v for k, v in profile.items()
              if k.startswith("custom_update:")}
    largest = sorted(custom.items(), key=lambda kv: -kv[1])[:2]
    return [result["mode"], _ms(profile["wall"], ".2f"),
            _ms(profile["neuron_update_time"], ".2f"),
            _ms(profile["presynaptic_update_time"], ".2f"),
            _ms(sum(custom.values()), ".2f"), _ms(profile["host"], ".2f"),
            ", ".join(f"{name} {_ms(value, '.2f')}"
                      for name, value in largest) or None]


def environment(args) -> dict:
    from importlib import metadata
    versions = {}
    for package in ("pygenn", "ml_genn", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count())
    backend = "cuda" if args.cuda else "single_threaded_cpu"
    return {"python": platform.python_version(), "versions": versions,
            "cpu": cpu, "cores": cores, "platform": platform.platform(),
            "backend": backend,
            "summary": f"{backend} backend, {cpu}, {cores} cores, Python "
                       f"{platform.python_version()}, pygenn "
                       f"{versions['pygenn']}, ml_genn {versions['ml_genn']}"}


def main(argv=None):
    args = parse_args(argv)
    if args.report is not None:
        data = load_results(args.report)
        print(report(data))
        return data
    os.makedirs(args.output, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - started:6.1f} s] {message}",
              file=sys.stderr, flush=True)

    results = []
    for shape in args.shapes:
        for batch_size in args.batch_sizes:
            for hidden in args.hidden:
                log(f"{shape}, H = {hidden}, batch {batch_size}")
                results += run_configuration(context, args, shape, hidden,
                                             batch_size, log)
    ratios = compute_ratios(results)
    command = "python3 benchmarks/run.py" + "".join(
        f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    data = {"command": command, "config": {
                k: v for k, v in vars(args).items()},
            "environment": environment(args),
            "wall_time_s": time.perf_counter() - started,
            "results": results, "ratios": ratios,
            "fits": compute_fits(results),
            "memory_model": compute_memory_model(results),
            "targets": target_summary(ratios)}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    # Written whole or not at all: an interrupted run never leaves a
    # damaged file
    with open(f"{args.json}.tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.replace(f"{args.json}.tmp", args.json)
    print(report(data))
    failed = failed_runs(data)
    if failed:
        log(f"{len(failed)} of {len(results)} runs FAILED ("
            + ", ".join(f"{r['shape']} H={r['hidden']} batch "
                        f"{r['batch_size']} {r['mode']}" for r in failed)
            + f"); results of the others in {args.json}")
    else:
        log(f"done; results in {args.json}")
    return data


def cli(argv=None) -> int:
    """Exit status of the command: 0 when every requested run succeeded,
    1 when any failed, 2 for a results file that cannot be reported."""
    try:
        data = main(argv)
    except ResultsFileError as error:
        print(f"run.py: error: {error}", file=sys.stderr)
        return 2
    return 1 if failed_runs(data) else 0


if __name__ == "__main__":
    sys.exit(cli())
