"""The run folders the training scripts write, as the analysis reads
them: ``layout.npz`` (:mod:`ml_genn_spatial.layout_io`, which writes and
reads it), ``hidden_class_counts.npy`` (spike counts of each hidden neuron
per class, shape ``(num_hidden, num_classes)``) and ``results.json``
(:mod:`ml_genn_spatial.runs.folder`).
"""
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..runs.folder import (CLASS_COUNTS_FILE, LAYOUT_FILE, RESULTS_FILE,
                           RunError, read_results)
from ..layout_io import ConnectionLayout, Layout, load_layout

__all__ = ["ConnectionLayout", "Layout", "Run", "class_population",
           "load_layout", "load_run"]


@dataclass
class Run:
    """A layout with what the same training run wrote next to it.

    Args:
        layout: the exported layout
        class_counts: spike counts per neuron and class, shape
            ``(N, num_classes)``, or None
        results: contents of ``results.json``, or None
        dt: simulation timestep [ms] (from the results' ``config.dt``), or
            None when unknown
    """
    layout: Layout
    class_counts: Optional[np.ndarray] = None
    results: Optional[dict] = None
    dt: Optional[float] = None


def _no_layout_reason(folder: str) -> str:
    """Why a run folder has no layout, from its results.json."""
    path = os.path.join(folder, RESULTS_FILE)
    if os.path.isfile(path):
        try:
            results = read_results(path)
        except RunError:
            results = {}
        mode = results.get("delay_mode")
        if mode == "spatial" and results.get("complete") is False:
            return (f"{folder} holds no {LAYOUT_FILE} yet: its run has not "
                    f"finished (the layout is written after testing); "
                    f"finish it with the training script's --resume")
        if mode in ("none", "per_synapse"):
            dims = "0" if mode == "none" else "inf"
            return (f"{folder} holds no {LAYOUT_FILE}: its run was trained "
                    f"with --dimensions {dims}, without positions, so there "
                    f"is no layout to draw or measure (its results.json "
                    f"holds the accuracies)")
    return (f"{folder} holds no {LAYOUT_FILE}: pass the layout .npz itself, "
            f"or a run folder of a spatial run (--dimensions 1-8)")


def load_run(path: str, class_counts: str = None) -> Run:
    """Read a run folder (or a layout ``.npz`` and the files beside it).

    Args:
        path: run folder holding ``layout.npz``, or a layout ``.npz``
        class_counts: ``.npy`` of spike counts per neuron and class; by
            default ``hidden_class_counts.npy`` beside the layout when it
            exists

    Returns:
        a :class:`Run`

    Raises:
        FileNotFoundError: if there is no layout (saying why, for runs
            without positions)
        ValueError: naming the file, if one is damaged
    """
    if os.path.isdir(path):
        folder, layout_path = path, os.path.join(path, LAYOUT_FILE)
        if not os.path.isfile(layout_path):
            raise FileNotFoundError(_no_layout_reason(path))
    elif os.path.isfile(path):
        folder, layout_path = os.path.dirname(path) or ".", path
    else:
        raise FileNotFoundError(f"{path} is neither a run folder nor a "
                                f"layout .npz")
    layout = load_layout(layout_path)

    if class_counts is None:
        default = os.path.join(folder, CLASS_COUNTS_FILE)
        class_counts = default if os.path.isfile(default) else None
    counts = None
    if class_counts is not None:
        try:
            counts = np.load(class_counts, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"{class_counts} is not a readable .npy ({exc})")
        if counts.ndim != 2:
            raise ValueError(f"{class_counts} must have shape (num_neurons, "
                             f"num_classes), not {counts.shape}")

    results, dt = None, None
    results_path = os.path.join(folder, RESULTS_FILE)
    if os.path.isfile(results_path):
        try:
            results = read_results(results_path)
        except RunError as exc:
            raise ValueError(str(exc))
        config = results.get("config", {})
        if isinstance(config, dict) and isinstance(config.get("dt"),
                                                   (int, float)):
            dt = float(config["dt"])
    return Run(layout=layout, class_counts=counts, results=results, dt=dt)


def class_population(layout: Layout, class_counts, name: str = None) -> str:
    """The population that the rows of ``class_counts`` belong to.

    Args:
        layout: the layout
        class_counts: spike counts, shape ``(N, num_classes)``
        name: the population, when the caller knows it

    Returns:
        the population name: ``name`` if given, else the one population of
        N neurons; among several, ``"hidden"`` or else the one with a
        recurrent spatial connection

    Raises:
        ValueError: if no population, or more than one, fits
    """
    n = np.shape(class_counts)[0]
    if name is not None:
        if name not in layout.positions:
            raise ValueError(f"population '{name}' is not in the layout "
                             f"(it has {sorted(layout.positions)})")
        if layout.positions[name].shape[0] != n:
            raise ValueError(f"class counts have {n} rows but population "
                             f"'{name}' has "
                             f"{layout.positions[name].shape[0]} neurons")
        return name
    fits = [p for p, x in layout.positions.items() if x.shape[0] == n]
    if len(fits) > 1:
        recurrent = {c.source for c in layout.connections.values()
                     if c.recurrent}
        fits = (["hidden"] if "hidden" in fits
                else [p for p in fits if p in recurrent])
    if len(fits) != 1:
        raise ValueError(f"cannot tell which population the {n} rows of the "
                         f"class counts belong to; name it (--class-population"
                         f")")
    return fits[0]
