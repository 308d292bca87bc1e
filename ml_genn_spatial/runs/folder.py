"""The run folder of a training script: ``results.json``, one checkpoint
per epoch in ``checkpoints/``, ``hidden_class_counts.npy`` (and
``layout.npz``, :mod:`.layout`). This module writes them and reads them
back. No GeNN import.

``results.json`` is rewritten atomically after every epoch, so an
interrupted run always leaves a valid file. An epoch's entry says how many
checkpoint files it wrote (``checkpoint_files``), written only after the
files themselves: ``--resume`` continues after the last epoch whose entry
and files are complete, warning when it has to fall back.
"""
import glob
import json
import os
import shlex
import shutil
import sys
import warnings
from contextlib import contextmanager
from typing import List, Optional

import numpy as np

RESULTS_FILE = "results.json"
CHECKPOINT_DIR = "checkpoints"
CLASS_COUNTS_FILE = "hidden_class_counts.npy"
LAYOUT_FILE = "layout.npz"

#: Options a resumed run may change; every other option must equal the
#: original run's (they define the network and its data)
RESUMABLE_CHANGES = ("epochs", "resume", "overwrite", "backend",
                     "batch_size", "lr", "position_lr", "delay_lr", "output",
                     "data")

#: Files and folders of a run (GeNN also generates ``<name>_CODE`` here)
_RUN_FILES = (RESULTS_FILE, RESULTS_FILE + ".tmp", CHECKPOINT_DIR,
              CLASS_COUNTS_FILE, LAYOUT_FILE)


class RunError(Exception):
    """A run cannot start or go on, for a reason the user can fix; the
    message names the file or option and what to do."""


def output_problem(path: str, resume: bool, overwrite: bool):
    """Why ``--output path`` cannot be used with these flags, or None."""
    if os.path.exists(path) and not os.path.isdir(path):
        return (f"--output {path} is a file: give a folder (new or one of "
                f"an earlier run)")
    if (os.path.isdir(path) and os.listdir(path) and not resume
            and not overwrite):
        return (f"--output {path} is not empty: add --resume to continue "
                f"its run, --overwrite to delete its run files and start "
                f"afresh, or give another folder")
    return None


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


def read_results(path: str) -> dict:
    """Read a ``results.json``.

    Raises:
        RunError: naming the file, when it is missing or damaged
    """
    try:
        with open(path) as f:
            results = json.load(f)
    except FileNotFoundError:
        raise RunError(f"{path} does not exist: is this a run folder?")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is damaged ({exc}): start the run again "
                       f"with --overwrite, or use another --output")
    if not isinstance(results, dict) or not isinstance(
            results.get("epochs", []), list):
        raise RunError(f"{path} is not a run's results (no object with an "
                       f"'epochs' list): start the run again with "
                       f"--overwrite, or use another --output")
    return results


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


def best_validation_epoch(epochs: list) -> tuple:
    """The epoch to test: the best validation accuracy, the later epoch on
    a tie (it trained longer for the same result); the last epoch when no
    entry has a validation accuracy.

    Args:
        epochs: ``results["epochs"]`` entries (``epoch``,
                ``validation_accuracy`` or None)

    Returns:
        ``(epoch, reason)``, the reason a sentence for ``results.json``

    Raises:
        RunError: if ``epochs`` is empty
    """
    if not epochs:
        raise RunError("no epoch has been trained: nothing to test")
    validated = [e for e in epochs if e.get("validation_accuracy")
                 is not None]
    if not validated:
        last = max(e["epoch"] for e in epochs)
        return last, "the last epoch: the run has no validation split"
    best = max(validated, key=lambda e: (e["validation_accuracy"],
                                         e["epoch"]))
    return best["epoch"], (
        f"the best validation accuracy ({best['validation_accuracy']:.4f}) "
        f"of epochs {min(e['epoch'] for e in validated)}-"
        f"{max(e['epoch'] for e in validated)}, the later epoch on a tie")


