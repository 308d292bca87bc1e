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


def _type_bytes(genn_model, var_type) -> int:
    """Bytes of one element of a GeNN type (a type string such as
    "scalar" or a resolved type), from GeNN's own type table."""
    import numpy as np
    from pygenn._genn import ResolvedType
    resolved = (var_type if isinstance(var_type, ResolvedType)
                else var_type.resolve(genn_model._type_context))
    return int(np.dtype(genn_model.genn_types[resolved]).itemsize)


def _neuron_shape(pop, size, slots=1):
    return {"per": "neuron", "pop": pop, "n": int(size), "slots": int(slots)}


def _synapse_shape(sg):
    from pygenn import SynapseMatrixConnectivity
    sparse = bool(sg.matrix_type & SynapseMatrixConnectivity.SPARSE)
    return {"per": "synapse", "pre": sg.src.name, "post": sg.trg.name,
            "n_pre": int(sg.src.num_neurons),
            "n_post": int(sg.trg.num_neurons),
            "row": int(sg.max_connections if sparse
                       else sg.trg.num_neurons),
            "sparse": sparse}


def _var_records(kind, group, role, variables, definitions=None,
                 shape_fn=None, update_group=None, cu_dims=None):
    """Records of a group's variables; with their GeNN definitions each
    record also carries what :func:`benchmarks.measure.model_bytes` needs:
    the element type's size, whether GeNN keeps one copy per batch lane
    (the variable's access dimensions, and for a custom update its own)
    and the element count in terms of the group sizes."""
    from pygenn import VarAccessDim, get_var_access_dim

    definitions = {d.name: d for d in (definitions or [])}
    records = []
    for name, var in variables.items():
        size = _view_bytes(var)
        if size == 0:
            continue            # not on the host, or fused into another group
        slot_bytes = 0
        slots = 1
        delay_group = getattr(var, "_delay_group", None)
        if delay_group is not None and delay_group() is not None:
            slots = int(delay_group()._num_delay_slots)
            if slots > 1:
                slot_bytes = size - size // slots
        record = {"kind": kind, "group": group.name, "array": name,
                  "role": role, "update_group": update_group,
                  "bytes": size, "delay_slot_bytes": slot_bytes}
        definition = definitions.get(name)
        genn_model = group._model
        if definition is not None and shape_fn is not None:
            dims = (get_var_access_dim(definition.access) if cu_dims is None
                    else get_var_access_dim(definition.access, cu_dims))
            shape = shape_fn(slots)
            if not dims & VarAccessDim.ELEMENT:
                shape = {"per": "one", "n": slots}
            record.update(type_bytes=_type_bytes(genn_model, var.type),
                          batched=bool(dims & VarAccessDim.BATCH),
                          shape=shape)
        elif role == "egp":
            # An extra global parameter is sized by whoever allocates it:
            # modelled as so many elements per neuron of its group (per
            # synapse pair of a dense mirror, per synapse slot of a sparse
            # one)
            elements = size // _type_bytes(genn_model, var.type)
            record.update(type_bytes=_type_bytes(genn_model, var.type),
                          batched=False,
                          shape=_egp_shape(kind, group, elements))
        records.append(record)
    return records


