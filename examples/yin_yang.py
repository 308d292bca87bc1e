"""Train a spatial spiking network on Yin-Yang with EventProp.

4 latency-coded inputs -> 100 LIF -> 3 LIF with a first-spike-time readout
(mlGeNN's Yin-Yang example). --dimensions D in 1-8: every neuron has a
learnable position in [-1, 1]^D and delays are distances (arXiv
2512.10011); inf: one learned delay per synapse; 0: no delays.
Without GeNN (and no --backend) it trains the NumPy reference model.
Defaults: mlGeNN's network at dt 0.1 ms, 12 epochs of 3000 examples;
results.json, checkpoints/ etc. go to --output.
"""
import numpy as np

from ml_genn_spatial import runs
from ml_genn_spatial.datasets import (YIN_YANG_EXAMPLE_TIME, encode_latency,
                                      spike_trains_from_dense, yin_yang_splits)

NUM_INPUTS, NUM_CLASSES, TAU_SYN = 4, 3, 5.0
DEFAULTS = {"dimensions": 2, "hidden": 100, "recurrent": False, "epochs": 12,
            "lr": 0.002, "position_lr": 0.002, "max_delay": 5.0, "dt": 0.1,
            "gpu_batch_size": 32, "output": "runs/yin_yang"}

parser = runs.make_parser(__doc__, DEFAULTS)
parser.add_argument("--tau-mem", type=runs.positive_real, default=20.0,
                    help="membrane time constant of the LIF neurons [ms] "
                         "(default: 20, mlGeNN's; the SpSNN paper's: 4)")
runs.add_spread_output_option(parser)
runs.add_single_spike_option(parser)
runs.add_lr_schedule_options(parser)
runs.add_first_spike_loss_options(parser)
runs.add_recycle_silent_option(parser)
runs.add_yin_yang_data_options(parser, YIN_YANG_EXAMPLE_TIME)


def load_data(args) -> dict:
    """Latency-coded splits: 0 spikes at 2 dt, 1 at --input-window - 2 dt."""
    splits = yin_yang_splits(train_size=args.train_size,
                             validation_size=max(1, args.validation_size),
                             test_size=args.test_size)

    def encode(features, labels):
        times = encode_latency(features, t_early=2 * args.dt,
                               t_late=args.input_window - 2 * args.dt)
        return spike_trains_from_dense(times), labels

    return {name: encode(*split) for name, split in splits.items()
            if name != "validation" or args.validation_size > 0}


def main(argv=None) -> dict:
    args = parser.parse_args(argv)
    runs.check_options(parser, args)
    runs.check_input_window(parser, args, YIN_YANG_EXAMPLE_TIME)
    runs.check_tau_mem(parser, args, TAU_SYN)
    backend = runs.resolve_backend(args, "yin_yang.py",
                                   reference_available=True)
    run = runs.RunFolder(args.output, args.resume, args.overwrite)
    start_epoch = run.start(vars(args), dataset="yin_yang", backend=backend,
                            delay_mode=runs.delay_mode(args.dimensions),
                            delayed_connections=[
                                "input_hidden", "hidden_hidden",
                                "hidden_output"])
    data = load_data(args)
    if backend == "reference":
        from ml_genn_spatial.runs.reference import train_yin_yang
        results = train_yin_yang(args, run, data, NUM_CLASSES, start_epoch)
    else:
        results = train_genn(args, backend, run, data, start_epoch)
    print(run.summary())
    return results


