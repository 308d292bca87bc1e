"""GeNN (CPU backend): GradientAccumulation leaves the variable alone for
``batches - 1`` updates and then takes one step of the wrapped optimiser
with the mean gradient, checked against the NumPy reference's Adam; with
``batches=1`` a whole EventProp training run is bit for bit plain Adam's."""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available
from ml_genn_spatial.reference.train import Adam as ReferenceAdam

pytestmark = [pytest.mark.genn, pytest.mark.usefixtures("in_tmp_path")]

try:
    from ml_genn import Connection, Network, Population
    from ml_genn.compilers import EventPropCompiler
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.initializers import Normal
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.synapses import Exponential
    from ml_genn.utils.data import preprocess_spikes
    from pygenn import (GeNNModel, create_custom_update_model,
                        create_neuron_model, create_var_ref)
    from ml_genn_spatial.datasets import encode_latency, yin_yang
    from ml_genn_spatial.optimisers import GradientAccumulation
except ImportError:
    # tests/conftest.py skips every test marked genn; with GeNN present an
    # import error is a real failure
    if genn_available():
        raise

SIZE, LR = 7, 0.05


def _optimiser_model(optimiser, zero_gradient):
    """The smallest GeNN model holding a gradient ``G``, a variable ``W``
    and ``optimiser``'s custom update of ``W`` from ``G``."""
    genn_model = GeNNModel("double", "accumulation",
                           backend="single_threaded_cpu")
    holder = create_neuron_model("holder", vars=[("G", "scalar"),
                                                 ("W", "scalar")])
    pop = genn_model.add_neuron_population(
        "pop", SIZE, holder, {}, {"G": 0.0, "W": 0.5})
    (model, params, dynamic, var_vals, _, _, var_refs,
     egp_refs) = optimiser.get_model(create_var_ref(pop, "G"),
                                     create_var_ref(pop, "W"),
                                     zero_gradient).process()
    update = genn_model.add_custom_update(
        "optimise", "GradientLearn",
        create_custom_update_model("optimise", **model), params, var_vals,
        var_refs, egp_refs)
    for name in dynamic:
        update.set_param_dynamic(name)
    genn_model.build()
    genn_model.load()
    return genn_model, pop, update


def _learn(genn_model, pop, update, optimiser, gradients):
    """Set ``G``, run the update once per gradient; ``W`` and ``G`` after
    each."""
    weights, left = [], []
    for step, gradient in enumerate(gradients):
        pop.vars["G"].values = gradient
        pop.vars["G"].push_to_device()
        optimiser.set_step(update, step)
        genn_model.custom_update("GradientLearn")
        for name, out in (("W", weights), ("G", left)):
            pop.vars[name].pull_from_device()
            out.append(pop.vars[name].values.copy())
    return np.array(weights), np.array(left)


@pytest.mark.parametrize("zero_gradient", [True, False])
def test_steps_every_batches_with_the_mean_gradient(zero_gradient):
    batches, steps = 3, 4
    gradients = np.random.default_rng(3).normal(size=(batches * steps,
                                                      SIZE))
    optimiser = GradientAccumulation(Adam(LR), batches)
    weights, left = _learn(*_optimiser_model(optimiser, zero_gradient),
                           optimiser, gradients)

    reference, expected = ReferenceAdam(LR), []
    state, variable = reference.init_state(SIZE), np.full(SIZE, 0.5)
    for i in range(len(gradients)):
        if (i + 1) % batches == 0:
            mean = gradients[i + 1 - batches:i + 1].mean(axis=0)
            reference.update(variable, mean, state, i // batches)
        expected.append(variable.copy())
    np.testing.assert_allclose(weights, np.array(expected), rtol=1e-12)
    assert len(np.unique(weights, axis=0)) == steps + 1
    np.testing.assert_array_equal(left, 0.0 if zero_gradient else gradients)


def test_learning_rate_is_the_wrapped_optimisers():
    adam = Adam(0.01)
    optimiser = GradientAccumulation(adam, 2)
    optimiser.alpha = 0.004  # what a learning-rate schedule does
    assert adam.alpha == optimiser.alpha == 0.004


@pytest.mark.parametrize("batches", [0, -2, 1.5, True])
def test_bad_batches_are_refused(batches):
    with pytest.raises(ValueError, match="positive integer"):
        GradientAccumulation(Adam(), batches)


def test_a_non_optimiser_is_refused():
    with pytest.raises(TypeError, match="mlGeNN Optimiser"):
        GradientAccumulation(0.001, 2)


def _train_weights(optimiser, trials=4):
    """Output weights of a small EventProp network before and after one
    epoch of ``trials`` trials."""
    features, labels = yin_yang(trials, 42)
    times = encode_latency(features, t_early=1.0, t_late=30.0, bias_time=1.0)
    spikes = [preprocess_spikes(t, np.arange(5), 5) for t in times]
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=100), 5)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), 10)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="sum_var"), 3)
        Connection(inp, hid, Dense(Normal(1.5, 0.5)), Exponential(5.0))
        hid_out = Connection(hid, out, Dense(Normal(0.0, 0.5)),
                             Exponential(5.0))
    compiled = EventPropCompiler(
        example_timesteps=60, losses="sparse_categorical_crossentropy",
        optimiser=optimiser, batch_size=1, rng_seed=1,
        backend="single_threaded_cpu").compile(network)
    with compiled:
        weight = compiled.connection_populations[hid_out].vars["g"]
        weight.pull_from_device()
        before = weight.values.copy()
        compiled.train({inp: spikes}, {out: labels}, num_epochs=1,
                       shuffle=False, callbacks=[])
        weight.pull_from_device()
        return before, weight.values.copy()


def test_one_batch_trains_exactly_as_the_wrapped_optimiser():
    before, plain = _train_weights(Adam(LR))
    _, wrapped = _train_weights(GradientAccumulation(Adam(LR), 1))
    assert not np.array_equal(before, plain)
    np.testing.assert_array_equal(wrapped, plain)


def test_no_step_before_batches_gradients_arrived():
    # mlGeNN applies no gradient at the end of an epoch's first trial, so
    # four trials deliver three gradients: too few for a step of four
    before, after = _train_weights(GradientAccumulation(Adam(LR), 4))
    np.testing.assert_array_equal(after, before)
    before, after = _train_weights(GradientAccumulation(Adam(LR), 3))
    assert not np.array_equal(after, before)
