"""One benchmarked mode in its own process.

:func:`main` builds and loads one network (so its host memory is measured
alone), reports the GeNN arrays it allocated, then trains for a fixed
number of trials in blocks: before each block it waits for the parent's
go-ahead, so the parent can interleave the modes (the waiting is not
timed). Messages are plain dicts sent through a ``multiprocessing``
connection:

    worker -> parent  {"type": "ready", ...}   built and loaded
    parent -> worker  {"cmd": "run", "trials": k}
    worker -> parent  {"type": "block", "times": [...], "profile": {...}}
    worker -> parent  {"type": "done", ...}    after the last block
    worker -> parent  {"type": "error", "error": traceback}

Trial time is measured between successive ``on_batch_begin`` calls of the
last callback, so it includes everything mlGeNN and ml_genn_spatial do per
trial (simulation, backward pass, optimisers, position scatter, the Python
callbacks of every timestep).
"""
import os
import re
import resource
import sys
import time
import traceback

from ml_genn_spatial import names

# GeNN-internal arrays (GeNN 5.4 runtime) that are not model variables
_INTERNAL_SYNAPSE_ARRAYS = (
    "outPost", "outPre", "denDelay", "denDelayPtr", "rowLength", "ind",
    "colLength", "remap", "gp", "srcSpkCnt", "srcSpk", "trgSpkCnt",
    "trgSpk", "srcSpkCntEvent", "srcSpkEvent", "trgSpkCntEvent",
    "trgSpkEvent", "srcSET", "trgSET", "srcPrevSET", "trgPrevSET",
    "srcRecordSpkEvent", "trgRecordSpkEvent")
_INTERNAL_NEURON_ARRAYS = ("spkQuePtr", "sT", "prevST", "recordSpk")
_KERNEL_TIMERS = ("neuron_update_time", "presynaptic_update_time",
                  "postsynaptic_update_time", "synapse_dynamics_time")


