"""Placing mlGeNN populations in a :class:`~ml_genn_spatial.Space`.

A placed population keeps its neuron model; its neuron object becomes an
instance of a subclass of its own class that adds one
:class:`ml_genn.utils.value.ValueDescriptor` per coordinate (GeNN variables
``X0`` ... ``X<D-1>``). Positions are therefore checkpointed by mlGeNN's
``CompiledTrainingNetwork.save`` and restored by ``Network.load`` like any
other neuron variable, and every ``isinstance`` check of mlGeNN's compilers
still sees the original neuron class.
"""
import numpy as np

from functools import lru_cache

from ml_genn.utils.value import ValueDescriptor

from . import names
from .geometry import validate_positions
from .space import Space


@lru_cache(maxsize=None)
def _spatial_neuron_class(base: type, dimensions: int) -> type:
    attributes = {f"position_{k}": ValueDescriptor(names.position(k))
                  for k in range(dimensions)}
    attributes["__doc__"] = (f"{base.__name__} with a position in a "
                             f"{dimensions}-D space (ml_genn_spatial)")
    return type(f"Spatial{base.__name__}", (base,), attributes)


def place(population, space: Space, positions=None, rng=None,
          learn: bool = True):
    """Place a population in a space, at explicit positions or with
    options a :class:`~ml_genn_spatial.SpatialConnection` does not take
    (``rng``, ``learn``); a SpatialConnection given ``space=`` places a
    still-unplaced population itself.

    Args:
        population: mlGeNN :class:`ml_genn.Population` with a known shape
        space:      the space the population lives in; populations joined
                    by a spatial connection must share one space
        positions:  initial positions, an array of shape
                    ``(num_neurons, space.dimensions)`` [space units];
                    drawn with ``space``'s initialiser when ``None``
        rng:        seed or ``numpy.random.Generator`` for that draw
        learn:      whether training updates these positions
    """
    if not isinstance(space, Space):
        raise TypeError(f"space must be an ml_genn_spatial.Space, "
                        f"not {type(space).__name__}")
    if population.shape is None:
        raise ValueError(f"Population {population.name} has no shape yet: "
                         f"give it a size before placing it in a space")
    if is_placed(population):
        raise ValueError(f"Population {population.name} is already placed "
                         f"in a space")
    if not isinstance(learn, (bool, np.bool_)):
        raise ValueError(f"learn must be True or False, not {learn!r}")
    num_neurons = int(np.prod(population.shape))
    if positions is None:
        positions = space.initial_positions(num_neurons, rng=rng)
    # Checked before the population changes, so a refused call leaves it
    # unplaced
    positions = space.validate(positions, n=num_neurons,
                               name=f"positions of {population.name}")

    neuron = population.neuron
    neuron.__class__ = _spatial_neuron_class(type(neuron), space.dimensions)
    neuron.space = space
    neuron.learn_positions = bool(learn)
    _store_positions(population, positions)
    return population


def is_placed(population) -> bool:
    """True when ``population`` has been placed in a space."""
    return isinstance(getattr(population.neuron, "space", None), Space)


def get_space(population) -> Space:
    """The space of a placed population (``ValueError`` otherwise)."""
    if not is_placed(population):
        raise ValueError(f"Population {population.name} is not placed in a "
                         f"space: call ml_genn_spatial.place(population, "
                         f"space) first")
    return population.neuron.space


def get_positions(population) -> np.ndarray:
    """Positions ``(num_neurons, D)`` [space units] of a placed population."""
    space = get_space(population)
    neuron = population.neuron
    columns = [np.broadcast_to(np.asarray(getattr(neuron, f"position_{k}"),
                                          dtype=np.float64),
                               (int(np.prod(population.shape)),))
               for k in range(space.dimensions)]
    return np.stack(columns, axis=1)


def set_positions(population, positions):
    """Set the positions ``(num_neurons, D)`` [space units] of a placed
    population (as ``Network.load`` does, one coordinate at a time)."""
    space = get_space(population)
    _store_positions(population, validate_positions(
        positions, n=int(np.prod(population.shape)),
        dimensions=space.dimensions, name=f"positions of {population.name}"))


def _store_positions(population, positions: np.ndarray):
    """Store checked positions ``(num_neurons, D)``: the one place a
    population's placement lives, one descriptor per coordinate."""
    for k in range(positions.shape[1]):
        setattr(population.neuron, f"position_{k}", positions[:, k].copy())
