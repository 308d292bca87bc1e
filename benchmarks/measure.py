"""Pure parts of the benchmarks: statistics of trial times, power-law fits,
the grouping of GeNN arrays into memory categories, parameter counts and
Markdown tables. NumPy only: no GeNN import, so all of it is tested on a
machine without GeNN.

A GeNN array is described by a *record*, a dict with the keys

    kind            "neuron", "synapse", "custom_update" or
                    "custom_connectivity_update"
    group           name of the GeNN group that owns the array
    array           name of the array (variable, extra global parameter or
                    GeNN-internal array such as "denDelay")
    role            "var", "pre_var", "post_var", "psm_var", "egp" or
                    "internal"
    update_group    custom update group ("GradientLearn", ...) or None
    bytes           bytes allocated on the host
    delay_slot_bytes  bytes of the extra delay slots a neuron variable read
                    with a delay (``LambdaI_post[d]``) is stored in; 0 for
                    an undelayed array

(:func:`benchmarks.worker.genn_array_records` walks a loaded GeNN model
into such records.)
"""
import math
import re

import numpy as np

from ml_genn_spatial import names

MEMORY_CATEGORIES = ("weights", "delays", "positions", "gradients",
                     "optimiser state", "delay buffers", "mirror/transpose",
                     "connectivity", "other")

# Category of a variable by its name (model variables of mlGeNN's EventProp
# and of ml_genn_spatial)
_WEIGHT_VARS = {"g"}
_DELAY_VARS = {"d", names.SYNAPSE_DELAY}
_GRADIENT_VARS = {"Gradient", "DelayGradient", names.POSITION_DELAY_GRADIENT,
                  names.REDUCED_POSITION_DELAY_GRADIENT, "ReducedGradient"}
_POSITION_PATTERN = re.compile(
    rf"^({names.POSITION}|{names.POSITION_PRE}|{names.POSITION_POST})\d+$"
    rf"|^{names.POSITION_TABLE}$")
# Position gradients: the neurons' per-lane array and the batch sums that
# PositionGather writes for the optimiser
_POSITION_GRADIENT_PATTERN = re.compile(r"^PositionGradient(\d+|Acc)$")
_GATHER_GROUP = names.POSITION_GATHER
_DENDRITIC_DELAY_ARRAYS = {"denDelay", "denDelayPtr"}
_CONNECTIVITY_ARRAYS = {"rowLength", "ind", "colLength", "remap", "gp"}
_MIRROR_SUFFIX = names.MIRROR_SUFFIX
_MIRROR_EGPS = {names.DELAY_GRADIENT_T}
_OPTIMISER_GROUPS = {"GradientLearn", names.POSITION_LEARN}
# Variables that exist only to learn delays (mlGeNN) or positions (spatial)
_DELAY_ONLY_VARS = {"d", names.SYNAPSE_DELAY, "DelayGradient",
                    names.POSITION_DELAY_GRADIENT,
                    names.REDUCED_POSITION_DELAY_GRADIENT}


def summarise_times(times) -> dict:
    """Median, quartiles, extremes and count of trial times [s]."""
    times = np.asarray(times, dtype=float)
    if times.size == 0:
        return {"n": 0, "median": None, "p25": None, "p75": None,
                "iqr": None, "min": None, "max": None, "mean": None}
    p25, median, p75 = np.percentile(times, [25, 50, 75])
    return {"n": int(times.size), "median": float(median),
            "p25": float(p25), "p75": float(p75),
            "iqr": float(p75 - p25), "min": float(times.min()),
            "max": float(times.max()), "mean": float(times.mean())}


