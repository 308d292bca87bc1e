"""Train a spatial spiking network on Yin-Yang with EventProp.

4 latency-coded inputs -> LIF hidden -> 3 LIF outputs with a
time-to-first-spike readout (mlGeNN's Yin-Yang EventProp example). With
--dimensions D > 0 every neuron has a learnable position in [-1, 1]^D and
each input->hidden and hidden->output delay is the distance between its
two neurons (Spatial Spiking Neural Networks); --dimensions inf learns one
delay per synapse instead (mlGeNN's delay learning) and 0 trains without
delays.

    python3 examples/yin_yang.py            # about a minute on a CPU

With pygenn and ml_genn installed this trains on GeNN (CPU backend with
batch size 1, or CUDA); without them (or with --backend reference) it
trains the NumPy reference model of ml_genn_spatial, same maths, with
batch size 8 unless --batch-size says otherwise.
The run writes results.json, checkpoints/ (one per epoch; --resume
continues from the last), layout.npz and hidden_class_counts.npy into
--output.
"""
import os
import sys
from time import perf_counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ml_genn_spatial._genn import genn_available  # noqa: E402
from ml_genn_spatial.datasets import (  # noqa: E402
    YIN_YANG_EXAMPLE_TIME, encode_latency, spike_trains_from_dense,
    yin_yang_splits)

from spatial_examples import (  # noqa: E402
    ConnectionSpec, LayerSpec, TaskData, TaskSpec, check_args,
    delay_learning_rate, hidden_class_counts, make_parser, new_results,
    plan_network, prepare_resume, print_summary, record_epoch,
    run_with_genn, write_json, positive_int)

NUM_INPUTS, NUM_CLASSES = 4, 3

#: A run that learns Yin-Yang in one or two CPU minutes (about 93 % test
#: accuracy on GeNN's CPU backend with batch size 1). Network and neurons
#: are those of mlGeNN's example (100 hidden, tau_mem 20 ms, tau_syn 5 ms,
#: 30 ms trials); its dt of 0.01 ms and 50 epochs of 15360 examples are a
#: GPU's job: pass --dt 0.01 --epochs 50 --train-size 15360 there. The
#: maximum delay and learning rates are ours
DEFAULTS = {"dimensions": 2, "hidden": 100, "recurrent": False,
            "epochs": 12, "lr": 0.002, "position_lr": 0.002,
            "max_delay": 5.0, "dt": 0.1, "gpu_batch_size": 32,
            "output": os.path.join("runs", "yin_yang")}

#: Batch size of the NumPy reference model when none is given: it
#: simulates a batch's trials at once, so small batches trade speed for
#: updates (about 94 % in two CPU minutes)
REFERENCE_BATCH_SIZE = 8

#: First-spike-time readout with the softmax temperature and
#: time-to-first-spike regulariser of mlGeNN's example, but EventProp's
#: time-to-first-spike cross-entropy loss (which the NumPy reference model
#: implements too) instead of the example's relative mean-square error
TASK = TaskSpec(name="yin_yang", output="lif", readout="first_spike_time",
                compiler_kwargs={"softmax_temperature": 0.5,
                                 "ttfs_alpha": 0.1})


def parse_args(argv=None):
    parser = make_parser(__doc__.split("\n\n")[0], DEFAULTS,
                         backends=("single_threaded_cpu", "cuda",
                                   "reference"))
    data = parser.add_argument_group("data")
    data.add_argument("--train-size", type=positive_int, default=3000,
                      help="training examples (Kriener et al.: 5000)")
    data.add_argument("--validation-size", type=int, default=300,
                      help="validation examples tested after every epoch "
                           "(0: none)")
    data.add_argument("--test-size", type=positive_int, default=1000,
                      help="test examples")
    return parser.parse_args(argv)


def load_data(args) -> TaskData:
    """The Yin-Yang splits, latency coded as in mlGeNN's example: value 0
    spikes at 2 dt, value 1 at the trial's end minus 2 dt."""
    splits = yin_yang_splits(train_size=args.train_size,
                             validation_size=max(1, args.validation_size),
                             test_size=args.test_size)

    def encode(split):
        features, labels = split
        times = encode_latency(features, t_early=2.0 * args.dt,
                               t_late=YIN_YANG_EXAMPLE_TIME - 2.0 * args.dt)
        return spike_trains_from_dense(times), labels

    timesteps = int(np.ceil(YIN_YANG_EXAMPLE_TIME / args.dt))
    validation = (encode(splits["validation"]) if args.validation_size > 0
                  else None)
    return TaskData(NUM_INPUTS, NUM_CLASSES, encode(splits["train"]),
                    encode(splits["test"]), timesteps, validation)


