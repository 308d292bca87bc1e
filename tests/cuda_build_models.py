"""The few models that stand for every model the project builds, for the
``cuda_build`` tests (tests/test_cuda_build.py).

nvcc builds are slow, so features are combined into three networks rather
than one network per feature; each is built at batch 1 and 32:

``spatial_train`` (SpatialEventPropCompiler)
    a 3-D box space: input -> hidden SpatialDense (feed-forward dense, with
    wiring cost) and hidden -> hidden SpatialSparse (recurrent sparse, with
    wiring cost, DEEP R with mlGeNN's uniform regrowth);
    a 1-D ball space: input (positions not learnt) -> hidden SpatialSparse
    (feed-forward sparse, DEEP R with distance-aware regrowth) and hidden ->
    hidden SpatialDense (recurrent dense);
    a 2-D box space, Yin-Yang style: input -> hidden SpatialDense and
    hidden -> LIF output SpatialSparse (a spatial output population, first
    spike time readout, relative mean square error loss), the hidden
    spikes recorded (as ``RecycleSilent`` needs), hidden and output
    neurons spiking once per trial (``--single-spike``: a refractory
    period longer than the trial); the positions' Adam
    steps every 4 batches (``GradientAccumulation``);
    the hidden layers of the 3-D and 1-D spaces reach a leaky-integrator
    output through weight-only Dense and FixedProbability connections.
``baseline_train`` (mlGeNN's EventPropCompiler)
    the per-synapse delay baseline (``delay_learn_conns``: a dense
    feed-forward and a sparse recurrent connection with learnt delays) and
    the weight-only baseline (dense and sparse connections without delays),
    the delays' Adam stepping every 4 batches (``GradientAccumulation``),
    the delayed hidden layer's spikes recorded, into a leaky integrator
    with the SHD examples' exponentially weighted average readout.
``inference`` (SpatialInferenceCompiler)
    the spatial connections of ``spatial_train`` (D = 1, 2, 3; dense and
    sparse; feed-forward and recurrent) beside the fixed-delay and no-delay
    connections of the baselines, as the examples evaluate every mode.

Run as a script, it generates and compiles (never loads) one model for
CUDA in the working directory; the caller preloads the fake-device shims
(see the cuda_fake_device README) or runs it on a machine with a GPU:

    python cuda_build_models.py MODEL BATCH_SIZE
"""
import sys
import time

MODELS = ("spatial_train", "baseline_train", "inference")
BATCH_SIZES = (1, 32)
TIMESTEPS, MAX_DELAY = 40, 15


def _populations():
    from ml_genn import Population
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput

    def lif(n, name, **kwargs):
        return Population(LeakyIntegrateFire(**{"tau_refrac": None,
                                                **kwargs}), n, name=name)
    return (lambda n, name: Population(SpikeInput(max_spikes=64 * n), n,
                                       name=name),
            lif,
            lambda n, name, readout="sum_var": Population(
                LeakyIntegrate(readout=readout), n, name=name))


def _spatial_part(outputs):
    """The spatial connections of ``spatial_train`` (inside a network
    context); returns the DEEP R connections and the output populations
    with their losses."""
    from ml_genn import Connection
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal
    from ml_genn.losses import (RelativeMeanSquareError,
                                SparseCategoricalCrossentropy)
    from ml_genn.synapses import Exponential
    from ml_genn_spatial import (Space, SpatialConnection, SpatialDense,
                                 SpatialSparse, place)

    spike_input, lif, leaky = _populations()
    syn = Exponential(5.0)

    # 3-D: dense feed-forward + sparse recurrent, wiring cost, DEEP R
    space3 = Space(3, bounds=(-1.0, 1.0), rng=1)
    inp3, hid3 = spike_input(6, "inp3"), lif(16, "hid3")
    SpatialConnection(inp3, hid3, SpatialDense(Normal(1.5, 0.5), MAX_DELAY,
                                               wiring_cost=0.01), syn,
                      space3, name="inp3_hid3")
    rec3 = SpatialConnection(hid3, hid3,
                             SpatialSparse(0.2, Normal(0.0, 0.3), MAX_DELAY,
                                           wiring_cost=0.01),
                             syn, space3, name="hid3_hid3")

    # 1-D ball: sparse feed-forward with distance-aware regrowth (fixed
    # input positions) + dense recurrent
    space1 = Space(1, radius=1.0, rng=2)
    inp1, hid1 = spike_input(8, "inp1"), lif(12, "hid1")
    place(inp1, space1, learn=False)
    place(hid1, space1)
    ff1 = SpatialConnection(inp1, hid1,
                            SpatialSparse(0.5, Normal(1.0, 0.5), MAX_DELAY,
                                          regrowth_length=0.5),
                            syn, space1, name="inp1_hid1")
    SpatialConnection(hid1, hid1, SpatialDense(Normal(0.0, 0.3), MAX_DELAY),
                      syn, space1, name="hid1_hid1")

    # 2-D, Yin-Yang style: a spatial LIF output with a first-spike readout
    space2 = Space(2, bounds=(-1.0, 1.0), rng=3)
    single_spike = 2.0 * TIMESTEPS  # [ms] at dt 1 ms
    inp2 = spike_input(5, "inp2")
    hid2 = lif(10, "hid2", tau_refrac=single_spike)
    out2 = lif(3, "out2", tau_refrac=single_spike,
               readout="first_spike_time")
    hid2.record_spikes = True
    SpatialConnection(inp2, hid2, SpatialDense(Normal(1.5, 0.8), MAX_DELAY),
                      syn, space2, name="inp2_hid2")
    SpatialConnection(hid2, out2,
                      SpatialSparse(0.5, Normal(0.9, 0.1), MAX_DELAY), syn,
                      space2, name="hid2_out2")

    # Weight-only connections into a leaky-integrator readout
    out = leaky(3, "out")
    Connection(hid3, out, Dense(Normal(0.3, 0.3)), syn, name="hid3_out")
    Connection(hid1, out, FixedProbability(0.5, Normal(0.3, 0.3)), syn,
               name="hid1_out")
    outputs.update({out: SparseCategoricalCrossentropy(),
                    out2: RelativeMeanSquareError(1.0)})
    return [rec3, ff1]


