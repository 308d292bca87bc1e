"""Train a spatial spiking network on the Spiking Heidelberg Digits.

700 input channels -> 128 recurrent LIF -> 20 leaky integrators, EventProp
on GeNN. --dimensions D in 1-8: input and hidden neurons have learnable
positions in [-1, 1]^D and the input->hidden and hidden->hidden delays are
distances; inf: one learned delay per synapse; 0: no delays.

Defaults follow published recipes: 128 recurrent hidden neurons, 2-D
positions in [-1, 1], position learning rate 0.01 ("Space as Time Through
Neuron Position Learning", arXiv 2511.01632); batch 256, dt 1 ms, Adam
warmed up from 1e-5 to 1e-3, delay learning rate 0.1 (--dimensions inf),
largest delay 1000 steps, random shifts of +-40 channels, blending two
examples with weight 0.5 and spike-count regularisation ("Efficient
event-based delay learning", arXiv 2501.07331).

    python3 examples/shd.py --data DATA --output runs/shd

DATA holds shd_train.h5 and shd_test.h5 (zenkelab.org).
"""
import numpy as np

from ml_genn_spatial import runs
from ml_genn_spatial.datasets import (SHD_NUM_CLASSES, blend_examples,
                                      load_shd, shift_channels)
from ml_genn_spatial.runs import data as heidelberg

DEFAULTS = {"dimensions": 2, "hidden": 128, "recurrent": True, "epochs": 50,
            "lr": 1e-3, "position_lr": 0.01, "delay_lr": 0.1,
            "max_delay": 1000.0, "dt": 1.0, "gpu_batch_size": 256,
            "output": "runs/shd"}

parser = runs.make_parser(__doc__, DEFAULTS)
heidelberg.add_heidelberg_options(parser, "shd", has_validation=False)


def main(argv=None) -> dict:
    args = parser.parse_args(argv)
    runs.check_options(parser, args, backends=("single_threaded_cpu",
                                               "cuda"))
    heidelberg.check_heidelberg_options(parser, args)
    backend = runs.resolve_backend(args, "shd.py")
    run = runs.RunFolder(args.output, args.resume, args.overwrite)
    start_epoch = run.start(vars(args), dataset="shd", backend=backend,
                            delay_mode=runs.delay_mode(args.dimensions),
                            delayed_connections=["input_hidden",
                                                 "hidden_hidden"])
    train, validation = heidelberg.hold_out(heidelberg.load_split(
        load_shd, args, "train"), args.validation_split, args.seed)
    test = heidelberg.load_split(load_shd, args, "test")
    results = train_genn(args, backend, run, start_epoch, train, validation,
                         test)
    print(run.summary())
    return results