def fit_power_law(x, y) -> dict:
    """Least-squares fit of ``y = prefactor * x ** exponent`` in log-log
    space.

    Returns ``{"exponent", "prefactor", "r2", "n"}``, or None with fewer
    than two distinct positive ``x`` (points with a non-positive or missing
    value are left out).
    """
    points = [(float(a), float(b)) for a, b in zip(x, y)
              if a is not None and b is not None and a > 0 and b > 0
              and math.isfinite(a) and math.isfinite(b)]
    if len({a for a, _ in points}) < 2:
        return None
    log_x = np.log([a for a, _ in points])
    log_y = np.log([b for _, b in points])
    exponent, intercept = np.polyfit(log_x, log_y, 1)
    residual = log_y - (intercept + exponent * log_x)
    total = np.sum((log_y - log_y.mean()) ** 2)
    r2 = 1.0 if total == 0.0 else float(1.0 - np.sum(residual ** 2) / total)
    return {"exponent": float(exponent), "prefactor": float(np.exp(intercept)),
            "r2": r2, "n": len(points)}


def _is_mirror(record) -> bool:
    return record["group"].endswith(_MIRROR_SUFFIX)


def _name_category(record):
    """Category of a record from its array name alone, or None."""
    name = record["array"]
    if record["role"] == "internal":
        if name in _DENDRITIC_DELAY_ARRAYS:
            return "delay buffers"
        if name in _CONNECTIVITY_ARRAYS:
            # A sparse position mirror's rows exist only for positions
            return "mirror/transpose" if _is_mirror(record) else (
                "connectivity")
        return None
    if _POSITION_PATTERN.match(name):
        return "positions"
    if name in _MIRROR_EGPS:
        return "mirror/transpose"
    if record["kind"] == "custom_update" or (
            record["kind"] == "custom_connectivity_update"):
        group = record.get("update_group") or ""
        if group in _OPTIMISER_GROUPS:
            return "optimiser state"
        if group.endswith("BatchReduce") and name in _GRADIENT_VARS:
            return "gradients"
        if group == _GATHER_GROUP:
            return "gradients"
        return None
    if name in _WEIGHT_VARS and record["kind"] == "synapse":
        return "weights"
    if name in _DELAY_VARS and record["kind"] == "synapse":
        return "delays"
    if name in _GRADIENT_VARS or _POSITION_GRADIENT_PATTERN.match(name):
        return "gradients"
    return None


def classify_array(record) -> list:
    """Memory categories of one array record as ``[(category, bytes)]``.

    Position copies count as positions wherever they live; every other
    array of a position mirror synapse group counts as mirror/transpose;
    the extra delay slots of delayed neuron variables count as delay
    buffers, their first slot by the variable's own category.
    """
    total = int(record["bytes"])
    slots = int(record.get("delay_slot_bytes", 0) or 0)
    category = _name_category(record)
    if category is None:
        category = "mirror/transpose" if _is_mirror(record) else "other"
    if slots and category not in ("delay buffers",):
        return [(category, total - slots), ("delay buffers", slots)]
    return [(category, total)]


def group_memory(records) -> dict:
    """Bytes per memory category (all of :data:`MEMORY_CATEGORIES`)."""
    grouped = dict.fromkeys(MEMORY_CATEGORIES, 0)
    for record in records:
        for category, size in classify_array(record):
            grouped[category] += size
    return grouped


def is_delay_related(record) -> bool:
    """Whether an array exists only to learn delays: mlGeNN's per-synapse
    delays with their gradients and optimiser state, or positions with the
    arrays that carry their gradient (per-synapse delay gradient, mirror,
    per-neuron position gradient, optimiser state). Dendritic delay buffers
    are not counted: every delayed connection has them."""
    name = record["array"]
    if record["role"] == "internal":
        # A sparse position mirror's rows (its spike and event buffers are
        # GeNN's for any group)
        return _is_mirror(record) and name in _CONNECTIVITY_ARRAYS
    if _is_mirror(record) or name in _MIRROR_EGPS:
        return True
    if (name in _DELAY_ONLY_VARS or _POSITION_PATTERN.match(name)
            or _POSITION_GRADIENT_PATTERN.match(name)):
        return True
    if record["kind"] in ("custom_update", "custom_connectivity_update"):
        return "Delay" in record["group"] or "Position" in record["group"]
    return False


