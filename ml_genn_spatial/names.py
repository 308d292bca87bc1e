"""Names of the GeNN variables, groups and custom updates that ml_genn_spatial
generates, spelled once.

The compilers, the code templates' Python side, the tests and the benchmarks
import these names rather than spelling them; the templates in ``snippets/``
use the same names in their code. Pure Python: no GeNN import.
"""

# --------------------------------------------------------------------------
# Neuron variables and arrays of a placed population
# --------------------------------------------------------------------------
#: Prefix of a population's coordinates ``X0 ... X<D-1>`` [space units]:
#: the positions the optimiser updates and checkpoints hold
POSITION = "X"
#: Additional input through which the mirror scatters position gradients
POSITION_GRADIENT_INPUT = "PositionGradientIn"
#: Per-neuron array of the scattered position gradient (``id * D + k``)
POSITION_GRADIENT_ACC = "PositionGradientAcc"

# --------------------------------------------------------------------------
# Spatial synapse group
# --------------------------------------------------------------------------
#: Prefixes of a synapse group's own copies of the positions of its
#: presynaptic and postsynaptic neurons (weight-update pre/post variables)
POSITION_PRE = "XPre"
POSITION_POST = "XPost"
#: Per-synapse dL/d(delay), accumulated as mlGeNN's ``DelayGradient``
POSITION_DELAY_GRADIENT = "PositionDelayGradient"
#: Its sum over the batch lanes (batch size > 1)
REDUCED_POSITION_DELAY_GRADIENT = "ReducedPositionDelayGradient"
#: Per-synapse delay [timesteps] stored once per batch (``stored_delays``):
#: one copy shared by every batch lane
SYNAPSE_DELAY = "Delay"
#: A placed population's positions as one array ``i * D + k`` (extra
#: global parameter) that the PositionDelay updates read
POSITION_TABLE = "PositionTable"
#: The PositionDelay update's references to the source's and the
#: target's position tables
PRE_POSITION_TABLE = "PreTable"
POST_POSITION_TABLE = "PostTable"

# --------------------------------------------------------------------------
# Mirror synapse group that scatters position gradients (DENSE target ->
# source for a dense connection, SPARSE source -> target with the
# connection's own rows for a sparse one)
# --------------------------------------------------------------------------
#: Suffix of a mirror's name: ``<connection name>_PositionMirror``
MIRROR_SUFFIX = "_PositionMirror"
#: Arrays of the mirror, one element per mirror synapse: the (transposed)
#: delay gradient and the wiring-cost factor ``strength * |w|``
DELAY_GRADIENT_T = "DelayGradientT"
WIRING_T = "WiringT"
#: Dynamic parameter switching the mirror's scatter events on
SCATTER_ENABLED = "ScatterEnabled"
#: Parameter: timesteps in which the mirror emits events
SCATTER_STEPS = "ScatterSteps"

# --------------------------------------------------------------------------
# Custom update groups (what ``genn_model.custom_update(...)`` runs)
# --------------------------------------------------------------------------
#: Batch sum of the per-synapse delay gradient
POSITION_REDUCE = "PositionReduce"
#: Transpose of the delay gradient into the mirror's array
POSITION_TRANSPOSE = "PositionTranspose"
#: Copy of a sparse connection's rows into its mirror (a custom
#: connectivity update on each group): once when training begins, and
#: before every transpose where DEEP R rewires the connection
MIRROR_ROWS = "PositionMirrorRows"
MIRROR_REBUILD = "PositionMirrorRebuild"
#: The same two for rewired connections, run at the end of every batch
MIRROR_ROWS_REWIRED = "PositionMirrorRowsRewired"
MIRROR_REBUILD_REWIRED = "PositionMirrorRebuildRewired"
#: Zeroing of the delay gradient (batch 0 of an epoch)
POSITION_ZERO = "PositionZero"
#: Hand-over of the scattered gradient to the optimiser (``Gradient<k>``)
POSITION_GATHER = "PositionGather"
#: Optimiser step of the positions
POSITION_LEARN = "PositionLearn"
#: Projection of the positions into a ball bound
POSITION_PROJECT = "PositionProject"
#: Copies of the updated positions into the groups that keep their own
POSITION_SYNC = "PositionSync"
#: Variable of a PositionGather update: the gradient of component k
GATHERED_GRADIENT = "Gradient"

#: mlGeNN's DEEP R second pass, replaced for distance-aware regrowth
DEEP_R_2 = "DeepR2"
#: Distance-aware DEEP R's copy of the target population's positions
TARGET_POSITIONS = "TargetPositions"

#: Copy of the positions into each population's PositionTable
POSITION_TABLE_UPDATE = "PositionTableUpdate"
#: Computation of every stored synapse delay from the position tables
POSITION_DELAY = "PositionDelay"

def ball_centre(k: int) -> str:
    """Name of coordinate ``k`` of a ball bound's centre (a parameter of
    the projection custom update, ``Centre<k>``)."""
    return f"Centre{k}"


def position(k: int) -> str:
    """Name of a population's coordinate ``k`` (``X<k>``)."""
    return f"{POSITION}{k}"


def position_pre(k: int) -> str:
    """Name of a synapse group's copy of its presynaptic coordinate k."""
    return f"{POSITION_PRE}{k}"


def position_post(k: int) -> str:
    """Name of a synapse group's copy of its postsynaptic coordinate k."""
    return f"{POSITION_POST}{k}"


def gathered_gradient(k: int) -> str:
    """Variable of a PositionGather update holding gradient component k."""
    return f"{GATHERED_GRADIENT}{k}"


def mirror(connection_name: str) -> str:
    """Name of the mirror synapse group of a spatial connection."""
    return f"{connection_name}{MIRROR_SUFFIX}"


def gather_update(index: int) -> str:
    """Name of the PositionGather update of the ``index``-th placed
    population (sorted by population name)."""
    return f"CU{POSITION_GATHER}{index}"


def learn_update(index: int, k: int) -> str:
    """Name of the optimiser update of coordinate k of the ``index``-th
    placed population."""
    return f"CU{POSITION_LEARN}{index}_{k}"


def deep_r_2_update(synapse_group_name: str) -> str:
    """Name of the (distance-aware) DEEP R second pass of a synapse group,
    as mlGeNN names it."""
    return f"{DEEP_R_2}{synapse_group_name}"