def process_memory() -> dict:
    """Current (VmRSS) and peak (VmHWM) resident memory [bytes] of this
    process, from /proc (ru_maxrss where /proc is missing)."""
    values = {}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    peak = values.get(
        "VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"rss": values.get("VmRSS", peak), "peak": peak}


def release_free_memory():
    """Collect garbage and hand freed heap pages back to the OS (glibc
    malloc_trim), so a baseline RSS does not hold freed temporaries."""
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_memory() -> bool:
    """Restart the VmHWM peak at the current RSS (Linux clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def _view_bytes(array) -> int:
    view = getattr(array, "_view", None)
    return 0 if view is None else int(view.nbytes)


def _var_records(kind, group, role, variables, update_group=None):
    records = []
    for name, var in variables.items():
        size = _view_bytes(var)
        if size == 0:
            continue            # not on the host, or fused into another group
        slot_bytes = 0
        delay_group = getattr(var, "_delay_group", None)
        if delay_group is not None and delay_group() is not None:
            slots = int(delay_group()._num_delay_slots)
            if slots > 1:
                slot_bytes = size - size // slots
        records.append({"kind": kind, "group": group.name, "array": name,
                        "role": role, "update_group": update_group,
                        "bytes": size, "delay_slot_bytes": slot_bytes})
    return records


def _internal_records(kind, group, runtime, names):
    records = []
    for name in names:
        try:
            array = runtime.get_array(group, name)
        except (IndexError, KeyError, RuntimeError):
            continue
        try:
            view = array.host_view
            size = 0 if view is None else int(memoryview(view).nbytes)
        except Exception:   # a device-only array (CUDA) has no host view
            size = 0
        if size:
            records.append({"kind": kind, "group": group.name, "array": name,
                            "role": "internal", "update_group": None,
                            "bytes": size, "delay_slot_bytes": 0})
    return records


# Array dictionaries of each kind of GeNN group, and their record role
_GROUP_ARRAYS = {
    "neuron": ("vars", "extra_global_params"),
    "synapse": ("vars", "pre_vars", "post_vars", "psm_vars",
                "extra_global_params", "psm_extra_global_params"),
    "custom_update": ("vars", "extra_global_params"),
    "custom_connectivity_update": ("vars", "pre_vars", "post_vars",
                                   "extra_global_params"),
}
_ROLES = {"vars": "var", "pre_vars": "pre_var", "post_vars": "post_var",
          "psm_vars": "psm_var", "extra_global_params": "egp",
          "psm_extra_global_params": "egp"}


def genn_array_records(genn_model) -> list:
    """Every host array of a loaded GeNN model as a record of
    :mod:`benchmarks.measure` (variables, extra global parameters and the
    GeNN-internal arrays: spike queues, dendritic delay buffers, sparse
    connectivity, ...). On CUDA only arrays with a host copy are seen."""
    runtime = genn_model._runtime
    groups = {"neuron": genn_model.neuron_populations,
              "synapse": genn_model.synapse_populations,
              "custom_update": genn_model.custom_updates,
              "custom_connectivity_update":
                  genn_model.custom_connectivity_updates}
    internal = {"neuron": _INTERNAL_NEURON_ARRAYS,
                "synapse": _INTERNAL_SYNAPSE_ARRAYS}
    records = []
    for kind, by_name in groups.items():
        for group in by_name.values():
            update_group = (group.update_group_name
                            if kind.startswith("custom") else None)
            for attribute in _GROUP_ARRAYS[kind]:
                records += _var_records(kind, group, _ROLES[attribute],
                                        getattr(group, attribute, {}),
                                        update_group)
            records += _internal_records(kind, group, runtime,
                                         internal.get(kind, ()))
    return records


def group_summaries(genn_model) -> list:
    """Group summaries for :func:`benchmarks.measure.count_parameters`."""
    from pygenn import SynapseMatrixConnectivity

    learns_positions = any(cu.update_group_name == names.POSITION_LEARN
                           for cu in genn_model.custom_updates.values())
    groups = []
    for pop in genn_model.neuron_populations.values():
        dims = sum(1 for name in pop.vars
                   if re.match(rf"^{names.POSITION}\d+$", name))
        groups.append({"kind": "neuron", "name": pop.name,
                       "neurons": int(pop.num_neurons),
                       "position_dims": dims if learns_positions else 0})
    for syn in genn_model.synapse_populations.values():
        if syn.matrix_type & SynapseMatrixConnectivity.SPARSE:
            syn.pull_connectivity_from_device()
            synapses = len(syn.get_sparse_pre_inds())
        else:
            synapses = syn.src.num_neurons * syn.trg.num_neurons
        groups.append({"kind": "synapse", "name": syn.name,
                       "synapses": int(synapses),
                       "matrix": ("sparse" if syn.matrix_type
                                  & SynapseMatrixConnectivity.SPARSE
                                  else "dense"),
                       "trainable_weights": "Gradient" in syn.vars,
                       "trainable_delays": "DelayGradient" in syn.vars})
    return groups


def _custom_update_groups(genn_model) -> list:
    names = {cu.update_group_name
             for cu in genn_model.custom_updates.values()}
    names |= {ccu.update_group_name
              for ccu in genn_model.custom_connectivity_updates.values()}
    return sorted(names)


def kernel_times(genn_model, cu_groups) -> dict:
    """GeNN's cumulative kernel timers [s] (kernel_profiling=True)."""
    times = {name: float(getattr(genn_model, name))
             for name in _KERNEL_TIMERS}
    for group in cu_groups:
        total = genn_model.get_custom_update_time(group)
        try:
            total += genn_model.get_custom_update_transpose_time(group)
        except Exception:      # no transpose in this group
            pass
        times[f"custom_update:{group}"] = float(total)
    return times


def gpu_memory_bytes():
    """Device memory [bytes] nvidia-smi attributes to this process, or None
    (no GPU, no nvidia-smi)."""
    import subprocess
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory",
             "--format=csv,noheader,nounits"], capture_output=True,
            text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        pid, _, used = line.partition(",")
        if pid.strip() == str(os.getpid()):
            return int(float(used)) * 2 ** 20
    return None


def spikes_in_trial(genn_pop, max_spikes: int) -> int:
    """Spikes a population of mlGeNN's EventProp LIF neurons fired in the
    trial that just ended (all batch lanes), read from the offsets of the
    ring buffer that stores their spike times for the backward pass: the
    reset before each trial sets RingWriteStartOffset to
    RingWriteOffset - 1, and each spike advances RingWriteOffset (modulo
    ``max_spikes``)."""
    offsets = []
    for name in ("RingWriteOffset", "RingWriteStartOffset"):
        var = genn_pop.vars[name]
        var.pull_from_device()
        offsets.append(var.view.astype("int64"))
    return int(((offsets[0] - offsets[1] - 1) % max_spikes).sum())


