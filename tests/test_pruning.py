"""Choice of synapses by one-shot pruning (pure NumPy)."""
import numpy as np
import pytest

from ml_genn_spatial.pruning import keep_count, select_synapses


def test_keep_count_follows_sparsity_of_all_possible_synapses():
    assert keep_count(10, 20, 0.9) == 20
    assert keep_count(10, 20, 0.0) == 200
    with pytest.raises(ValueError, match="sparsity"):
        keep_count(10, 20, 1.0)


def test_prune_by_weight_keeps_largest_magnitudes():
    weights = np.array([0.1, -3.0, 0.5, 2.0, -0.2, 0.0])
    distances = np.arange(6.0)
    kept = select_synapses(weights, distances, 3, by="weight")
    # independent: the three largest |w| are at 1 (3.0), 3 (2.0), 2 (0.5)
    np.testing.assert_array_equal(kept, [1, 2, 3])


def test_prune_by_length_keeps_shortest_and_breaks_ties_by_index():
    rng = np.random.default_rng(0)
    distances = rng.uniform(0, 2, 100)
    distances[[10, 20]] = 0.05           # a tie among the shortest
    kept = select_synapses(rng.normal(size=100), distances, 25, by="length")
    removed = np.setdiff1d(np.arange(100), kept)
    assert len(kept) == 25
    assert distances[kept].max() <= distances[removed].min()
    assert {10, 20} <= set(kept.tolist())


def test_select_rejects_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        select_synapses(np.zeros(3), np.zeros(4), 1)
    with pytest.raises(ValueError, match="cannot keep"):
        select_synapses(np.zeros(3), np.zeros(3), 4)
    with pytest.raises(ValueError, match="'weight' or 'length'"):
        select_synapses(np.zeros(3), np.zeros(3), 1, by="random")