def delay_related_memory(records) -> dict:
    """Bytes of the delay-related arrays (:func:`is_delay_related`) by
    component: "parameters" (delays or positions and their copies),
    "gradients" (including the transposed mirror array),
    "optimiser state", and their "total"; "parameters_and_optimiser"
    leaves out the gradient buffers."""
    parts = {"parameters": 0, "gradients": 0, "optimiser state": 0}
    for record in records:
        if not is_delay_related(record):
            continue
        for category, size in classify_array(record):
            if category in ("delays", "positions"):
                parts["parameters"] += size
            elif category == "optimiser state":
                parts["optimiser state"] += size
            elif category in ("gradients", "mirror/transpose"):
                parts["gradients"] += size
    parts["total"] = sum(parts.values())
    parts["parameters_and_optimiser"] = (parts["parameters"]
                                         + parts["optimiser state"])
    return parts


def count_parameters(groups) -> dict:
    """Trainable parameters from group summaries.

    Each summary is a dict: synapse groups ``{"kind": "synapse",
    "synapses": n, "trainable_weights": bool, "trainable_delays": bool}``,
    neuron groups ``{"kind": "neuron", "neurons": n, "position_dims": D}``
    (D = 0 for a population without learned positions).
    """
    counts = {"weights": 0, "delays": 0, "positions": 0}
    for group in groups:
        if group["kind"] == "synapse":
            if group.get("trainable_weights"):
                counts["weights"] += int(group["synapses"])
            if group.get("trainable_delays"):
                counts["delays"] += int(group["synapses"])
        elif group["kind"] == "neuron":
            counts["positions"] += (int(group["neurons"])
                                    * int(group.get("position_dims", 0)))
    counts["total"] = sum(counts.values())
    return counts


def profile_per_trial(profile_blocks, time_blocks, batch_size: int = 1):
    """Kernel timers per trial [s], the median over blocks of each timer's
    block total divided by the block's trials (robust to a block in which
    the process was descheduled). Adds "wall" (median over blocks of the
    block's mean trial time) and "host" (wall minus every timed kernel:
    Python, callbacks, transfers). Empty without profiles."""
    rows = [(p, t) for p, t in zip(profile_blocks, time_blocks)
            if p and len(t)]
    if not rows:
        return {}
    per_trial = {}
    for key in rows[0][0]:
        per_trial[key] = float(np.median(
            [p.get(key, 0.0) / (len(t) * batch_size) for p, t in rows]))
    per_trial["wall"] = float(np.median(
        [np.sum(t) / (len(t) * batch_size) for _, t in rows]))
    kernels = sum(v for k, v in per_trial.items() if k != "wall")
    per_trial["host"] = per_trial["wall"] - kernels
    return per_trial


