"""The GeNN side of the training scripts: a planned network
(:mod:`spatial_examples`) as an mlGeNN network, trained with EventProp
(spatial, per-synapse or no delays), checkpointed every epoch, resumed,
tested with the training dt, and exported.

Imports pygenn and ml_genn: the scripts import this module only when both
are installed.
"""
import contextlib
import os
from time import perf_counter

import numpy as np

from ml_genn import Connection, Network, Population
from ml_genn.callbacks import Callback, Checkpoint, SpikeRecorder
from ml_genn.compilers import EventPropCompiler
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense, FixedProbability
from ml_genn import losses
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes
from pygenn.genn_model import backend_modules

from ml_genn_spatial import (ConnectivityRecord, SpatialConnection,
                             SpatialDense, SpatialEventPropCompiler,
                             SpatialInferenceCompiler, SpatialSparse, place,
                             save_layout)
from ml_genn_spatial.connectivity import SpatialConnectivity

from spatial_examples import (delay_learning_rate, hidden_class_counts,
                              new_results, prepare_resume, print_summary,
                              record_epoch, resolve_batch_size, write_json)


def resolve_backend(backend):
    """The GeNN backend a run uses: the one asked for, or pygenn's first
    (CUDA when it was built with it)."""
    if backend is not None:
        if backend not in backend_modules:
            raise ValueError(f"GeNN backend {backend} is not available in "
                             f"this pygenn build (it has "
                             f"{', '.join(backend_modules)}); CUDA needs "
                             f"pygenn built with CUDA_PATH set")
        return backend
    return next(iter(backend_modules))