def train_genn(args, backend, run, start_epoch, train, validation, test):
    from ml_genn import Connection, Network, Population
    from ml_genn.compilers import EventPropCompiler
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal, Uniform
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.serialisers import Numpy
    from ml_genn.synapses import Exponential

    from ml_genn_spatial import (ConnectivityRecord, Space,
                                 SpatialConnection, SpatialDense,
                                 SpatialEventPropCompiler,
                                 SpatialInferenceCompiler, SpatialSparse,
                                 save_layout)

    batch_size = runs.resolve_batch_size(args, backend)
    mode = runs.delay_mode(args.dimensions)
    steps = runs.max_delay_steps(args)
    space = (Space(args.dimensions, bounds=runs.SPACE_BOUNDS, rng=args.seed)
             if mode == "spatial" else None)
    splits = {"train": train, "validation": validation, "test": test}
    splits = {k: (heidelberg.merge_channels(s[0], args), s[1])
              for k, s in splits.items() if s is not None}
    timesteps = heidelberg.trial_timesteps(parser, args, splits.values())
    num_inputs = args.num_channels or 700
    most_spikes = max(len(t) for s in splits.values() for t, _ in s[0])

    def connect(source, target, mean, sd, name):
        """A delayed connection: spatial, with per-synapse delays or
        without; --sparsity keeps a fraction of its synapses, scaling the
        weights to keep each neuron's expected input."""
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
                                     Exponential(5.0), space, name)
        delay = Uniform(0.0, steps) if mode == "per_synapse" else 0
        connectivity = (FixedProbability(keep, weight, delay=delay)
                        if keep < 1.0 else Dense(weight, delay=delay))
        return Connection(source, target, connectivity, Exponential(5.0),
                          name,
                          max_delay_steps=steps if mode != "none" else None)

    network = Network(default_params)
    with network:
        # Blended examples hold up to twice an example's spikes
        inp = Population(SpikeInput(max_spikes=2 * batch_size * most_spikes),
                         num_inputs, name="input")
        hidden = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                               tau_refrac=None),
                            args.hidden, name="hidden")
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"),
                         SHD_NUM_CLASSES, name="output")
        conns = [connect(inp, hidden, 0.03, 0.01, "input_hidden")]
        if args.recurrent:
            conns.append(connect(hidden, hidden, 0.0, 0.02, "hidden_hidden"))
        Connection(hidden, out, Dense(Normal(mean=0.0, sd=0.03)),
                   Exponential(5.0), name="hidden_output")
    sparse = [c for c in conns if isinstance(c.connectivity,
                                              FixedProbability)]

    serialiser = Numpy(run.checkpoint_dir)
    if start_epoch > 0:
        network.load((start_epoch - 1,), serialiser)
    compiler_kwargs = dict(
        example_timesteps=timesteps, losses="sparse_categorical_crossentropy",
        optimiser=runs.adam(args, args.lr), dt=args.dt, batch_size=batch_size,
        reg_lambda_upper=5e-11, reg_lambda_lower=5e-11, reg_nu_upper=14,
        max_spikes=1500, rng_seed=args.seed, backend=backend)
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
    x = {k: {inp: runs.genn_spikes(trains, num_inputs)}
         for k, (trains, _) in splits.items()}
    y = {k: {out: labels} for k, (_, labels) in splits.items()}
    callbacks = [ConnectivityRecord(c, f"connectivity_{c.name}")
                 for c in sparse if space is not None]
    if args.warm_up:
        callbacks.append(runs.AdamWarmUp(start_fraction=0.01))

    def augment(epoch):
        """This epoch's training set: --blend adds as many examples blended
        from pairs of one class, --shift moves each by random channels."""
        rng = np.random.default_rng([args.seed, epoch])
        trains, labels = train
        if args.blend > 0.0:
            new, new_labels = blend_examples(
                trains, labels, len(labels), rng, weight=args.blend,
                max_time=timesteps * args.dt)
            trains, labels = trains + new, np.append(labels, new_labels)
        if args.shift > 0:
            trains = shift_channels(trains, args.shift, rng)
        trains = heidelberg.merge_channels(trains, args)
        return ({inp: runs.genn_spikes(trains, num_inputs)}, {out: labels})

    with run.working_directory():  # GeNN generates its code here
        np.random.seed(args.seed + start_epoch)  # mlGeNN shuffles with it
        compiled = compiler.compile(network, name="shd_train")
        with compiled:
            runs.train_epochs(
                compiled, run, serialiser, x["train"], y["train"], out,
                start_epoch, args.epochs, callbacks=callbacks,
                validation=((x["validation"], y["validation"])
                            if "validation" in x else None),
                sparse_connections=sparse,
                augment=augment if args.shift or args.blend else None)

        # Test the best validation epoch (else the last) with the train dt
        network.load((run.choose_test_epoch(),), serialiser)
        if space is not None:
            save_layout(network, run.layout_path)
        if mode == "per_synapse":
            runs.round_learned_delays(conns, steps)
        hidden.record_spikes = True  # for the spike counts per class
        compiled = SpatialInferenceCompiler(
            evaluate_timesteps=timesteps, dt=args.dt, batch_size=batch_size,
            rng_seed=args.seed, backend=backend).compile(
            network, name="shd_test")
        with compiled:
            results = runs.test(compiled, run, x["test"], y["test"], out,
                                hidden, SHD_NUM_CLASSES)
    return results


if __name__ == "__main__":
    with runs.exit_on_error():
        main()
