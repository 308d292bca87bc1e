"""Renders the GeNN code templates of ``snippets/`` for D dimensions.

The templates hold the maths; this module only fills their ``$slots`` with
the per-dimension lines, so a reader can open a snippet and see what the
generated code computes. No pygenn import: rendering is plain text.
"""
from functools import lru_cache
from importlib import resources
from string import Template

from . import names
from .geometry import check_dimensions


@lru_cache(maxsize=None)
def load_template(name: str) -> Template:
    """The template ``snippets/<name>.c`` as a :class:`string.Template`."""
    if hasattr(resources, "files"):
        text = (resources.files("ml_genn_spatial.snippets")
                .joinpath(f"{name}.c").read_text(encoding="utf-8"))
    else:
        # Python 3.8, e.g. the Ubuntu 20.04 of GeNN's published image
        text = resources.read_text("ml_genn_spatial.snippets", f"{name}.c",
                                   encoding="utf-8")
    return Template(text)


def _squared_sum(prefix: str, dimensions: int) -> str:
    return " + ".join(f"({prefix}{k} * {prefix}{k})"
                      for k in range(dimensions))


def _displacement_slots(dimensions: int, indent: str = "") -> dict:
    # dx_k = XPost_k - XPre_k: for a spatial synapse i -> j this is
    # x_j - x_i, for its mirror j -> i it is x_i - x_j. The template puts
    # the first line's indentation, ``indent`` the others'
    return {"displacements": f"\n{indent}".join(
                f"const scalar dx{k} = {names.position_post(k)} - "
                f"{names.position_pre(k)};"
                for k in range(dimensions)),
            "squared_sum": _squared_sum("dx", dimensions)}


def distance_delay_code(dimensions: int) -> str:
    """Code defining ``dist`` [space units] and ``delay`` [timesteps] from
    the synapse's ``XPre*``/``XPost*`` positions and its ``Scale``,
    ``Offset``, ``Eps`` and ``MaxDelay`` parameters."""
    check_dimensions(dimensions)
    return load_template("distance_delay").substitute(
        _displacement_slots(dimensions))


def delay_code(dimensions: int, stored: bool = False) -> str:
    """Code defining ``delay`` [timesteps] in a spatial synapse: from the
    positions (:func:`distance_delay_code`), or with ``stored`` read from
    the synapse's stored delay (:func:`synapse_delay_code`)."""
    check_dimensions(dimensions)
    if stored:
        return load_template("stored_delay").substitute(
            delay_var=names.SYNAPSE_DELAY)
    return distance_delay_code(dimensions)


def forward_code(dimensions: int, stored: bool = False) -> str:
    """Presynaptic spike code of a spatial synapse (``stored``: its delay
    is the stored one)."""
    return delay_code(dimensions, stored) + load_template("forward").template


def back_spike_condition_code() -> str:
    """Event condition of a spatial synapse's backward pass."""
    return load_template("back_spike_condition").template


def backward_code(dimensions: int, feedback: bool,
                  stored: bool = False) -> str:
    """Back-spike (EventProp adjoint) code of a spatial synapse; with
    ``feedback`` the adjoint current is also sent to a LIF presynaptic
    neuron; with ``stored`` its delay is the stored one."""
    code = delay_code(dimensions, stored) + load_template("backward").template
    if feedback:
        code += load_template("feedback").template
    return code


def scatter_code(dimensions: int, wiring_cost: bool = False) -> str:
    """Event code of the mirror synapse that scatters one component of the
    position gradient to both of its neurons; with ``wiring_cost`` it adds
    the wiring cost's position gradient (from ``WiringT``)."""
    check_dimensions(dimensions)
    direction = f"dx{dimensions - 1}"
    for k in reversed(range(dimensions - 1)):
        direction = f"(component == {k}) ? dx{k} : ({direction})"
    distance = "\n".join(" " * 4 + line for line in
                         distance_delay_code(dimensions).splitlines())
    return load_template("scatter").substitute(
        distance=distance, direction=direction,
        wiring_load=_fragment("scatter_wiring_load", wiring_cost),
        wiring_nonzero=" || wiring != 0.0" if wiring_cost else "",
        wiring_term="wiring" if wiring_cost else "0.0")


def _fragment(name: str, present: bool) -> str:
    """The snippet ``name`` (without its last newline) where ``present``,
    else nothing."""
    return load_template(name).template.rstrip("\n") if present else ""


def scatter_condition_code() -> str:
    """Event condition of the mirror synapse: the scatter timesteps of a
    training batch, batch lane 0."""
    return load_template("scatter_condition").template


def batch_reduce_code() -> str:
    """Custom update code summing ``Gradient`` over the batch into
    ``Reduced`` and zeroing it."""
    return load_template("batch_reduce").template


def position_sync_code(dimensions: int) -> str:
    """Custom update code copying positions ``X<k>`` into a synapse
    group's copy ``Copy<k>``."""
    check_dimensions(dimensions)
    return load_template("position_sync").substitute(copies="\n".join(
        f"Copy{k} = {names.position(k)};" for k in range(dimensions)))