def _egp_shape(kind, group, elements):
    if kind == "synapse":
        # One element per synapse slot (a sparse position mirror's arrays)
        shape = _synapse_shape(group)
        if shape["sparse"] and elements == shape["n_pre"] * shape["row"]:
            return shape
        pairs = group.src.num_neurons * group.trg.num_neurons
        if elements % pairs == 0:
            return {"per": "pairs", "pre": group.src.name,
                    "post": group.trg.name, "n_pre": group.src.num_neurons,
                    "n_post": group.trg.num_neurons,
                    "factor": elements // pairs}
    if kind == "neuron" and elements % group.num_neurons == 0:
        return _neuron_shape(group.name, group.num_neurons,
                             elements // group.num_neurons)
    return {"per": "one", "n": elements}


def _internal_shape(group, name, batch_size):
    """Element count and batching of a GeNN-internal array, as GeNN 5.4's
    runtime allocates it (``Runtime::allocate``); None when not modelled."""
    if name in ("spkQuePtr", "denDelayPtr"):
        return {"per": "one", "n": 1}, 4, False
    if name in ("sT", "prevST"):
        slots = group._num_delay_slots if group._num_delay_slots > 1 else 1
        return _neuron_shape(group.name, group.num_neurons, slots), None, True
    if name == "outPost":
        return (_neuron_shape(group.trg.name, group.trg.num_neurons),
                None, True)
    if name == "outPre":
        return (_neuron_shape(group.src.name, group.src.num_neurons),
                None, True)
    if name == "denDelay":
        return (_neuron_shape(group.trg.name, group.trg.num_neurons,
                              group.max_dendritic_delay_timesteps),
                None, True)
    if name in _SPIKE_ARRAYS:
        pop = group.src if name.startswith("src") else group.trg
        slots = _spike_queue_slots(group._model, pop)
        if "SpkCnt" in name:
            return {"per": "one", "n": slots}, 4, True
        return _neuron_shape(pop.name, pop.num_neurons, slots), 4, True
    if name == "rowLength":
        return (_neuron_shape(group.src.name, group.src.num_neurons), 4,
                False)
    if name == "ind":
        return (_synapse_shape(group),
                _type_bytes(group._model, group._sparse_ind_type), False)
    return None


_SPIKE_ARRAYS = ("srcSpkCnt", "srcSpk", "trgSpkCnt", "trgSpk",
                 "srcSpkCntEvent", "srcSpkEvent", "trgSpkCntEvent",
                 "trgSpkEvent")


def _spike_queue_slots(genn_model, pop) -> int:
    """Delay slots of a population's spike queue: GeNN queues spikes when
    an outgoing synapse group has an axonal delay or an incoming one a
    back-propagation delay (``NeuronGroup::isSpikeQueueRequired``)."""
    queued = any(
        (sg.src.name == pop.name and sg.axonal_delay_steps > 0)
        or (sg.trg.name == pop.name and sg.back_prop_delay_steps > 0)
        for sg in genn_model.synapse_populations.values())
    return int(pop._num_delay_slots) if queued else 1


def _internal_records(kind, group, runtime, array_names):
    records = []
    for name in array_names:
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
            record = {"kind": kind, "group": group.name, "array": name,
                      "role": "internal", "update_group": None,
                      "bytes": size, "delay_slot_bytes": 0}
            modelled = _internal_shape(group, name, group._model.batch_size)
            if modelled is not None:
                shape, type_bytes, batched = modelled
                if type_bytes is None:   # model or time precision
                    type_bytes = _type_bytes(
                        group._model, group._model.time_precision
                        if name in ("sT", "prevST")
                        else group._model.precision)
                record.update(shape=shape, type_bytes=type_bytes,
                              batched=batched)
            records.append(record)
    return records


def _definitions_and_shapes(kind, group, attribute, genn_model):
    """(GeNN variable definitions, shape function of the delay slots) of
    one array dictionary of a group."""
    if attribute == "extra_global_params" or (
            attribute == "psm_extra_global_params"):
        return None, None
    if kind == "neuron":
        return (group.model.get_vars(),
                lambda slots: _neuron_shape(group.name, group.num_neurons,
                                            slots))
    if kind == "synapse":
        snippet = group.wu_initialiser.snippet
        src, trg = group.src, group.trg
        return {
            "vars": (snippet.get_vars(), lambda slots: _synapse_shape(group)),
            "pre_vars": (snippet.get_pre_vars(),
                         lambda slots: _neuron_shape(src.name,
                                                     src.num_neurons, slots)),
            "post_vars": (snippet.get_post_vars(),
                          lambda slots: _neuron_shape(trg.name,
                                                      trg.num_neurons,
                                                      slots)),
            "psm_vars": (group.ps_initialiser.snippet.get_vars(),
                         lambda slots: _neuron_shape(trg.name,
                                                     trg.num_neurons,
                                                     slots)),
        }[attribute]
    if kind == "custom_update":
        if hasattr(group, "synapse_group"):
            return (group.model.get_vars(),
                    lambda slots: _synapse_shape(group.synapse_group))
        # A neuron custom update: named after the population of its size
        matches = [p.name for p in genn_model.neuron_populations.values()
                   if p.num_neurons == group.num_neurons]
        pop = matches[0] if len(matches) == 1 else None
        return (group.model.get_vars(),
                lambda slots: _neuron_shape(pop, group.num_neurons, slots))
    sg = group.synapse_group
    return {
        "vars": (group.model.get_vars(), lambda slots: _synapse_shape(sg)),
        "pre_vars": (group.model.get_pre_vars(),
                     lambda slots: _neuron_shape(sg.src.name,
                                                 sg.src.num_neurons)),
        "post_vars": (group.model.get_post_vars(),
                      lambda slots: _neuron_shape(sg.trg.name,
                                                  sg.trg.num_neurons)),
    }[attribute]


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
    connectivity, ...), each with the memory model's description of it
    (:func:`benchmarks.measure.model_bytes`). On CUDA only arrays with a
    host copy are seen."""
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
            cu_dims = getattr(group, "_dims", None)
            for attribute in _GROUP_ARRAYS[kind]:
                definitions, shape_fn = _definitions_and_shapes(
                    kind, group, attribute, genn_model)
                records += _var_records(kind, group, _ROLES[attribute],
                                        getattr(group, attribute, {}),
                                        definitions, shape_fn, update_group,
                                        cu_dims)
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
    groups = {cu.update_group_name
              for cu in genn_model.custom_updates.values()}
    groups |= {ccu.update_group_name
               for ccu in genn_model.custom_connectivity_updates.values()}
    return sorted(groups)


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