@contextlib.contextmanager
def in_directory(path: str):
    """Run in ``path``: GeNN generates its code into the working
    directory."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


# ----------------------------------------------------------------------------
# Network
# ----------------------------------------------------------------------------
def _connectivity(conn, plan, args):
    spec = conn.spec
    if spec.delayed and plan.mode == "spatial":
        if conn.sparse:
            return SpatialSparse(1.0, conn.weight, plan.max_delay_steps,
                                 scale=plan.scale,
                                 allow_self_connections=True,
                                 pre_ind=conn.pre_ind, post_ind=conn.post_ind,
                                 wiring_cost=args.wiring_cost,
                                 regrowth_length=args.regrowth_length)
        return SpatialDense(conn.weight, plan.max_delay_steps,
                            scale=plan.scale, wiring_cost=args.wiring_cost)
    delay = conn.delay if conn.delay is not None else 0
    if conn.sparse:
        sparse = FixedProbability(1.0, conn.weight,
                                  allow_self_connections=True, delay=delay)
        sparse.pre_ind, sparse.post_ind = conn.pre_ind, conn.post_ind
        return sparse
    return Dense(conn.weight, delay=delay)


def build_network(args, plan, task, batch_size: int,
                  max_input_spikes: int):
    """An mlGeNN network of a plan (``args`` gives the wiring cost and
    regrowth length of spatial connections).

    Returns:
        ``(network, populations by name, connections by name)``
    """
    network = Network(default_params)
    with network:
        pops = {}
        for layer in plan.layers:
            if layer.kind == "input":
                neuron = SpikeInput(
                    max_spikes=batch_size * max(1, max_input_spikes))
            elif layer.kind == "hidden":
                neuron = LeakyIntegrateFire(v_thresh=task.v_thresh,
                                            tau_mem=task.tau_mem,
                                            tau_refrac=None)
            elif task.output == "lif":
                neuron = LeakyIntegrateFire(v_thresh=task.v_thresh,
                                            tau_mem=task.output_tau_mem,
                                            tau_refrac=None,
                                            readout=task.readout)
            else:
                neuron = LeakyIntegrate(tau_mem=task.output_tau_mem,
                                        readout=task.readout)
            # Checkpoints are keyed by name: a fresh network must match
            pops[layer.name] = Population(neuron, layer.size,
                                          name=layer.name)
        if plan.mode == "spatial":
            space = plan.space()
            for name, positions in plan.positions.items():
                place(pops[name], space, positions=positions)
        conns = {}
        for conn in plan.connections:
            connectivity = _connectivity(conn, plan, args)
            if isinstance(connectivity, SpatialConnectivity):
                conns[conn.name] = SpatialConnection(
                    pops[conn.spec.source], pops[conn.spec.target],
                    connectivity, Exponential(task.tau_syn), name=conn.name)
                continue
            conns[conn.name] = Connection(
                pops[conn.spec.source], pops[conn.spec.target],
                connectivity, Exponential(task.tau_syn), name=conn.name,
                max_delay_steps=(plan.max_delay_steps
                                 if conn.delay is not None else None))
    return network, pops, conns


def _compiler(args, task, plan, conns, timesteps, batch_size, genn_kwargs):
    loss = getattr(losses, task.loss)(**task.loss_kwargs)
    kwargs = dict(example_timesteps=timesteps, losses=loss,
                  optimiser=Adam(args.lr), dt=args.dt,
                  batch_size=batch_size, rng_seed=args.seed,
                  **task.compiler_kwargs, **genn_kwargs)
    if args.rewiring:
        kwargs["deep_r_conns"] = [conns[c.name] for c in plan.connections
                                  if c.sparse]
        kwargs["deep_r_record_rewirings"] = {
            conns[c.name]: f"rewirings_{c.name}"
            for c in plan.connections if c.sparse}
    if plan.mode == "spatial":
        return SpatialEventPropCompiler(
            position_optimiser=Adam(args.position_lr), **kwargs)
    if plan.mode == "per_synapse":
        kwargs["delay_learn_conns"] = [conns[c.name]
                                       for c in plan.connections
                                       if c.delay is not None]
        kwargs["delay_optimiser"] = Adam(delay_learning_rate(args))
    return EventPropCompiler(**kwargs)


def _round_learned_delays(plan, conns):
    """Learned delays are real numbers that training rounds on use (half
    away from zero); static inference delays are integers."""
    for conn in plan.connections:
        if conn.delay is not None:
            connectivity = conns[conn.name].connectivity
            delay = np.asarray(connectivity.delay, dtype=np.float64)
            connectivity.delay = np.clip(np.floor(delay + 0.5), 0,
                                         plan.max_delay_steps)


# ----------------------------------------------------------------------------
# Callbacks
# ----------------------------------------------------------------------------
class EpochLog(Callback):
    """Writes each epoch's accuracy (and, for training, its duration) into
    the results and saves them to results.json.

    mlGeNN copies callbacks, so all state lives in shared containers.
    """

    def __init__(self, results: dict, path: str, output, prefix: str):
        self._results = results
        self._path = path
        self._output = output
        self._prefix = prefix
        self._start = [0.0]

    def on_epoch_begin(self, epoch):
        self._start[0] = perf_counter()

    def on_epoch_end(self, epoch, metrics):
        # An epoch's "time_s" is its training time
        time_key = "time_s" if self._prefix == "train" else (
            f"{self._prefix}_time_s")
        record_epoch(self._results, epoch, **{
            f"{self._prefix}_accuracy": float(metrics[self._output].result),
            time_key: perf_counter() - self._start[0]})
        write_json(self._path, self._results)


def record_structure(results: dict, data: dict, num_train: int,
                     batch_size: int):
    """Add the connectivity records (per epoch) and DEEP R's rewirings
    (summed per epoch from mlGeNN's per-batch records) to the results."""
    batches = -(-num_train // batch_size)
    structure = results.setdefault("structure", {})
    for key, values in data.items():
        if key.startswith("connectivity_"):
            entry = structure.setdefault(key[len("connectivity_"):], {})
            entry.setdefault("per_epoch", []).extend(values)
        elif key.startswith("rewirings_"):
            entry = structure.setdefault(key[len("rewirings_"):], {})
            counts = np.asarray(values, dtype=np.int64).reshape(-1, 2)
            epochs = [counts[i:i + batches].sum(axis=0)
                      for i in range(0, len(counts), batches)]
            entry.setdefault("rewirings_per_epoch", []).extend(
                int(e[0]) for e in epochs)
            entry.setdefault("failed_rewirings_per_epoch", []).extend(
                int(e[1]) for e in epochs)


class ConnectivityCheckpoint(Checkpoint):
    """mlGeNN's Checkpoint plus the synapses of sparse connections, which
    DEEP R rewires (``Network.load`` restores both)."""

    def on_epoch_end(self, epoch, metrics):
        super().on_epoch_end(epoch, metrics)
        if (epoch % self.epoch_interval) == 0:
            self._compiled_network.save_connectivity((epoch,),
                                                     self.serialiser)


# ----------------------------------------------------------------------------
# Training and testing
# ----------------------------------------------------------------------------
def to_genn_spikes(trains, num_inputs: int):
    """mlGeNN's input format of ``(times [ms], ids)`` spike trains."""
    return [preprocess_spikes(np.asarray(t, dtype=np.float64),
                              np.asarray(i, dtype=np.int64), num_inputs)
            for t, i in trains]


def run(args, task, plan, data) -> dict:
    """Train ``plan`` on ``data`` (resuming when asked), test it with the
    training dt and write results.json, layout.npz and
    hidden_class_counts.npy into ``args.output``.

    Returns:
        The results record
    """
    output = os.path.abspath(args.output)
    os.makedirs(output, exist_ok=True)
    checkpoint_dir = os.path.join(output, "checkpoints")
    results_path = os.path.join(output, "results.json")
    backend = resolve_backend(args.backend)
    batch_size = resolve_batch_size(args, backend)
    genn_kwargs = {"backend": backend}
    timesteps = data.example_timesteps

    start_epoch, previous = prepare_resume(args, results_path, checkpoint_dir)
    network, pops, conns = build_network(args, plan, task, batch_size,
                                         data.max_spikes)
    serialiser = Numpy(checkpoint_dir)
    if start_epoch > 0:
        network.load((start_epoch - 1,), serialiser)
        print(f"Resuming after the checkpoint of epoch {start_epoch - 1}")
    results = previous if previous is not None else new_results(
        task.name, args, plan)
    results.update(backend="genn", genn_backend=backend,
                   batch_size=batch_size, example_timesteps=timesteps,
                   dt=args.dt, complete=False, **data.sizes())
    if start_epoch > 0:
        results.setdefault("resumed_at_epochs", []).append(start_epoch)
    write_json(results_path, results)

    inp, out = pops[plan.layer("input").name], pops[plan.layer("output").name]
    hidden = pops[plan.layer("hidden").name]
    spikes = {name: to_genn_spikes(trains, data.num_inputs)
              for name, (trains, _) in data.splits().items()}
    labels = {name: np.asarray(y) for name, (_, y) in data.splits().items()}

    with in_directory(output):
        if start_epoch < args.epochs:
            # mlGeNN shuffles with NumPy's global generator
            np.random.seed(args.seed + start_epoch)
            compiler = _compiler(args, task, plan, conns, timesteps,
                                 batch_size, genn_kwargs)
            compiled = compiler.compile(network, name=f"{task.name}_train")
            checkpoint = (ConnectivityCheckpoint(serialiser) if args.rewiring
                          else Checkpoint(serialiser))
            validation = {}
            if "validation" in spikes:
                validation = dict(
                    validation_x={inp: spikes["validation"]},
                    validation_y={out: labels["validation"]},
                    validation_callbacks=[
                        "batch_progress_bar",
                        EpochLog(results, results_path, out, "validation")])
            # Sparse spatial connections: synapses, sparsity and mean length
            # per epoch
            records = [ConnectivityRecord(conns[c.name],
                                          f"connectivity_{c.name}")
                       for c in plan.connections
                       if c.sparse and plan.mode == "spatial"]
            with compiled:
                print(f"Training on GeNN's {backend} backend, batch size "
                      f"{batch_size}, {timesteps} timesteps of {args.dt} ms "
                      f"per trial")
                trained = compiled.train(
                    {inp: spikes["train"]}, {out: labels["train"]},
                    num_epochs=args.epochs - start_epoch,
                    start_epoch=start_epoch, shuffle=True,
                    callbacks=["batch_progress_bar", checkpoint,
                               EpochLog(results, results_path, out,
                                        "train")] + records,
                    **validation)
            record_structure(results, trained[-2 if validation else 1],
                             len(labels["train"]), batch_size)
            write_json(results_path, results)

        # Test the last epoch's checkpoint with the training dt
        network.load((args.epochs - 1,), serialiser)
        _round_learned_delays(plan, conns)
        hidden.record_spikes = True
        inference = SpatialInferenceCompiler(
            evaluate_timesteps=timesteps, dt=args.dt, batch_size=batch_size,
            rng_seed=args.seed, reset_in_syn_between_batches=True,
            **genn_kwargs)
        compiled_test = inference.compile(network, name=f"{task.name}_test")
        with compiled_test:
            start = perf_counter()
            metrics, recorded = compiled_test.evaluate(
                {inp: spikes["test"]}, {out: labels["test"]},
                callbacks=["batch_progress_bar",
                           SpikeRecorder(hidden, key="hidden_counts",
                                         record_counts=True)])
            test_time = perf_counter() - start

    num_test = len(labels["test"])
    counts = np.asarray(recorded["hidden_counts"])[:num_test]
    np.save(os.path.join(output, "hidden_class_counts.npy"),
            hidden_class_counts(counts, labels["test"], data.num_classes))
    save_layout(network, os.path.join(output, "layout.npz"))
    results.update(test_accuracy=float(metrics[out].result),
                   test_time_s=test_time, complete=True)
    write_json(results_path, results)
    print_summary(results)
    return results
