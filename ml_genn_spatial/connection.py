"""The connection type of spatial networks."""
from ml_genn import Connection

from .connectivity import SpatialConnectivity
from .placement import get_space, is_placed, place
from .space import Space


class SpatialConnection(Connection):
    """A connection whose delays are the distances between its neurons:
    mlGeNN's :class:`ml_genn.Connection` with spatial connectivity
    (:class:`~ml_genn_spatial.SpatialDense` or
    :class:`~ml_genn_spatial.SpatialSparse`) between two populations of
    one :class:`~ml_genn_spatial.Space`.

    With ``space`` given, a still-unplaced source or target is placed in it
    (positions drawn with the space's initialiser); a population already
    placed in another space is refused. Without ``space`` both populations
    must already be placed (:func:`~ml_genn_spatial.place`, which also
    takes explicit positions) in one space.

    Args:
        source:          source population
        target:          target population
        connectivity:    spatial connectivity of the connection
        synapse:         synapse model (EventProp training needs
                         :class:`ml_genn.synapses.Exponential`)
        space:           the space both populations live in; None when
                         both are placed already
        name:            name of the connection
    """

    def __init__(self, source, target, connectivity: SpatialConnectivity,
                 synapse="delta", space: Space = None, name: str = None):
        if not isinstance(connectivity, SpatialConnectivity):
            raise TypeError(f"SpatialConnection needs spatial connectivity "
                            f"(SpatialDense or SpatialSparse), not "
                            f"{type(connectivity).__name__}: use mlGeNN's "
                            f"Connection for connections without spatial "
                            f"delays")
        if space is not None and not isinstance(space, Space):
            raise TypeError(f"space must be an ml_genn_spatial.Space, not "
                            f"{type(space).__name__}")
        # Check both ends before placing either, so that a refused
        # connection leaves both populations as they were
        unplaced = []
        for pop in (source, target):
            if is_placed(pop):
                if space is not None and get_space(pop) is not space:
                    raise ValueError(
                        f"Population {pop.name} is placed in another space "
                        f"than the one given to this SpatialConnection: "
                        f"both ends of a spatial connection share one "
                        f"Space")
            elif space is None:
                raise ValueError(
                    f"Population {pop.name} is not placed in a space: give "
                    f"SpatialConnection(..., space=...) or call "
                    f"ml_genn_spatial.place({pop.name}, space) first")
            elif pop not in unplaced:
                unplaced.append(pop)
        if space is None and get_space(source) is not get_space(target):
            raise ValueError(f"Populations {source.name} and {target.name} "
                             f"are placed in different spaces: both ends of "
                             f"a spatial connection share one Space")
        for pop in unplaced:
            place(pop, space)
        super().__init__(source, target, connectivity, synapse, name=name)