class RunFolder:
    """The files of one training run.

    Args:
        path:       the folder (created when missing)
        resume:     continue the run already in ``path``
        overwrite:  delete the run files in ``path`` first

    Raises:
        RunError: if ``path`` is a file, or holds files and neither
                  ``resume`` nor ``overwrite`` is set
    """

    def __init__(self, path: str, resume: bool = False,
                 overwrite: bool = False):
        problem = output_problem(path, resume, overwrite)
        if problem:
            raise RunError(problem)
        self.path = os.path.abspath(path)
        self.resume = resume
        if overwrite:
            self.clear()
        os.makedirs(self.checkpoint_dir, exist_ok=True)
        self.results = None

    @property
    def results_path(self) -> str:
        return os.path.join(self.path, RESULTS_FILE)

    @property
    def checkpoint_dir(self) -> str:
        return os.path.join(self.path, CHECKPOINT_DIR)

    @property
    def layout_path(self) -> str:
        return os.path.join(self.path, LAYOUT_FILE)

    def clear(self) -> None:
        """Delete the run files (and GeNN's generated code) in the
        folder; other files stay."""
        if not os.path.isdir(self.path):
            return
        for name in os.listdir(self.path):
            full = os.path.join(self.path, name)
            if name in _RUN_FILES or name.endswith("_CODE"):
                if os.path.isdir(full):
                    shutil.rmtree(full)
                else:
                    os.remove(full)

    # ------------------------------------------------------------------
    # Starting and resuming
    # ------------------------------------------------------------------
    def start(self, config: dict, **info) -> int:
        """Begin (or, with ``resume``, continue) the run.

        Args:
            config: the options (``vars(args)``); a resumed run must match
                    the earlier one's except in :data:`RESUMABLE_CHANGES`
            info:   further entries of ``results.json`` (dataset, backend,
                    parameters...)

        Returns:
            the first epoch to train (0 for a new run)

        Raises:
            RunError: if the earlier run used other network or data
                      options, or its results.json is damaged
        """
        start = 0
        if self.resume and os.path.isfile(self.results_path):
            previous = read_results(self.results_path)
            old = previous.get("config", {})
            changed = sorted(k for k in set(old) | set(config)
                             if k not in RESUMABLE_CHANGES
                             and old.get(k) != config.get(k))
            if changed:
                raise RunError(
                    "--resume: options " + ", ".join(
                        f"--{k.replace('_', '-')} (was {old.get(k)!r}, now "
                        f"{config.get(k)!r})" for k in changed)
                    + f" differ from the run in {self.path}; give the same "
                      f"values, or another --output")
            old_backend, new_backend = (previous.get("backend"),
                                        info.get("backend"))
            if (old_backend is not None and new_backend is not None
                    and (old_backend == "reference")
                    != (new_backend == "reference")):
                # The NumPy model's checkpoints hold no GeNN connectivity
                raise RunError(
                    f"--resume: the run in {self.path} trained on "
                    f"{old_backend}, this one would use {new_backend}; the "
                    f"NumPy reference model and GeNN cannot continue each "
                    f"other's checkpoints: give --backend {old_backend}, "
                    f"or another --output")
            start = self._last_good_epoch(previous) + 1
            epochs = config.get("epochs")
            if isinstance(epochs, int) and start > epochs:
                raise RunError(f"--epochs {epochs}: the run in {self.path} "
                               f"has already trained {start} epochs; give "
                               f"--epochs {start} or more to continue it")
            previous["epochs"] = [e for e in previous["epochs"]
                                  if e["epoch"] < start]
            self._remove_checkpoints(after=start - 1)
            self.results = previous
            if start > 0:
                previous.setdefault("resumed_at_epochs", []).append(start)
                print(f"Resuming after the checkpoint of epoch {start - 1}")
            else:
                print(f"--resume: no complete checkpoint in "
                      f"{self.checkpoint_dir}, starting from epoch 0")
        elif self.resume:
            print(f"--resume: no {RESULTS_FILE} in {self.path}, starting "
                  f"from epoch 0")
        if self.results is None or start == 0:
            self._remove_checkpoints(after=-1)
            self.results = {"config": dict(config), "epochs": [],
                            "test_accuracy": None}
        self.results["config"] = dict(config)
        self.results.update(info, complete=False)
        self.save()
        return start

    def _checkpoint_files(self, epoch: int) -> List[str]:
        return sorted(glob.glob(os.path.join(self.checkpoint_dir,
                                             f"{epoch}-*")))

    def _damage(self, epoch: int, expected) -> Optional[str]:
        """What is wrong with the checkpoint of ``epoch``, or None."""
        files = self._checkpoint_files(epoch)
        if expected is None:
            return f"{RESULTS_FILE} does not record its files"
        if len(files) != expected:
            return (f"{len(files)} of its {expected} files in "
                    f"{self.checkpoint_dir}")
        for path in files:
            try:
                np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                return f"{path} is damaged ({exc})"
        return None

    def _last_good_epoch(self, results: dict) -> int:
        """The last epoch with a complete checkpoint, -1 if none."""
        entries = sorted(results["epochs"], key=lambda e: -e["epoch"])
        for n, entry in enumerate(entries):
            damage = self._damage(entry["epoch"],
                                  entry.get("checkpoint_files"))
            if damage is None:
                return entry["epoch"]
            later = (f"; falling back to epoch {entries[n + 1]['epoch']}"
                     if n + 1 < len(entries) else "")
            warnings.warn(f"--resume: the checkpoint of epoch "
                          f"{entry['epoch']} is incomplete: {damage}"
                          f"{later}", RuntimeWarning, stacklevel=3)
        return -1

    def _remove_checkpoints(self, after: int) -> None:
        for path in glob.glob(os.path.join(self.checkpoint_dir, "*-*")):
            head = os.path.basename(path).split("-", 1)[0]
            if head.isdigit() and int(head) > after:
                os.remove(path)

    # ------------------------------------------------------------------
    # During and after training
    # ------------------------------------------------------------------
    def save(self) -> None:
        """Write ``results.json`` (atomically)."""
        write_json(self.results_path, self.results)

    def record_epoch(self, epoch: int, checkpointed: bool = False,
                     **values) -> dict:
        """Set values of an epoch's entry (created on first use) and save.

        Args:
            epoch:          the epoch
            checkpointed:   its checkpoint files are all written: record
                            their number, which ``--resume`` checks
            values:         ``train_accuracy``, ``validation_accuracy``,
                            ``time_s``...
        """
        entry = next((e for e in self.results["epochs"]
                      if e["epoch"] == epoch), None)
        if entry is None:
            entry = {"epoch": epoch, "train_accuracy": None,
                     "validation_accuracy": None, "time_s": None}
            self.results["epochs"].append(entry)
            self.results["epochs"].sort(key=lambda e: e["epoch"])
        entry.update(values)
        if checkpointed:
            entry["checkpoint_files"] = len(self._checkpoint_files(epoch))
            self.results["parameters"] = self.parameter_counts(epoch)
        self.save()
        return entry

    def parameter_counts(self, epoch: int) -> dict:
        """Trainable parameters in the checkpoint of ``epoch``.

        Returns:
            ``weights`` (``g``), ``positions`` (``X<k>``), ``delays``
            (learned per-synapse ``d``), ``trainable`` (their sum) and
            ``per_synapse_delays``: the synapses of the delayed
            connections (``results["delayed_connections"]``) when the run
            has delays, the delays spatial positions replace
        """
        counts = {"weights": 0, "positions": 0, "delays": 0,
                  "per_synapse_delays": 0}
        delayed = (self.results.get("delayed_connections", [])
                   if self.results.get("delay_mode") != "none" else [])
        for path in self._checkpoint_files(epoch):
            name, _, var = os.path.basename(path)[:-len(".npy")].partition(
                "-")[2].rpartition("-")
            size = int(np.load(path, mmap_mode="r").size)
            if var == "g":
                counts["weights"] += size
                if name in delayed:
                    counts["per_synapse_delays"] += size
            elif var == "d":
                counts["delays"] += size
            elif var[:1] == "X" and var[1:].isdigit():
                counts["positions"] += size
        counts["trainable"] = (counts["weights"] + counts["positions"]
                               + counts["delays"])
        return counts

    def last_epoch(self) -> Optional[int]:
        """The last epoch recorded, or None."""
        epochs = [e["epoch"] for e in self.results["epochs"]]
        return max(epochs) if epochs else None

    def choose_test_epoch(self) -> int:
        """The epoch whose checkpoint is tested, recorded in the results
        as ``tested_epoch`` with ``tested_epoch_reason``: the epoch of the
        best validation accuracy (the later one on a tie), or the last
        epoch when the run has no validation accuracies. Never chosen by
        test accuracy.

        Raises:
            RunError: if no epoch is recorded
        """
        epoch, reason = best_validation_epoch(self.results["epochs"])
        self.results.update(tested_epoch=epoch, tested_epoch_reason=reason)
        self.save()
        return epoch

    def save_class_counts(self, counts, labels, num_classes: int):
        """Write ``hidden_class_counts.npy`` from per-example hidden spike
        counts (:func:`hidden_class_counts`)."""
        path = os.path.join(self.path, CLASS_COUNTS_FILE)
        np.save(path, hidden_class_counts(counts, labels, num_classes))
        return path

    def finish(self, **values) -> dict:
        """Record the test results and mark the run complete."""
        self.results.update(values, complete=True)
        self.save()
        return self.results

    def record_structure(self, data: dict, num_batches: int) -> None:
        """Add what mlGeNN's callbacks recorded about sparse connections
        to the results: ``connectivity_<name>`` records (per epoch) and
        DEEP R's ``rewirings_<name>`` counts (per batch, summed per epoch
        here), under ``results["structure"][<name>]``; ``recycled``
        (neurons recycled per epoch) under
        ``results["recycled_per_epoch"]``."""
        structure = self.results.setdefault("structure", {})
        for key, values in data.items():
            if key.startswith("connectivity_"):
                entry = structure.setdefault(key[len("connectivity_"):], {})
                entry.setdefault("per_epoch", []).extend(values)
            elif key == "recycled":
                self.results.setdefault("recycled_per_epoch", []).extend(
                    int(v) for v in values)
            elif key.startswith("rewirings_"):
                entry = structure.setdefault(key[len("rewirings_"):], {})
                counts = np.asarray(values, dtype=np.int64).reshape(-1, 2)
                epochs = [counts[i:i + num_batches].sum(axis=0)
                          for i in range(0, len(counts), num_batches)]
                entry.setdefault("rewirings_per_epoch", []).extend(
                    int(e[0]) for e in epochs)
                entry.setdefault("failed_rewirings_per_epoch", []).extend(
                    int(e[1]) for e in epochs)
        self.save()

    @contextmanager
    def working_directory(self):
        """Run in the folder: GeNN generates its code into the working
        directory."""
        previous = os.getcwd()
        os.chdir(self.path)
        try:
            yield
        finally:
            os.chdir(previous)

    def epoch_line(self, epoch: int) -> str:
        """One line on an epoch's accuracies and time."""
        entry = next(e for e in self.results["epochs"]
                     if e["epoch"] == epoch)
        parts = [f"epoch {epoch}"]
        for key in ("train", "validation"):
            value = entry.get(f"{key}_accuracy")
            if value is not None:
                parts.append(f"{key} {100 * value:.1f} %")
        if entry.get("time_s") is not None:
            parts.append(f"{entry['time_s']:.1f} s")
        return ", ".join(parts)

    def summary(self) -> str:
        """The test accuracy and where the results are."""
        accuracy = self.results.get("test_accuracy")
        accuracy = "-" if accuracy is None else f"{100 * accuracy:.1f} %"
        return (f"Test accuracy {accuracy} ({self.results.get('backend')});"
                f" results in {self.results_path}")


def resume_command(argv=None) -> str:
    """The command line that continues this run: the script's own, with
    ``--resume`` instead of ``--overwrite``."""
    argv = list(sys.argv if argv is None else argv)
    argv = [a for a in argv if a not in ("--overwrite", "--resume")]
    return shlex.join(["python3"] + argv + ["--resume"])


@contextmanager
def exit_on_error():
    """Turn what a user can cause into one line on stderr and an exit
    status instead of a traceback: a :class:`RunError` or a missing or
    damaged data file (status 1), Ctrl-C (status 130, saying how to
    resume; results.json stays valid)."""
    try:
        yield
    except KeyboardInterrupt:
        sys.stderr.write(f"\nInterrupted; results.json keeps the finished "
                         f"epochs. Continue with: {resume_command()}\n")
        sys.exit(130)
    except (RunError, FileNotFoundError) as exc:
        sys.exit(f"error: {exc}")