def network_layers(args):
    """input -> hidden (-> hidden) -> output, every connection delayed;
    initial weights of mlGeNN's example (recurrent ones ours)."""
    layers = [LayerSpec("input", NUM_INPUTS, "input"),
              LayerSpec("hidden", args.hidden, "hidden"),
              LayerSpec("output", NUM_CLASSES, "output")]
    connections = [ConnectionSpec("input_hidden", "input", "hidden",
                                  1.5, 0.78, delayed=True)]
    if args.recurrent:
        connections.append(ConnectionSpec("hidden_hidden", "hidden",
                                          "hidden", 0.0, 0.1, delayed=True))
    connections.append(ConnectionSpec("hidden_output", "hidden", "output",
                                      0.93, 0.1, delayed=True))
    return layers, connections


# ----------------------------------------------------------------------------
# Without GeNN: the NumPy reference model
# ----------------------------------------------------------------------------
def run_reference(args, task, plan, data) -> dict:
    """Train and test ``plan`` with the NumPy reference model
    (:mod:`ml_genn_spatial.reference`), writing the files a GeNN run writes
    (checkpoints in mlGeNN's Numpy serialiser layout, so GeNN can load
    them). The reference applies every batch's gradient at once where
    mlGeNN applies it one batch later."""
    from ml_genn_spatial import reference as ref
    from ml_genn_spatial.geometry import delay_steps, distance

    if args.rewiring:
        raise NotImplementedError("the NumPy reference model has no DEEP R: "
                                  "--rewiring needs GeNN")

    output = os.path.abspath(args.output)
    checkpoint_dir = os.path.join(output, "checkpoints")
    results_path = os.path.join(output, "results.json")
    os.makedirs(checkpoint_dir, exist_ok=True)
    batch_size = args.batch_size or REFERENCE_BATCH_SIZE

    # The network, initial values from the plan
    pops = {}
    for layer in plan.layers:
        if layer.kind == "input":
            neuron = ref.SpikeInput()
        else:
            neuron = ref.LeakyIntegrateFire(
                v_thresh=task.v_thresh,
                tau_mem=(task.tau_mem if layer.kind == "hidden"
                         else task.output_tau_mem),
                readout=None if layer.kind == "hidden" else task.readout)
        pops[layer.name] = ref.Population(
            neuron, layer.size, layer.name,
            positions=plan.positions.get(layer.name))
    conns = {}
    for conn in plan.connections:
        weight, mask, delay = conn.weight, None, conn.delay
        if conn.sparse:
            mask = np.zeros(conn.shape, dtype=bool)
            mask[conn.pre_ind, conn.post_ind] = True
            weight = np.zeros(conn.shape)
            weight[conn.pre_ind, conn.post_ind] = conn.weight
            if delay is not None:
                delay = np.zeros(conn.shape)
                delay[conn.pre_ind, conn.post_ind] = conn.delay
        spatial = conn.spec.delayed and plan.mode == "spatial"
        if spatial:
            delay = ref.SpatialDelay(plan.scale, plan.max_delay_steps)
        conns[conn.name] = ref.Connection(
            pops[conn.spec.source], pops[conn.spec.target], weight,
            tau_syn=task.tau_syn, delay=delay,
            max_delay_steps=(plan.max_delay_steps if conn.delay is not None
                             else None),
            mask=mask, wiring_cost=args.wiring_cost if spatial else 0.0,
            name=conn.name)
    network = ref.Network(list(pops.values()), list(conns.values()))
    model = ref.EventProp(data.example_timesteps, dt=args.dt,
                          **task.compiler_kwargs)

    def synapse_values(conn, dense):
        return dense[conn.pre_ind, conn.post_ind] if conn.sparse else dense

    def save(epoch):
        for conn in plan.connections:
            c = conns[conn.name]
            np.save(os.path.join(checkpoint_dir, f"{epoch}-{c.name}-g.npy"),
                    synapse_values(conn, c.weight))
            if c.delay is not None:
                np.save(os.path.join(checkpoint_dir,
                                     f"{epoch}-{c.name}-d.npy"),
                        synapse_values(conn, c.delay))
        for name in plan.positions:
            for k, column in enumerate(pops[name].positions.T):
                np.save(os.path.join(checkpoint_dir,
                                     f"{epoch}-{name}-X{k}.npy"), column)

    def load(epoch):
        def read(name):
            return np.load(os.path.join(checkpoint_dir, f"{epoch}-{name}.npy"))
        for conn in plan.connections:
            c = conns[conn.name]
            for var, attr in (("g", "weight"), ("d", "delay")):
                if var == "d" and c.delay is None:
                    continue
                values = read(f"{c.name}-{var}")
                if conn.sparse:
                    dense = np.zeros(conn.shape)
                    dense[conn.pre_ind, conn.post_ind] = values
                    values = dense
                setattr(c, attr, values)
        for name in plan.positions:
            pops[name].positions = np.stack(
                [read(f"{name}-X{k}") for k in range(plan.dimensions)], 1)

    start_epoch, previous = prepare_resume(args, results_path, checkpoint_dir)
    if start_epoch > 0:
        load(start_epoch - 1)
        print(f"Resuming after the checkpoint of epoch {start_epoch - 1}")
    results = previous if previous is not None else new_results(
        task.name, args, plan)
    results.update(backend="reference", batch_size=batch_size,
                   example_timesteps=data.example_timesteps, dt=args.dt,
                   complete=False, **data.sizes())
    write_json(results_path, results)

    train_trains, train_labels = data.train
    num_batches = -(-len(train_labels) // batch_size)
    clock = [perf_counter()]

    tally = [0, 0]  # correct, seen in this epoch

    def end_of_batch(epoch, batch, result):
        labels = result.record.labels
        tally[0] += int(np.sum(result.record.predictions == labels))
        tally[1] += len(labels)
        if batch != num_batches - 1:
            return
        epoch += start_epoch
        save(epoch)
        entry = record_epoch(results, epoch, train_accuracy=tally[0] / tally[1],
                             time_s=perf_counter() - clock[0])
        tally[:] = [0, 0]
        if data.validation is not None:
            _, entry["validation_accuracy"] = ref.evaluate(
                network, model, *data.validation, batch_size)
        write_json(results_path, results)
        print(f"epoch {epoch} done in {entry['time_s']:.1f} s")
        clock[0] = perf_counter()

    if start_epoch < args.epochs:
        print(f"Training the NumPy reference model, batch size {batch_size}, "
              f"{data.example_timesteps} timesteps of {args.dt} ms per trial")
        spatial = plan.mode == "spatial"
        ref.train(
            network, model, train_trains, train_labels,
            num_epochs=args.epochs - start_epoch, batch_size=batch_size,
            optimiser=ref.Adam(args.lr),
            position_optimiser=ref.Adam(args.position_lr) if spatial
            else None,
            delay_optimiser=(ref.Adam(delay_learning_rate(args))
                             if plan.mode == "per_synapse" else None),
            position_bounds=plan.space() if spatial else None,
            rng=args.seed + start_epoch, callback=end_of_batch)

    # Test, counting hidden spikes per class
    load(args.epochs - 1)
    test_trains, test_labels = data.test
    start, correct, counts = perf_counter(), 0, []
    for lo in range(0, len(test_labels), batch_size):
        record = model.forward(network, test_trains[lo:lo + batch_size],
                               test_labels[lo:lo + batch_size],
                               num_batch=batch_size)
        correct += int(np.sum(record.predictions
                              == test_labels[lo:lo + batch_size]))
        counts.append(record.spike_count[plan.layer("hidden").name])
    np.save(os.path.join(output, "hidden_class_counts.npy"),
            hidden_class_counts(np.concatenate(counts), test_labels,
                                data.num_classes))

    # The layout, in save_layout's format
    arrays = {f"positions/{name}": pops[name].positions
              for name in plan.positions}
    for conn in plan.connections:
        c = conns[conn.name]
        if not (conn.spec.delayed and plan.mode == "spatial"):
            continue
        dist = distance(c.source.positions, c.target.positions,
                        pre_ind=conn.pre_ind, post_ind=conn.post_ind)
        arrays[f"{c.name}/distance"] = dist
        arrays[f"{c.name}/delay"] = delay_steps(dist, plan.scale, 0.0,
                                                plan.max_delay_steps)
        arrays[f"{c.name}/weight"] = synapse_values(conn, c.weight)
        if conn.sparse:
            arrays[f"{c.name}/pre_ind"] = conn.pre_ind
            arrays[f"{c.name}/post_ind"] = conn.post_ind
    np.savez(os.path.join(output, "layout.npz"), **arrays)

    results.update(test_accuracy=correct / len(test_labels),
                   test_time_s=perf_counter() - start, complete=True)
    write_json(results_path, results)
    print_summary(results)
    return results


def main(argv=None) -> dict:
    args = parse_args(argv)
    check_args(args)
    data = load_data(args)
    layers, connections = network_layers(args)
    if args.backend != "reference" and genn_available():
        return run_with_genn(args, TASK, data, layers, connections)
    if args.backend != "reference":
        print("pygenn / ml_genn are not installed: training the NumPy "
              "reference model instead (see README.md to install GeNN)")
    return run_reference(args, TASK, plan_network(args, layers, connections),
                         data)


if __name__ == "__main__":
    main()