def ratio(numerator, denominator):
    """``numerator / denominator``, or None when either is missing or the
    denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def paired_ratio(blocks_a, blocks_b):
    """Median over repeats of median(block of A) / median(block of B), the
    blocks of one repeat having run back to back (interleaved), so slow
    drifts of the machine cancel."""
    ratios = [ratio(np.median(a), np.median(b))
              for a, b in zip(blocks_a, blocks_b) if len(a) and len(b)]
    ratios = [r for r in ratios if r is not None]
    return float(np.median(ratios)) if ratios else None


def rotated(items, shift: int) -> list:
    """``items`` rotated left by ``shift`` (the mode order of a repeat)."""
    items = list(items)
    if not items:
        return items
    shift %= len(items)
    return items[shift:] + items[:shift]


def markdown_table(headers, rows) -> str:
    """A Markdown table; None cells print as an em dash."""
    def cell(value):
        return "—" if value is None else str(value)
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def mib(num_bytes, digits: int = 2):
    """Bytes as MiB, rounded (None stays None)."""
    if num_bytes is None:
        return None
    return round(num_bytes / 2 ** 20, digits)


def fmt(value, spec: str = ".2f"):
    """Format a number, None as None (printed as a dash by the tables)."""
    return None if value is None else format(value, spec)


# --- the memory model --------------------------------------------------------
#
# A record of :func:`benchmarks.worker.genn_array_records` also carries
#
#     type_bytes  bytes of one element (the variable's GeNN type)
#     batched     True when GeNN keeps one copy per batch lane (the
#                 variable's access dimensions include BATCH), False when
#                 all lanes share it
#     shape       the element count of one copy, in terms of group sizes:
#                 {"per": "neuron", "pop", "n", "slots"}   n x slots
#                 {"per": "synapse", "pre", "post", "n_pre", "n_post",
#                  "row", "sparse"}     n_pre x row (row = n_post if dense)
#                 {"per": "pairs", "pre", "post", "n_pre", "n_post",
#                  "factor"}            n_pre x n_post x factor
#                 {"per": "one", "n"}   n, whatever the sizes
#
# so that bytes = elements(sizes) x type_bytes x (B if batched else 1).

def model_elements(shape, sizes=None) -> int:
    """Elements of one copy of an array (``shape`` as above) for the
    population sizes ``sizes`` (name -> neurons; a population left out
    keeps its size). A sparse row grows with the target population in
    proportion (the expected row length of a fixed connection
    probability; GeNN's maximum row length is a quantile a little above
    it)."""
    sizes = sizes or {}

    def size(pop, n):
        return int(sizes.get(pop, n)) if pop is not None else int(n)

    per = shape["per"]
    if per not in ("one", "neuron", "pairs", "synapse"):
        raise ValueError(f"unknown array shape {shape!r}")
    if per == "one":
        return int(shape["n"])
    if per == "neuron":
        return size(shape["pop"], shape["n"]) * int(shape.get("slots", 1))
    n_pre = size(shape["pre"], shape["n_pre"])
    n_post = size(shape["post"], shape["n_post"])
    if per == "pairs":
        return n_pre * n_post * int(shape.get("factor", 1))
    if not shape["sparse"]:
        return n_pre * n_post
    row = int(shape["row"])
    if n_post != shape["n_post"]:
        row = min(n_post, math.ceil(row * n_post / shape["n_post"]))
    return n_pre * row


def is_modelled(record) -> bool:
    """Whether a record carries the memory model's description."""
    return {"type_bytes", "batched", "shape"} <= set(record)


def model_bytes(record, batch_size: int = 1, sizes=None) -> int:
    """Bytes of an array by the memory model: elements x type size x
    (``batch_size`` if GeNN keeps one copy per batch lane, else 1)."""
    copies = batch_size if record["batched"] else 1
    return (model_elements(record["shape"], sizes) * int(record["type_bytes"])
            * copies)


_OPTIMISER_PREFIX = "CUGradientLearn"


def batch_only_records(records) -> list:
    """Records of the arrays that mlGeNN and ml_genn_spatial add only for
    batch sizes above 1, derived from a batch-1 model's records: the
    shared batch sum of every optimised per-synapse gradient (mlGeNN's
    ``ReducedGradient`` of a ``CUBatchReduce<suffix>`` update beside each
    ``CUGradientLearn<suffix>`` optimiser) and of every spatial delay
    gradient (``ReducedPositionDelayGradient``)."""
    added, seen = [], set()
    for record in records:
        if not is_modelled(record):
            continue
        group = record["group"]
        if (record["kind"] == "custom_update"
                and record.get("update_group") == "GradientLearn"
                and group.startswith(_OPTIMISER_PREFIX)
                and group not in seen):
            seen.add(group)
            added.append({**record,
                          "group": "CUBatchReduce"
                                   + group[len(_OPTIMISER_PREFIX):],
                          "array": "ReducedGradient",
                          "update_group": "GradientBatchReduce",
                          "batched": False, "delay_slot_bytes": 0})
        elif (record["kind"] == "synapse"
              and record["array"] == names.POSITION_DELAY_GRADIENT):
            added.append({**record,
                          "array": names.REDUCED_POSITION_DELAY_GRADIENT,
                          "batched": False, "delay_slot_bytes": 0})
    return added


