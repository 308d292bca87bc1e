"""The library API refuses bad values when an object is made, with a
ValueError that names the argument (issue 12): one row per bad input."""
import math

import numpy as np
import pytest

from ml_genn_spatial import Space
from ml_genn_spatial._genn import genn_available
from ml_genn_spatial.pruning import keep_count

NAN, INF = math.nan, math.inf

# (what is made, the argument its message starts with)
SPACE_CASES = [
    (lambda: Space(0), "dimensions"),
    (lambda: Space(2.5), "dimensions"),
    (lambda: Space(True), "dimensions"),
    (lambda: Space(2, radius=-1.0), "radius"),
    (lambda: Space(2, radius=NAN), "radius"),
    (lambda: Space(2, eps=-0.1), "eps"),
    (lambda: Space(2, eps=INF), "eps"),
    (lambda: Space(2, bounds=(1.0, -1.0)), "every low bound"),
    (lambda: Space(2, bounds=(-1.0, NAN)), "high"),
    (lambda: Space(2, init="nowhere"), "init"),
    (lambda: Space(2, init=np.full((3, 2), NAN)), "init"),
    (lambda: keep_count(4, 4, 1.0), "sparsity"),
    (lambda: keep_count(4, 4, -0.1), "sparsity"),
    (lambda: keep_count(4, 4, NAN), "sparsity"),
]


@pytest.mark.parametrize("make, argument", SPACE_CASES)
def test_space_and_pruning_refuse_bad_values(make, argument):
    with pytest.raises(ValueError, match=_names(argument)):
        make()


def _names(argument: str) -> str:
    """Pattern of a message that starts by naming ``argument``."""
    return rf"^(?:{argument})[ =(]"


def _genn_cases():
    """Rows that need pygenn / ml_genn to build the objects."""
    from ml_genn import Network, Population
    from ml_genn.neurons import LeakyIntegrateFire, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.synapses import Exponential
    from ml_genn_spatial import (SpatialConnection, SpatialDense,
                                 SpatialEventPropCompiler, SpatialSparse,
                                 place, prune)

    def population(size=3):
        with Network():
            return Population(SpikeInput(max_spikes=10), size)

    def spatial_connection():
        with Network():
            space = Space(2)
            inp = Population(SpikeInput(max_spikes=10), 3)
            hid = Population(LeakyIntegrateFire(tau_refrac=None), 2)
            return SpatialConnection(inp, hid, SpatialDense(1.0, 10),
                                     Exponential(5.0), space=space)

    def compiler(**kwargs):
        return SpatialEventPropCompiler(
            example_timesteps=20, losses="sparse_categorical_crossentropy",
            **kwargs)

    rows = []
    for make in (lambda **kw: SpatialDense(1.0, **kw),
                 lambda **kw: SpatialSparse(0.5, 1.0, **kw)):
        rows += [
            (lambda m=make: m(max_delay_steps=10, scale=-1.0), "scale"),
            (lambda m=make: m(max_delay_steps=10, scale=NAN), "scale"),
            (lambda m=make: m(max_delay_steps=10, scale=INF), "scale"),
            (lambda m=make: m(max_delay_steps=10, offset=-0.5), "offset"),
            (lambda m=make: m(max_delay_steps=10, offset=NAN), "offset"),
            (lambda m=make: m(max_delay_steps=-1), "max_delay_steps"),
            (lambda m=make: m(max_delay_steps=2.5), "max_delay_steps"),
            (lambda m=make: m(max_delay_steps=10.0), "max_delay_steps"),
            (lambda m=make: m(max_delay_steps=None), "max_delay_steps"),
            (lambda m=make: m(max_delay_steps=70000), "max_delay_steps"),
            (lambda m=make: m(max_delay_steps=10, wiring_cost=-1e-3),
             "wiring_cost"),
            (lambda m=make: m(max_delay_steps=10, wiring_cost=NAN),
             "wiring_cost")]
    rows += [
        (lambda: SpatialSparse(-0.1, 1.0, 10), r"p \(connection"),
        (lambda: SpatialSparse(1.5, 1.0, 10), r"p \(connection"),
        (lambda: SpatialSparse(NAN, 1.0, 10), r"p \(connection"),
        (lambda: SpatialSparse(0.5, 1.0, 10, regrowth_length=-0.3),
         "regrowth_length"),
        (lambda: SpatialSparse(0.5, 1.0, 10, regrowth_length=0.0),
         "regrowth_length"),
        (lambda: SpatialSparse(0.5, 1.0, 10, regrowth_length=INF),
         "regrowth_length"),
        (lambda: place(population(), Space(2), np.zeros((3, 3))),
         "positions"),
        (lambda: place(population(), Space(2), np.full((3, 2), NAN)),
         "positions"),
        (lambda: place(population(), Space(2), np.zeros((4, 2))),
         "positions"),
        (lambda: place(population(), Space(2), learn="yes"), "learn"),
        (lambda: compiler(position_optimiser=Adam(-0.01)),
         "position_optimiser"),
        (lambda: compiler(position_optimiser=Adam(NAN)),
         "position_optimiser"),
        (lambda: compiler(optimiser=Adam(-0.01)), "optimiser"),
        (lambda: compiler(delay_optimiser=Adam(-0.1)), "delay_optimiser"),
        (lambda: prune(spatial_connection(), sparsity=1.0), "sparsity"),
        (lambda: prune(spatial_connection(), sparsity=-0.5), "sparsity"),
        (lambda: prune(spatial_connection(), sparsity=0.5, by="age"), "by"),
    ]
    return rows


# Built at collection when GeNN imports (the rows only import it); with
# GeNN missing the parameter set is empty and pytest reports the test as
# skipped
_GENN_CASES = _genn_cases() if genn_available() else []


@pytest.mark.genn
@pytest.mark.parametrize("make, argument", _GENN_CASES)
def test_connectivity_placement_compilers_and_prune_refuse_bad_values(
        make, argument):
    with pytest.raises(ValueError, match=_names(argument)):
        make()


@pytest.mark.genn
def test_good_values_are_accepted():
    if not genn_available():
        pytest.skip("GeNN is not installed")
    from ml_genn.optimisers import Adam
    from ml_genn_spatial import (SpatialDense, SpatialEventPropCompiler,
                                 SpatialSparse)
    SpatialDense(1.0, 0, scale=0.0, offset=0.0, wiring_cost=0.0)
    SpatialSparse(0.0, 1.0, np.int64(5), regrowth_length=0.1)
    SpatialSparse(1.0, 1.0, 5)
    SpatialEventPropCompiler(example_timesteps=20,
                             losses="sparse_categorical_crossentropy",
                             optimiser=Adam(0.0),
                             position_optimiser=Adam(0.01))