def target_positions_code(dimensions: int) -> str:
    """Custom update code copying positions ``X<k>`` into distance-aware
    DEEP R's ``TargetPositions`` array (``j * D + k``)."""
    check_dimensions(dimensions)
    return load_template("target_positions").substitute(copies="\n".join(
        f"{names.TARGET_POSITIONS}[(id * {dimensions}) + {k}] = "
        f"{names.position(k)};" for k in range(dimensions)))


def _synapse_ends(dense: bool) -> str:
    return load_template("synapse_ends_dense" if dense
                         else "synapse_ends_sparse").template.rstrip("\n")


def position_table_code(dimensions: int) -> str:
    """Custom update code copying positions ``X<k>`` into the
    population's ``PositionTable`` (``i * D + k``)."""
    check_dimensions(dimensions)
    return load_template("position_table").substitute(copies="\n".join(
        f"{names.POSITION_TABLE}[(id * {dimensions}) + {k}] = "
        f"{names.position(k)};" for k in range(dimensions)))


def _table_displacements(dimensions: int) -> dict:
    # dx_k = x_post,k - x_pre,k of synapse pre -> post from the position
    # tables of its two populations
    pre, post = names.PRE_POSITION_TABLE, names.POST_POSITION_TABLE
    return {"displacements": "\n".join(
                f"const scalar dx{k} = {post}[(post * {dimensions}) + {k}] - "
                f"{pre}[(pre * {dimensions}) + {k}];"
                for k in range(dimensions)),
            "squared_sum": _squared_sum("dx", dimensions)}


def synapse_delay_code(dimensions: int, dense: bool = True) -> str:
    """Custom update code storing a spatial synapse's delay [timesteps]
    from the position tables of its two populations (``dense``: the
    synapse group's connectivity is DENSE, else SPARSE)."""
    check_dimensions(dimensions)
    return load_template("synapse_delay").substitute(
        synapse_ends=_synapse_ends(dense),
        delay_var=names.SYNAPSE_DELAY, **_table_displacements(dimensions))


def transpose_code(zero_source: bool, wiring_cost: bool = False,
                   dense: bool = True, dimensions: int = 1) -> str:
    """Custom update code writing a synapse's delay gradient into its
    mirror's array; with ``zero_source`` the gradient is then zeroed
    (batch size 1, where no batch reduction did it); with ``wiring_cost``
    it also applies the wiring cost's weight gradient, with the distance
    of its two neurons in ``dimensions`` from the position tables, and
    hands ``strength * |w|`` to the mirror. ``dense`` says whether the
    spatial synapse group has DENSE (else SPARSE) connectivity."""
    check_dimensions(dimensions)
    wiring = ""
    if wiring_cost:
        wiring = load_template("wiring_cost").substitute(
            _table_displacements(dimensions))
    return load_template("transpose").substitute(
        synapse_ends=_synapse_ends(dense),
        mirror_index="(post * num_pre) + pre" if dense else "id_syn",
        zero_source="Gradient = 0.0;" if zero_source else "",
        wiring=wiring)


def mirror_rows_code() -> str:
    """Row code of the custom connectivity update copying a SPARSE spatial
    group's rows into its mirror's ``DelayGradientT``."""
    return load_template("mirror_rows").template


def mirror_rebuild_code() -> str:
    """Row code of the custom connectivity update rebuilding a SPARSE
    connection's mirror from the rows in its ``DelayGradientT``."""
    return load_template("mirror_rebuild").template


def accumulate_code(dimensions: int) -> str:
    """Neuron code adding the scattered input to the array
    ``PositionGradientAcc`` in the scatter timesteps."""
    check_dimensions(dimensions)
    return load_template("accumulate").substitute(dimensions=dimensions)


def gather_code(dimensions: int) -> str:
    """Custom update code copying ``PositionGradientAcc`` into
    ``Gradient<k>`` for the optimiser and clearing it."""
    check_dimensions(dimensions)
    return load_template("gather").substitute(copy="\n".join(
        f"{names.gathered_gradient(k)} = "
        f"{names.POSITION_GRADIENT_ACC}[(id * {dimensions}) + {k}];\n"
        f"{names.POSITION_GRADIENT_ACC}[(id * {dimensions}) + {k}] = 0.0;"
        for k in range(dimensions)))


def project_ball_code(dimensions: int) -> str:
    """Custom update code projecting ``X<k>`` into a ball."""
    check_dimensions(dimensions)
    return load_template("project_ball").substitute(
        offsets="\n".join(f"const scalar c{k} = {names.position(k)} - "
                          f"{names.ball_centre(k)};"
                          for k in range(dimensions)),
        squared_sum=_squared_sum("c", dimensions),
        shrink="\n".join(f"    {names.position(k)} = "
                         f"{names.ball_centre(k)} + (c{k} * shrink);"
                         for k in range(dimensions)))


def regrowth_code(dimensions: int) -> str:
    """DEEP R row code drawing new targets with probability decreasing with
    distance; source positions ``X<k>``, target positions in the
    ``TargetPositions`` array (``j * D + k``)."""
    check_dimensions(dimensions)
    return load_template("regrowth").substitute(
        displacements="\n".join(
            f"            const scalar dx{k} = {names.TARGET_POSITIONS}[(j * "
            f"{dimensions}) + {k}] - {names.position(k)};"
            for k in range(dimensions)),
        squared_sum=_squared_sum("dx", dimensions))
