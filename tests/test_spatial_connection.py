"""SpatialConnection: places unplaced populations in its space, refuses
mixed spaces and non-spatial connectivity (no model is built)."""
import numpy as np
import pytest

from ml_genn_spatial._genn import genn_available

pytestmark = pytest.mark.genn

try:
    from ml_genn import Connection, Network, Population
    from ml_genn.connectivity import Dense
    from ml_genn.neurons import LeakyIntegrateFire, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_spatial import (Space, SpatialConnection, SpatialDense,
                                 SpatialSparse, get_positions, place)
    from ml_genn_spatial.placement import is_placed
except ImportError:
    if genn_available():
        raise


def _populations(network):
    with network:
        inp = Population(SpikeInput(max_spikes=10), 4, name="inp")
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 3, name="hid")
    return inp, hid


def test_places_unplaced_populations_in_its_space():
    network = Network()
    inp, hid = _populations(network)
    space = Space(2, bounds=(-1.0, 1.0), rng=3)
    with network:
        forward = SpatialConnection(inp, hid, SpatialDense(1.0, 10),
                                    Exponential(5.0), space=space)
        recurrent = SpatialConnection(hid, hid, SpatialSparse(0.5, 1.0, 10),
                                      Exponential(5.0), space=space)
    assert isinstance(forward, Connection)
    assert forward in network.connections and recurrent in network.connections
    for pop, size in ((inp, 4), (hid, 3)):
        positions = get_positions(pop)
        assert positions.shape == (size, 2)
        assert np.all((positions >= -1.0) & (positions <= 1.0))
    # The recurrent connection kept hid's positions from the first draw
    assert not np.array_equal(get_positions(inp)[:3], get_positions(hid))


def test_keeps_explicit_positions():
    network = Network()
    inp, hid = _populations(network)
    space = Space(1)
    given = np.arange(4.0)[:, None]
    place(inp, space, given)
    with network:
        SpatialConnection(inp, hid, SpatialDense(1.0, 10, scale=1.0),
                          Exponential(5.0), space=space)
    np.testing.assert_array_equal(get_positions(inp), given)


def test_refuses_a_population_placed_in_another_space():
    network = Network()
    inp, hid = _populations(network)
    place(inp, Space(2))
    with network, pytest.raises(ValueError, match="another space"):
        SpatialConnection(inp, hid, SpatialDense(1.0, 10), space=Space(2))


def test_a_refused_connection_places_neither_population():
    network = Network()
    inp, hid = _populations(network)
    place(hid, Space(2))
    with network, pytest.raises(ValueError, match="another space"):
        SpatialConnection(inp, hid, SpatialDense(1.0, 10), space=Space(2))
    assert not is_placed(inp)


def test_refuses_populations_of_two_spaces_without_space():
    network = Network()
    inp, hid = _populations(network)
    place(inp, Space(2))
    place(hid, Space(2))
    with network, pytest.raises(ValueError, match="different spaces"):
        SpatialConnection(inp, hid, SpatialDense(1.0, 10, scale=1.0))


def test_refuses_unplaced_populations_without_space():
    network = Network()
    inp, hid = _populations(network)
    with network, pytest.raises(ValueError, match="space=") as error:
        SpatialConnection(inp, hid, SpatialDense(1.0, 10, scale=1.0))
    assert "inp" in str(error.value)


def test_refuses_non_spatial_connectivity():
    network = Network()
    inp, hid = _populations(network)
    with network, pytest.raises(TypeError, match="SpatialDense"):
        SpatialConnection(inp, hid, Dense(1.0), space=Space(2))


@pytest.mark.parametrize("dimensions", [1, 2, 3])
def test_default_scale_spans_the_box_diagonal_with_max_delay(dimensions):
    # The longest distance in [-1, 1]^D is its diagonal, 2 sqrt(D): it maps
    # to max_delay_steps
    space = Space(dimensions, bounds=(-1.0, 1.0))
    scale = SpatialDense(1.0, 40).resolve_scale(space)
    assert scale == pytest.approx(40 / (2.0 * np.sqrt(dimensions)))
    with pytest.raises(ValueError, match="scale="):
        SpatialDense(1.0, 40).resolve_scale(Space(dimensions))


@pytest.mark.usefixtures("in_tmp_path")
def test_recurrent_sparse_connection_has_no_self_connections():
    from ml_genn_spatial import SpatialInferenceCompiler
    network = Network()
    with network:
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 30, name="hid")
        rec = SpatialConnection(hid, hid, SpatialSparse(0.9, 1.0, 10),
                                Exponential(5.0), Space(2, bounds=(-1, 1)))
    compiled = SpatialInferenceCompiler(evaluate_timesteps=5).compile(
        network, name="no_self")
    with compiled:
        group = compiled.connection_populations[rec]
        group.pull_connectivity_from_device()
        pre = np.asarray(group.get_sparse_pre_inds())
        post = np.asarray(group.get_sparse_post_inds())
    assert len(pre) > 0.8 * 30 * 29
    assert not np.any(pre == post)