def _baseline_part(outputs):
    """Per-synapse delay and weight-only connections (inside a network
    context); returns the connections whose delays are learnt."""
    from ml_genn import Connection
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal, Uniform
    from ml_genn.losses import SparseCategoricalCrossentropy
    from ml_genn.synapses import Exponential

    spike_input, lif, leaky = _populations()
    syn = Exponential(5.0)
    # the SHD / SSC examples' readout
    inp, hid = spike_input(6, "inpb"), lif(16, "hidb")
    hid.record_spikes = True
    out = leaky(3, "outb", readout="avg_var_exp_weight")
    delay = Uniform(0.0, MAX_DELAY)
    delayed = [
        Connection(inp, hid, Dense(Normal(1.5, 0.5), delay=delay), syn,
                   max_delay_steps=MAX_DELAY, name="inpb_hidb"),
        Connection(hid, hid, FixedProbability(0.2, Normal(0.0, 0.3),
                                              delay=delay), syn,
                   max_delay_steps=MAX_DELAY, name="hidb_hidb")]
    hid_nd = lif(8, "hidnd")
    Connection(inp, hid_nd, FixedProbability(0.5, Normal(1.5, 0.5)), syn,
               name="inpb_hidnd")
    Connection(hid, out, Dense(Normal(0.3, 0.3)), syn, name="hidb_outb")
    Connection(hid_nd, out, Dense(Normal(0.3, 0.3)), syn, name="hidnd_outb")
    outputs[out] = SparseCategoricalCrossentropy()
    return delayed


def compiled_model(name: str, batch_size: int, **genn_kwargs):
    """Compile (but do not build) model ``name`` at ``batch_size``; the
    GeNN keyword arguments choose the backend."""
    from ml_genn import Network
    from ml_genn.compilers import EventPropCompiler
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.optimisers import Adam
    from ml_genn_spatial import (GradientAccumulation,
                                 SpatialEventPropCompiler,
                                 SpatialInferenceCompiler)

    common = dict(dt=1.0, batch_size=batch_size, rng_seed=1, **genn_kwargs)
    network = Network(default_params)
    outputs = {}
    with network:
        if name == "spatial_train":
            deep_r = _spatial_part(outputs)
        elif name == "baseline_train":
            delayed = _baseline_part(outputs)
        elif name == "inference":
            _spatial_part(outputs)
            _baseline_part(outputs)
        else:
            raise ValueError(f"unknown model {name!r}: one of {MODELS}")
    if name == "spatial_train":
        compiler = SpatialEventPropCompiler(
            example_timesteps=TIMESTEPS, losses=outputs,
            optimiser=Adam(0.003),
            position_optimiser=GradientAccumulation(Adam(0.003), 4),
            deep_r_conns=deep_r, ttfs_alpha=0.1, softmax_temperature=0.5,
            **common)
    elif name == "baseline_train":
        compiler = EventPropCompiler(
            example_timesteps=TIMESTEPS, losses=outputs,
            optimiser=Adam(0.003), delay_learn_conns=delayed,
            delay_optimiser=GradientAccumulation(Adam(0.1), 4), **common)
    else:
        compiler = SpatialInferenceCompiler(evaluate_timesteps=TIMESTEPS,
                                            **common)
    return compiler.compile(network, name=f"{name}_b{batch_size}")


def build_for_cuda(name: str, batch_size: int) -> float:
    """Generate model ``name`` for CUDA and compile it with nvcc (device
    and block sizes chosen by hand: nothing queries a device). Returns the
    wall time [s]."""
    from pygenn.cuda_backend import BlockSizeSelect, DeviceSelect
    start = time.perf_counter()
    compiled = compiled_model(
        name, batch_size, backend="cuda",
        device_select_method=DeviceSelect.MANUAL,
        block_size_select_method=BlockSizeSelect.MANUAL)
    compiled.genn_model.build()
    return time.perf_counter() - start


if __name__ == "__main__":
    model, batch = sys.argv[1], int(sys.argv[2])
    seconds = build_for_cuda(model, batch)
    print(f"built {model} at batch {batch} for CUDA in {seconds:.1f} s")
