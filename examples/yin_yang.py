"""Train a spatial spiking network on Yin-Yang with EventProp.

Input -> LIF hidden -> LIF output with first-spike-time readout, as mlGeNN's
Yin-Yang EventProp example, but the input->hidden and hidden->output
connections are spatial: every neuron has a learnable position in a
D-dimensional box and each delay is the distance between the two neurons.

    python3 examples/yin_yang.py --help

With pygenn and ml_genn installed this trains on GeNN (CPU backend, batch
size 1, or CUDA); without them it says so and trains the NumPy reference
model of ml_genn_spatial instead (slower, same maths).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from ml_genn_spatial._genn import genn_available
from ml_genn_spatial.datasets import (YIN_YANG_DT, YIN_YANG_EXAMPLE_TIME,
                                      encode_latency, yin_yang_splits)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dimensions", type=int, default=2,
                        help="dimensions of the space (default 2)")
    parser.add_argument("--hidden", type=int, default=100,
                        help="hidden neurons (default 100)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=1000,
                        help="training examples (Kriener et al.: 5000)")
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=1,
                        help="batch size (>1 needs the CUDA backend)")
    parser.add_argument("--lr", type=float, default=0.003,
                        help="weight learning rate (Adam)")
    parser.add_argument("--position-lr", type=float, default=0.003,
                        help="position learning rate (Adam) [space units]")
    parser.add_argument("--max-delay", type=float, default=5.0,
                        help="delay at the diameter of the box [ms]")
    parser.add_argument("--dt", type=float, default=YIN_YANG_DT,
                        help="timestep [ms]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", default=None,
                        help="GeNN backend (single_threaded_cpu or cuda); "
                             "'reference' for the NumPy reference model")
    parser.add_argument("--output", default="runs/yin_yang",
                        help="folder for checkpoints and results.json")
    return parser.parse_args(argv)


def build_network(args, rng):
    from ml_genn import Connection, Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.initializers import Normal
    from ml_genn.neurons import LeakyIntegrateFire, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_spatial import Space, SpatialDense, place

    max_delay_steps = int(round(args.max_delay / args.dt))
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=4 * args.batch_size), 4,
                         name="input")
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None),
                         args.hidden, name="hidden")
        out = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None,
                                            readout="first_spike_time"),
                         3, name="output")
        space = Space(args.dimensions, bounds=(-1.0, 1.0), rng=rng)
        for pop in (inp, hid, out):
            place(pop, space)
        Connection(inp, hid, SpatialDense(Normal(mean=1.5, sd=0.78),
                                          max_delay_steps),
                   Exponential(5.0), name="input_hidden")
        Connection(hid, out, SpatialDense(Normal(mean=0.93, sd=0.1),
                                          max_delay_steps),
                   Exponential(5.0), name="hidden_output")
    return network, inp, hid, out


def run_genn(args, data):
    from ml_genn.callbacks import Checkpoint
    from ml_genn.losses import RelativeMeanSquareError
    from ml_genn.optimisers import Adam
    from ml_genn.serialisers import Numpy
    from ml_genn.utils.data import preprocess_spikes
    from ml_genn_spatial import (SpatialEventPropCompiler,
                                 SpatialInferenceCompiler)

    def to_spikes(features):
        times = encode_latency(features)
        return [preprocess_spikes(t, np.arange(4), 4) for t in times]

    timesteps = int(np.ceil(YIN_YANG_EXAMPLE_TIME / args.dt))
    network, inp, hid, out = build_network(args, args.seed)
    genn_kwargs = {} if args.backend is None else {"backend": args.backend}
    compiler = SpatialEventPropCompiler(
        example_timesteps=timesteps,
        losses=RelativeMeanSquareError(5.0 * 0.2),
        optimiser=Adam(args.lr, 0.9, 0.99),
        position_optimiser=Adam(args.position_lr, 0.9, 0.99),
        batch_size=args.batch_size, softmax_temperature=0.5,
        ttfs_alpha=0.1, dt=args.dt, **genn_kwargs)
    compiled = compiler.compile(network, name="yin_yang")
    serialiser = Numpy(os.path.join(args.output, "checkpoints"))
    x_train, y_train = data["train"]
    history = []
    with compiled:
        print(f"Training on GeNN backend {compiled.genn_model.backend_name}")
        start = time.perf_counter()
        metrics, _ = compiled.train(
            {inp: to_spikes(x_train)}, {out: y_train},
            num_epochs=args.epochs, shuffle=True,
            callbacks=["batch_progress_bar", Checkpoint(serialiser)])
        train_time = time.perf_counter() - start
        history.append({"train_accuracy": metrics[out].result})

    # Evaluate on the held-out test split with the training dt
    network.load((args.epochs - 1,), serialiser)
    inference = SpatialInferenceCompiler(
        evaluate_timesteps=timesteps, batch_size=args.batch_size,
        dt=args.dt, **genn_kwargs)
    compiled_test = inference.compile(network, name="yin_yang_test")
    x_test, y_test = data["test"]
    with compiled_test:
        test_metrics, _ = compiled_test.evaluate(
            {inp: to_spikes(x_test)}, {out: y_test})
    return {"backend": "genn",
            "train_accuracy": history[-1]["train_accuracy"],
            "test_accuracy": test_metrics[out].result,
            "train_time_s": train_time}


def run_reference(args, data):
    try:
        from ml_genn_spatial.reference import train_yin_yang
    except ImportError as error:
        sys.exit(f"GeNN is not installed and the reference trainer is not "
                 f"available ({error})")
    return train_yin_yang(args, data)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    data = yin_yang_splits(train_size=args.train_size,
                           validation_size=1, test_size=args.test_size)
    use_genn = args.backend != "reference" and genn_available()
    if not use_genn and args.backend != "reference":
        print("pygenn / ml_genn not installed: training the NumPy reference "
              "model (see README.md to install GeNN)")
    result = run_genn(args, data) if use_genn else run_reference(args, data)
    result["config"] = vars(args)
    with open(os.path.join(args.output, "results.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"Test accuracy {100 * result['test_accuracy']:.1f} % "
          f"({result['backend']})")
    return result


if __name__ == "__main__":
    main()
