"""Summary of a benchmarks/gpu_check.sh run: every step with its status,
seconds and budget, the benchmark's time per epoch-equivalent and peak GPU
memory per mode, and the Yin-Yang accuracies, as summary.json and
summary.md in the check's output folder.

    python3 benchmarks/gpu_summary.py OUTPUT [DRY_RUN [BUDGET_TOTAL]]
"""
import json
import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))

from benchmarks.measure import markdown_table               # noqa: E402
from benchmarks.run import ResultsFileError, load_results   # noqa: E402

#: Trials of an epoch-equivalent: SHD's training set
EPOCH_TRIALS = {"shd": 8156}
STEP_FIELDS = ("step", "status", "seconds", "budget_s", "log", "command")


def read_steps(path):
    """Rows of steps.tsv (written by gpu_check.sh) as dicts."""
    steps = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            values = line.rstrip("\n").split("\t")
            if len(values) != len(STEP_FIELDS):
                raise ValueError(f"{path}: damaged step line {line!r}")
            step = dict(zip(STEP_FIELDS, values))
            step["seconds"] = int(step["seconds"])
            step["budget_s"] = int(step["budget_s"])
            steps.append(step)
    return steps


def benchmark_rows(output):
    """One row per benchmarked (shape, batch size, mode)."""
    rows, errors = [], []
    folder = os.path.join(output, "benchmark")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name, "results.json")
        try:
            data = load_results(path)
        except ResultsFileError as error:
            errors.append(str(error))
            continue
        for r in data["results"]:
            row = {k: r.get(k) for k in ("shape", "hidden", "batch_size",
                                         "mode", "status")}
            median = (r.get("time_per_trial_s") or {}).get("median")
            trials = EPOCH_TRIALS.get(r.get("shape"))
            row["time_per_trial_s"] = median
            row["epoch_trials"] = trials
            row["epoch_s"] = (None if median is None or trials is None
                              else median * trials)
            memory = r.get("memory") or {}
            row["gpu_memory_bytes"] = memory.get("gpu_memory_trained")
            row["error"] = ((r.get("error") or "").strip().splitlines()
                            or [None])[-1]
            rows.append(row)
    return rows, errors


def yin_yang_result(output):
    path = os.path.join(output, "yin_yang", "results.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    epochs = [e for e in data.get("epochs", []) if isinstance(e, dict)]
    times = [e["time_s"] for e in epochs if e.get("time_s")]
    last = epochs[-1] if epochs else {}
    return {"epochs": len(epochs),
            "seconds_per_epoch": sum(times) / len(times) if times else None,
            "train_accuracy": last.get("train_accuracy"),
            "validation_accuracy": last.get("validation_accuracy"),
            "test_accuracy": data.get("test_accuracy")}


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def markdown(summary):
    steps = summary["steps"]
    lines = ["# GPU check", "",
             f"{summary['environment']}", "",
             markdown_table(["step", "status", "seconds", "budget [s]"],
                            [[s["step"], s["status"], s["seconds"],
                              s["budget_s"]] for s in steps]),
             "",
             f"Wall time of the steps: {sum(s['seconds'] for s in steps)} s"
             + ("" if summary["budget_total_s"] is None else
                f" (budget of a GPU run: {summary['budget_total_s']} s)")
             + (" — dry run: nothing ran on a GPU" if summary["dry_run"]
                else "") + ".", ""]
    rows = summary["benchmark"]
    if rows:
        lines += ["## Benchmark (H = 256)", "",
                  "Epoch time is extrapolated from the timed batches: "
                  "median time per trial × the 8156 trials of SHD's "
                  "training set. GPU memory: what nvidia-smi attributes "
                  "to the mode's process after training.", "",
                  markdown_table(
                      ["shape", "batch", "mode", "status", "ms per trial",
                       "s per epoch", "GPU memory [MiB]"],
                      [[r["shape"], r["batch_size"], r["mode"], r["status"],
                        _fmt(None if r["time_per_trial_s"] is None
                             else 1e3 * r["time_per_trial_s"], ".3f"),
                        _fmt(r["epoch_s"], ".1f"),
                        _fmt(None if r["gpu_memory_bytes"] is None
                             else r["gpu_memory_bytes"] / 2 ** 20, ".0f")]
                       for r in rows]), ""]
        lines += [f"- FAILED {r['shape']} batch {r['batch_size']} "
                  f"{r['mode']}: {r['error']}" for r in rows
                  if r["status"] != "ok"]
    lines += [f"- {error}" for error in summary["benchmark_errors"]]
    yin_yang = summary["yin_yang"]
    if yin_yang:
        lines += ["", "## Yin-Yang, batch 32", "",
                  f"{yin_yang['epochs']} epochs, "
                  f"{_fmt(yin_yang['seconds_per_epoch'], '.1f')} s per "
                  f"epoch; accuracy train "
                  f"{_fmt(yin_yang['train_accuracy'], '.3f')}, validation "
                  f"{_fmt(yin_yang['validation_accuracy'], '.3f')}, test "
                  f"{_fmt(yin_yang['test_accuracy'], '.3f')}"]
    return "\n".join(lines) + "\n"


def main(argv):
    output = argv[0]
    dry_run = len(argv) > 1 and argv[1] == "1"
    budget_total = int(argv[2]) if len(argv) > 2 else None
    try:
        with open(os.path.join(output, "logs", "environment.txt"),
                  encoding="utf-8") as f:
            environment = "; ".join(line.strip() for line in f
                                    if line.strip())
    except OSError:
        environment = "environment not recorded"
    rows, errors = benchmark_rows(output)
    summary = {"dry_run": dry_run, "budget_total_s": budget_total,
               "environment": environment,
               "steps": read_steps(os.path.join(output, "steps.tsv")),
               "benchmark": rows, "benchmark_errors": errors,
               "yin_yang": yin_yang_result(output)}
    with open(os.path.join(output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    text = markdown(summary)
    with open(os.path.join(output, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