def model_records(records, batch_size: int = 1, sizes=None,
                  measured_batch: int = 1) -> list:
    """The records with their bytes (and delay-slot bytes) replaced by the
    memory model's at ``batch_size`` and population ``sizes``; a record
    the model does not describe keeps its measured bytes. Records of a
    batch-1 model (``measured_batch``) modelled at a larger batch size
    gain the arrays only batches above 1 have (:func:`batch_only_records`).
    """
    if batch_size > 1 and measured_batch == 1:
        records = list(records) + batch_only_records(records)
    modelled = []
    for record in records:
        if not is_modelled(record):
            modelled.append(dict(record))
            continue
        size = model_bytes(record, batch_size, sizes)
        slots = int(record["shape"].get("slots", 1))
        slot_bytes = (size - size // slots
                      if record.get("delay_slot_bytes") else 0)
        modelled.append({**record, "bytes": size,
                         "delay_slot_bytes": slot_bytes})
    return modelled


def check_model(records, batch_size: int = 1) -> dict:
    """The memory model at the measured sizes and ``batch_size`` (the
    batch size the records were measured at) against the measured bytes: ``{"arrays", "modelled", "measured_bytes",
    "modelled_bytes", "unmodelled_bytes", "mismatches"}`` (mismatches:
    records whose modelled bytes differ, with both values)."""
    mismatches = []
    measured = modelled = unmodelled = count = 0
    for record in records:
        measured += int(record["bytes"])
        if not is_modelled(record):
            unmodelled += int(record["bytes"])
            continue
        count += 1
        size = model_bytes(record, batch_size)
        modelled += size
        if size != int(record["bytes"]):
            mismatches.append({"group": record["group"],
                               "array": record["array"],
                               "measured": int(record["bytes"]),
                               "modelled": size})
    return {"arrays": len(records), "modelled": count,
            "measured_bytes": measured, "modelled_bytes": modelled,
            "unmodelled_bytes": unmodelled, "mismatches": mismatches}


# What named, atomic addToPre/addToPost targets in GeNN would remove from a
# spatial network (benchmarks/README.md): the per-synapse delay gradient,
# its batch sum and the position mirrors
_FEATURE_REMOVES = {names.POSITION_DELAY_GRADIENT,
                    names.REDUCED_POSITION_DELAY_GRADIENT}
_PLACED_POSITION_PATTERN = re.compile(rf"^{names.POSITION}\d+$")


def feature_saving(modelled, batch_size: int) -> dict:
    """For modelled records at ``batch_size``: the delay-related bytes the
    GeNN feature of benchmarks/README.md would remove, and the bytes it
    would add (D position-gradient inputs per placed neuron and batch
    lane, one float each)."""
    removed = sum(r["bytes"] for r in modelled if is_delay_related(r)
                  and (_is_mirror(r) or r["array"] in _FEATURE_REMOVES))
    # One input per coordinate X<k> of every placed neuron (X<k> is shared
    # by the lanes: its bytes are its elements x type size)
    inputs = sum(r["bytes"] // int(r.get("type_bytes", 4)) for r in modelled
                 if r["kind"] == "neuron"
                 and _PLACED_POSITION_PATTERN.match(r["array"]))
    return {"removed": int(removed), "added": int(inputs * 4 * batch_size)}


def memory_model(records, batch_sizes, sizes_list,
                 measured_batch: int = 1) -> list:
    """Rows of the memory model for every batch size and population
    sizes: ``{"batch_size", "sizes", "total", "delay", "categories",
    "delay_parts", "feature"}`` in bytes (delay:
    :func:`delay_related_memory`, feature: :func:`feature_saving`)."""
    rows = []
    for sizes in sizes_list:
        for batch_size in batch_sizes:
            modelled = model_records(records, batch_size, sizes,
                                     measured_batch)
            categories = group_memory(modelled)
            delay = delay_related_memory(modelled)
            rows.append({"batch_size": int(batch_size),
                         "sizes": dict(sizes),
                         "total": sum(categories.values()),
                         "delay": delay["total"], "delay_parts": delay,
                         "categories": categories,
                         "feature": feature_saving(modelled, batch_size)})
    return rows