def train_genn(args, backend, run, data, start_epoch) -> dict:
    from ml_genn import Connection, Network, Population
    from ml_genn.compilers import EventPropCompiler
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal, Uniform
    from ml_genn.neurons import LeakyIntegrateFire, SpikeInput
    from ml_genn.serialisers import Numpy
    from ml_genn.synapses import Exponential

    from ml_genn_spatial import (
        ConnectivityRecord, RecycleSilent, Space, SpatialConnection,
        SpatialDense, SpatialEventPropCompiler, SpatialInferenceCompiler,
        SpatialSparse, place, save_layout)

    batch_size = runs.resolve_batch_size(args, backend)
    mode = runs.delay_mode(args.dimensions)
    steps = runs.max_delay_steps(args)
    space = (Space(args.dimensions, bounds=runs.SPACE_BOUNDS, rng=args.seed)
             if mode == "spatial" else None)

    def connect(source, target, mean, sd, name):
        """A spatial, per-synapse-delay or undelayed connection; --sparsity
        keeps a fraction of it, scaling weights to keep the input."""
        keep = 1.0 - args.sparsity
        if source is not target and args.sparse_connections != "all":
            keep = 1.0
        weight = Normal(mean=mean / keep, sd=sd / np.sqrt(keep))
        if mode == "spatial":
            connectivity = (
                SpatialSparse(keep, weight, steps, regrowth_length=args.
                              regrowth_length, wiring_cost=args.wiring_cost)
                if keep < 1.0 else
                SpatialDense(weight, steps, wiring_cost=args.wiring_cost))
            return SpatialConnection(source, target, connectivity,
                                     Exponential(TAU_SYN), space, name)
        delay = Uniform(0.0, steps) if mode == "per_synapse" else 0
        connectivity = (FixedProbability(keep, weight, delay=delay)
                        if keep < 1.0 else Dense(weight, delay=delay))
        return Connection(source, target, connectivity, Exponential(TAU_SYN),
                          name,
                          max_delay_steps=steps if mode != "none" else None)

    network = Network(default_params)
    with network:
        # Checkpoints are keyed by name: a resumed network must match
        inp = Population(SpikeInput(max_spikes=batch_size * NUM_INPUTS),
                         NUM_INPUTS, name="input")
        lif = runs.lif_params(args, YIN_YANG_EXAMPLE_TIME)
        hidden = Population(LeakyIntegrateFire(**lif), args.hidden,
                            name="hidden")
        out = Population(LeakyIntegrateFire(**lif,
                                            readout="first_spike_time"),
                         NUM_CLASSES, name="output")
        spread = runs.spread_output_positions(args, NUM_CLASSES)
        if spread is not None:
            place(out, space, positions=spread)
        conns = [connect(inp, hidden, 1.5, 0.78, "input_hidden")]
        if args.recurrent:
            conns.append(connect(hidden, hidden, 0.0, 0.1, "hidden_hidden"))
        conns.append(connect(hidden, out, 0.93, 0.1, "hidden_output"))
    sparse = [c for c in conns if isinstance(c.connectivity,
                                              FixedProbability)]

    timesteps = int(np.ceil(YIN_YANG_EXAMPLE_TIME / args.dt))
    serialiser = Numpy(run.checkpoint_dir)
    if start_epoch > 0:
        network.load((start_epoch - 1,), serialiser)
    compiler_kwargs = dict(
        example_timesteps=timesteps, losses="sparse_categorical_crossentropy",
        optimiser=runs.adam(args, args.lr), dt=args.dt, batch_size=batch_size,
        softmax_temperature=args.softmax_temperature,
        ttfs_alpha=args.ttfs_alpha, rng_seed=args.seed, backend=backend)
    if args.rewiring:
        compiler_kwargs.update(deep_r_conns=sparse, deep_r_record_rewirings={
            c: f"rewirings_{c.name}" for c in sparse})
    if mode == "spatial":
        compiler = SpatialEventPropCompiler(
            position_optimiser=runs.adam(args, args.position_lr),
            **compiler_kwargs)
    else:
        compiler = EventPropCompiler(
            delay_learn_conns=conns if mode == "per_synapse" else [],
            delay_optimiser=runs.adam(args, runs.delay_learning_rate(args)),
            **compiler_kwargs)
    x = {k: {inp: runs.genn_spikes(trains, NUM_INPUTS)}
         for k, (trains, _) in data.items()}
    y = {k: {out: labels} for k, (_, labels) in data.items()}
    records = [ConnectivityRecord(c, f"connectivity_{c.name}")
               for c in sparse if space is not None]
    if args.recycle_silent:  # silent hidden neurons get new input weights
        hidden.record_spikes = True
        records.append(RecycleSilent(hidden, conns[:-1], conns[1:],
                                     args.recycle_silent, rng=(args.seed, 2)))

    schedule = runs.LearningRateSchedule(
        args.lr_schedule, args.epochs * -(-args.train_size // batch_size),
        args.lr_warm_up, args.lr_final)
    with run.working_directory():  # GeNN generates its code here
        np.random.seed(args.seed + start_epoch)  # mlGeNN shuffles with it
        compiled = compiler.compile(network, name="yin_yang_train")
        with compiled:
            runs.train_epochs(
                compiled, run, serialiser, x["train"], y["train"], out,
                start_epoch, args.epochs, callbacks=[schedule, *records],
                validation=((x["validation"], y["validation"])
                            if "validation" in x else None),
                sparse_connections=sparse)

        # Test the best validation epoch's checkpoint with the training dt
        network.load((run.choose_test_epoch(),), serialiser)
        if space is not None:
            save_layout(network, run.layout_path)
        if mode == "per_synapse":
            runs.round_learned_delays(conns, steps)
        hidden.record_spikes = True  # for the spike counts per class
        compiled = SpatialInferenceCompiler(
            evaluate_timesteps=timesteps, dt=args.dt, batch_size=batch_size,
            rng_seed=args.seed, backend=backend).compile(
            network, name="yin_yang_test")
        with compiled:
            results = runs.test(compiled, run, x["test"], y["test"], out,
                                hidden, NUM_CLASSES)
    return results


if __name__ == "__main__":
    with runs.exit_on_error():
        main()