def _make_gate(conn, genn_model, profile, hidden_pop, max_spikes):
    from ml_genn.callbacks import Callback

    cu_groups = _custom_update_groups(genn_model) if profile else []

    class Gate(Callback):
        """Times every trial and holds training between blocks until the
        parent says go."""

        def __init__(self):
            self._start = None
            self._cpu_start = None
            self._remaining = 0
            self._times = []
            self._cpu_times = []
            self._spikes = []
            self._profile_start = None

        def _snapshot(self):
            return kernel_times(genn_model, cu_groups) if profile else {}

        def _send_block(self):
            end = self._snapshot()
            delta = {k: end[k] - self._profile_start.get(k, 0.0)
                     for k in end}
            conn.send({"type": "block", "times": self._times,
                       "cpu_times": self._cpu_times,
                       "hidden_spikes": self._spikes, "profile": delta})

        def _wait(self):
            message = conn.recv()
            if message.get("cmd") != "run":
                raise RuntimeError(f"unexpected message {message}")
            self._remaining = int(message["trials"])
            self._times = []
            self._cpu_times = []
            self._spikes = []
            self._profile_start = self._snapshot()

        def _stop_clocks(self):
            now, cpu = time.perf_counter(), time.process_time()
            self._times.append(now - self._start)
            self._cpu_times.append(cpu - self._cpu_start)

        def on_batch_begin(self, batch):
            if self._start is not None:
                self._stop_clocks()
                self._remaining -= 1
            if self._remaining <= 0:
                if self._start is not None:
                    self._send_block()
                self._wait()
            self._cpu_start = time.process_time()
            self._start = time.perf_counter()

        def on_batch_end(self, batch, metrics):
            # A few microseconds, inside the timed trial
            self._spikes.append(spikes_in_trial(hidden_pop, max_spikes))

        def on_epoch_end(self, epoch, metrics):
            self._stop_clocks()
            self._send_block()

    return Gate()


def run(conn, config):
    """Build, load, report memory, then train in parent-paced blocks."""
    import numpy as np
    import pygenn  # noqa: F401  (in the baseline memory)
    import ml_genn_spatial.compilers  # noqa: F401
    from ml_genn.utils.data import preprocess_spikes

    from benchmarks.workloads import SHAPES, apply_mode, build, make_data

    os.makedirs(config["build_dir"], exist_ok=True)
    os.chdir(config["build_dir"])
    shape = SHAPES[config["shape"]]
    batch_size = config["batch_size"]
    trials = config["trials"]
    pool = min(trials * batch_size, config.get("data_pool", 64))
    trains, labels = make_data(shape, pool, config["seed"], config["trial_ms"],
                               config.get("mean_spikes", 4000.0))
    max_input_spikes = max(len(times) for times, _ in trains)
    spikes = [preprocess_spikes(np.asarray(times, dtype=float), ids,
                                shape.num_inputs) for times, ids in trains]
    # Cycle the pool: each trial is a batch of batch_size examples
    total = trials * batch_size
    x = [spikes[i % pool] for i in range(total)]
    y = np.asarray([labels[i % pool] for i in range(total)])
    del trains
    release_free_memory()
    baseline = process_memory()

    compiler, network, populations = build(
        shape, config["mode"], config["hidden"], config["trial_ms"],
        max_input_spikes, batch_size=batch_size, backend=config["backend"],
        kernel_profiling=config["profile"], sparse_p=config["sparse_p"],
        seed=config["seed"], optimize_code=config.get("optimize_code", True))
    start = time.perf_counter()
    compiled = apply_mode(compiler.compile(network, name=config["name"]),
                          config["mode"])
    with compiled:
        build_s = time.perf_counter() - start
        genn_model = compiled.genn_model
        records = genn_array_records(genn_model)
        groups = group_summaries(genn_model)
        loaded = process_memory()
        conn.send({"type": "ready", "build_s": build_s,
                   "backend": genn_model.backend_name,
                   "records": records, "groups": groups,
                   "baseline_rss": baseline["rss"],
                   "loaded_rss": loaded["rss"],
                   "build_peak_rss": loaded["peak"],
                   "gpu_memory_loaded": gpu_memory_bytes()
                   if config["backend"] == "cuda" else None,
                   "max_input_spikes": max_input_spikes})
        peak_reset = reset_peak_memory()
        gate = _make_gate(conn, genn_model, config["profile"],
                          compiled.neuron_populations[populations["hidden"]],
                          compiler.max_spikes)
        compiled.train({populations["input"]: x}, {populations["output"]: y},
                       num_epochs=1, shuffle=False, callbacks=[gate])
        trained = process_memory()
        gpu = (gpu_memory_bytes() if config["backend"] == "cuda" else None)
    conn.send({"type": "done",
               "train_peak_rss": trained["peak"] if peak_reset else None,
               "peak_rss": resource.getrusage(
                   resource.RUSAGE_SELF).ru_maxrss * 1024,
               "gpu_memory_trained": gpu})


def main(conn, config):
    """Process entry point: output goes to ``config["log"]``, errors to the
    parent."""
    log = open(config["log"], "w")
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        run(conn, config)
    except BaseException:
        try:
            conn.send({"type": "error", "error": traceback.format_exc()})
        finally:
            raise
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        conn.close()
