"""The GeNN code that ml_genn_spatial.codegen renders from snippets/, for
D = 1, 2, 3: what it computes (run as Python where it is straight-line
code, against the NumPy maths of ml_genn_spatial.geometry) and what it
reads and writes. No GeNN needed."""
import ast
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ml_genn_spatial import codegen, names
from ml_genn_spatial.geometry import delay_steps, distance

DIMENSIONS = [1, 2, 3]
PACKAGE = Path(__file__).resolve().parents[1] / "ml_genn_spatial"


def c_round(x):
    """C's round(): halves away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def py_ternary(expression: str) -> str:
    """C's ``(cond) ? a : b`` (nested in the else part) as Python's."""
    match = re.fullmatch(r"\s*(\([^?]*?\))\s*\?\s*([^:]+?)\s*:\s*(.+)",
                         expression)
    if match is None:
        return expression
    condition, then, otherwise = match.groups()
    otherwise = otherwise.strip()
    if otherwise.startswith("(") and otherwise.endswith(")"):
        otherwise = f"({py_ternary(otherwise[1:-1])})"
    return f"({then} if {condition} else {otherwise})"


def run_c(code: str, **namespace) -> dict:
    """Run straight-line GeNN code (declarations, assignments, ``if``
    blocks, conditional expressions) as Python in ``namespace`` and return
    it."""
    lines = []
    for line in code.splitlines():
        line = re.sub(r"//.*$", "", line).rstrip()
        if not line.strip() or line.strip() == "}":
            continue
        if re.match(r"^\s*(const\s+)?unsigned int\s", line):
            # Integer division of unsigned indices
            line = line.replace(" / ", " // ")
        line = re.sub(r"^(\s*)(const\s+)?(unsigned int|scalar|int)\s+",
                      r"\1", line)
        line = line.replace("(int)round(", "c_round(")
        line = line.replace("&&", "and").replace("||", "or")
        line = re.sub(r"^(\s*)if\s*\((.*)\)\s*\{$", r"\1if \2:", line)
        if "?" in line:
            target, expression = line.split(" = ", 1)
            line = f"{target} = {py_ternary(expression.rstrip(';'))}"
        lines.append(line.rstrip(";"))
    namespace = {"sqrt": math.sqrt, "c_round": c_round, "max": max,
                 "min": min, "fabs": abs, **namespace}
    exec(textwrap.dedent("\n".join(lines)), namespace)
    return namespace


def test_every_template_renders_without_unfilled_slots():
    rendered = []
    for d in DIMENSIONS:
        rendered += [
            codegen.forward_code(d), codegen.backward_code(d, True),
            codegen.backward_code(d, False), codegen.scatter_code(d),
            codegen.scatter_code(d, wiring_cost=True),
            codegen.accumulate_code(d), codegen.gather_code(d),
            codegen.project_ball_code(d), codegen.regrowth_code(d),
            codegen.position_sync_code(d), codegen.target_positions_code(d)]
    for zero in (True, False):
        for wiring in (True, False):
            for dense in (True, False):
                rendered += [codegen.transpose_code(zero, wiring, dense, d)
                             for d in DIMENSIONS]
    for d in DIMENSIONS:
        rendered += [codegen.forward_code(d, stored=True),
                     codegen.backward_code(d, True, stored=True),
                     codegen.position_table_code(d),
                     codegen.synapse_delay_code(d, dense=True),
                     codegen.synapse_delay_code(d, dense=False)]
    rendered += [codegen.batch_reduce_code(), codegen.scatter_condition_code(),
                 codegen.back_spike_condition_code(),
                 codegen.mirror_rows_code(), codegen.mirror_rebuild_code()]
    for code in rendered:
        assert "$" not in code, code


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_distance_delay_code_computes_the_geometry_of_the_synapse(
        dimensions):
    rng = np.random.default_rng(dimensions)
    scale, offset, eps, max_delay = 7.5, 0.5, 0.1, 12
    pre = rng.uniform(-1, 1, (20, dimensions))
    post = rng.uniform(-1, 1, (20, dimensions))
    expected_dist = distance(pre, post, eps=eps, pre_ind=np.arange(20),
                             post_ind=np.arange(20))
    expected_delay = delay_steps(expected_dist, scale, offset, max_delay)
    code = codegen.distance_delay_code(dimensions)
    for s in range(20):
        values = run_c(
            code, Scale=scale, Offset=offset, Eps=eps, MaxDelay=max_delay,
            **{names.position_pre(k): pre[s, k] for k in range(dimensions)},
            **{names.position_post(k): post[s, k]
               for k in range(dimensions)})
        assert values["dist"] == pytest.approx(expected_dist[s], rel=1e-12)
        assert values["delay"] == expected_delay[s]
    # Exactly the D coordinates: no more, no fewer
    assert len(re.findall(r"const scalar dx\d", code)) == dimensions
    assert f"{names.position_post(dimensions)}" not in code


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_forward_and_backward_code_use_the_distance_delay(dimensions):
    forward = codegen.forward_code(dimensions)
    assert forward.startswith(codegen.distance_delay_code(dimensions))
    assert "addToPostDelay(g, delay);" in forward
    backward = codegen.backward_code(dimensions, feedback=False)
    assert "Gradient -= LambdaI_post[delay] * TauSyn;" in backward
    assert (f"{names.POSITION_DELAY_GRADIENT} -= g * (LambdaI_post[delay] "
            f"- LambdaV_post[delay]);") in backward
    assert "addToPre" not in backward
    feedback = codegen.backward_code(dimensions, feedback=True)
    assert ("addToPre(g * (LambdaV_post[delay] - LambdaI_post[delay]));"
            in feedback)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_stored_delay_code_matches_the_distance_delay(dimensions, dense):
    # PositionTableUpdate then PositionDelay store, for every synapse, the
    # delay that distance_delay_code computes at each spike
    rng = np.random.default_rng(10 + dimensions)
    scale, offset, eps, max_delay = 7.5, 0.5, 0.1, 12
    num_pre, num_post = 4, 5
    pre = rng.uniform(-1, 1, (num_pre, dimensions))
    post = rng.uniform(-1, 1, (num_post, dimensions))
    tables = []
    for positions in (pre, post):
        table = [0.0] * positions.size
        for i in range(len(positions)):
            run_c(codegen.position_table_code(dimensions), id=i,
                  **{names.POSITION_TABLE: table},
                  **{names.position(k): positions[i, k]
                     for k in range(dimensions)})
        np.testing.assert_array_equal(table, positions.reshape(-1))
        tables.append(table)
    code = codegen.synapse_delay_code(dimensions, dense=dense)
    params = {"Scale": scale, "Offset": offset, "Eps": eps,
              "MaxDelay": max_delay}
    for i in range(num_pre):
        for j in range(num_post):
            ends = ({"id_syn": i * num_post + j} if dense
                    else {"id_pre": i, "id_post": j})
            stored = run_c(code, num_post=num_post,
                           **{names.PRE_POSITION_TABLE: tables[0],
                              names.POST_POSITION_TABLE: tables[1]},
                           **params, **ends)[names.SYNAPSE_DELAY]
            computed = run_c(
                codegen.distance_delay_code(dimensions), **params,
                **{names.position_pre(k): pre[i, k]
                   for k in range(dimensions)},
                **{names.position_post(k): post[j, k]
                   for k in range(dimensions)})["delay"]
            assert stored == computed
    assert ("id_pre" in code) != dense


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_stored_forward_and_backward_code_read_the_stored_delay(dimensions):
    read = f"const int delay = {names.SYNAPSE_DELAY};"
    forward = codegen.forward_code(dimensions, stored=True)
    backward = codegen.backward_code(dimensions, True, stored=True)
    for code in (forward, backward):
        assert read in code
        assert "sqrt" not in code and names.POSITION_PRE not in code
    assert forward.endswith(codegen.forward_code(dimensions).split(
        codegen.distance_delay_code(dimensions))[1])
    assert backward.split(read + "\n")[1] == codegen.backward_code(
        dimensions, True).split(codegen.distance_delay_code(dimensions))[1]


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_scatter_code_picks_component_k_of_the_displacement(dimensions):
    code = codegen.scatter_code(dimensions)
    direction = re.search(r"const scalar direction = (.*);", code).group(1)
    displacement = {f"dx{k}": 10.0 * (k + 1) for k in range(dimensions)}

    def evaluate(expression, component):
        # (component == k) ? dx<k> : (<the same for the other components>)
        match = re.fullmatch(r"\(component == (\d+)\) \? (\w+) : \((.*)\)",
                             expression)
        if match is None:
            return displacement[expression]
        if component == int(match.group(1)):
            return displacement[match.group(2)]
        return evaluate(match.group(3), component)

    for k in range(dimensions):
        assert evaluate(direction, k) == displacement[f"dx{k}"]
    assert "addToPost(v);" in code and "addToPre(-v);" in code
    assert names.WIRING_T not in code
    wiring = codegen.scatter_code(dimensions, wiring_cost=True)
    assert f"const scalar wiring = {names.WIRING_T}[id_syn];" in wiring
    # The scatter only reads its arrays: the transpose owns them
    for array in (names.DELAY_GRADIENT_T, names.WIRING_T):
        assert not re.search(rf"{array}\[[^]]*\]\s*=[^=]", wiring)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_accumulate_code_adds_component_s_minus_1_in_step_s(dimensions):
    code = codegen.accumulate_code(dimensions)
    num_neurons, dt = 3, 0.5
    for step in range(dimensions + 3):
        acc = [0.0] * (num_neurons * dimensions)
        run_c(code, t=step * dt, dt=dt, batch=0, id=1,
              PositionGradientAcc=acc, PositionGradientIn=2.0)
        expected = [0.0] * len(acc)
        if 1 <= step <= dimensions:
            expected[dimensions + step - 1] = 2.0
        assert acc == expected
    acc = [0.0] * (num_neurons * dimensions)
    run_c(code, t=dt, dt=dt, batch=1, id=1, PositionGradientAcc=acc,
          PositionGradientIn=2.0)
    assert acc == [0.0] * len(acc)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_gather_code_hands_over_and_clears_the_array(dimensions):
    acc = list(np.arange(2 * dimensions, dtype=float) + 1.0)
    values = run_c(codegen.gather_code(dimensions), id=1,
                   PositionGradientAcc=acc)
    for k in range(dimensions):
        assert values[names.gathered_gradient(k)] == dimensions + k + 1.0
    assert acc[dimensions:] == [0.0] * dimensions
    assert acc[:dimensions] == list(np.arange(dimensions) + 1.0)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_project_ball_code_projects_like_space_project(dimensions):
    from ml_genn_spatial import Space
    rng = np.random.default_rng(5)
    centre = rng.uniform(-1, 1, dimensions)
    space = Space(dimensions, radius=1.5, centre=centre)
    positions = centre + rng.uniform(-3, 3, (30, dimensions))
    code = codegen.project_ball_code(dimensions)
    projected = []
    for p in positions:
        values = run_c(code, Radius=1.5,
                       **{f"Centre{k}": centre[k] for k in range(dimensions)},
                       **{names.position(k): p[k]
                          for k in range(dimensions)})
        projected.append([values[names.position(k)]
                          for k in range(dimensions)])
    np.testing.assert_allclose(projected, space.project(positions),
                               rtol=1e-12)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_position_copies(dimensions):
    x = {names.position(k): 0.5 * (k + 1) for k in range(dimensions)}
    values = run_c(codegen.position_sync_code(dimensions), **x)
    for k in range(dimensions):
        assert values[f"Copy{k}"] == x[names.position(k)]
    target = [0.0] * (3 * dimensions)
    run_c(codegen.target_positions_code(dimensions), id=2,
          TargetPositions=target, **x)
    assert target[2 * dimensions:] == [x[names.position(k)]
                                       for k in range(dimensions)]
    assert target[:2 * dimensions] == [0.0] * (2 * dimensions)


def test_batch_reduce_code_moves_the_gradient():
    values = run_c(codegen.batch_reduce_code(), Gradient=3.0)
    assert values["Reduced"] == 3.0 and values["Gradient"] == 0.0


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("zero_source", [True, False])
def test_transpose_code_writes_the_mirror_element(dense, zero_source):
    """DENSE: the mirror runs post -> pre, element post * num_pre + pre;
    SPARSE: the mirror has the connection's rows, element id_syn (slot k
    of row pre at pre * row_stride + k)."""
    code = codegen.transpose_code(zero_source=zero_source, dense=dense)
    num_pre, num_post, row_stride = 3, 4, 5
    for pre in range(num_pre):
        for post in range(num_post):
            slot = (post + 2 * pre) % row_stride    # any slot of the row
            mirror = [0.0] * (num_pre * max(num_post, row_stride))
            ends = ({"id_syn": pre * num_post + post} if dense
                    else {"id_pre": pre, "id_post": post,
                          "id_syn": pre * row_stride + slot})
            values = run_c(code,
                           num_pre=num_pre, num_post=num_post,
                           DelayGradientT=mirror, Gradient=2.5, **ends)
            expected = [0.0] * len(mirror)
            expected[(post * num_pre + pre) if dense
                     else (pre * row_stride + slot)] = 2.5
            assert mirror == expected
            assert values["Gradient"] == (0.0 if zero_source else 2.5)


@pytest.mark.parametrize("dimensions", DIMENSIONS)
@pytest.mark.parametrize("dense", [True, False])
def test_transpose_code_applies_the_wiring_cost_at_the_table_distance(
        dimensions, dense):
    """Weight part strength * sign(w) * dist / num_batch, with dist from the
    position tables (geometry.distance, the NumPy reference's), and
    strength * |w| handed to the mirror."""
    rng = np.random.default_rng(dimensions)
    eps, strength, num_batch = 0.1, 0.02, 4
    pre_positions = rng.uniform(-1, 1, (3, dimensions))
    post_positions = rng.uniform(-1, 1, (4, dimensions))
    code = codegen.transpose_code(zero_source=False, wiring_cost=True,
                                  dense=dense, dimensions=dimensions)
    for pre in range(3):
        for post in range(4):
            for weight in (-0.7, 0.0, 0.4):
                ends = ({"id_syn": pre * 4 + post} if dense
                        else {"id_pre": pre, "id_post": post,
                              "id_syn": pre * 4 + post})
                wiring = [0.0] * 12
                values = run_c(
                    code, num_pre=3, num_post=4, num_batch=num_batch,
                    Eps=eps, WiringCost=strength, Weight=weight,
                    WeightGradient=1.0, Gradient=0.0,
                    DelayGradientT=[0.0] * 12, WiringT=wiring,
                    PreTable=list(pre_positions.reshape(-1)),
                    PostTable=list(post_positions.reshape(-1)), **ends)
                dist = distance(pre_positions[pre:pre + 1],
                                post_positions[post:post + 1], eps)[0, 0]
                np.testing.assert_allclose(
                    values["WeightGradient"],
                    1.0 + strength * np.sign(weight) * dist / num_batch,
                    rtol=1e-12)
                index = (post * 3 + pre) if dense else (pre * 4 + post)
                assert wiring[index] == pytest.approx(strength * abs(weight))


def test_mirror_row_copy_keeps_the_order_of_the_row():
    rows = codegen.mirror_rows_code()
    rebuild = codegen.mirror_rebuild_code()
    gradient = names.DELAY_GRADIENT_T
    # The rows: every synapse's target in the group's order, then -1
    assert f"{gradient}[rowStart + length] = (scalar)id_post;" in rows
    assert f"{gradient}[rowStart + k] = -1.0;" in rows
    assert "for (unsigned int k = length; k < row_stride; k++)" in rows
    # The rebuild: empty the row, then add the targets in that order up to
    # the first -1, clearing what it read
    assert rebuild.index("remove_synapse();") < rebuild.index("add_synapse(")
    assert "if (target < 0.0) {" in rebuild
    assert "add_synapse((unsigned int)target);" in rebuild
    assert f"{gradient}[rowStart + k] = 0.0;" in rebuild


def test_transpose_code_derives_dense_synapse_ends_from_the_synapse_index():
    dense = codegen.transpose_code(zero_source=False, dense=True)
    sparse = codegen.transpose_code(zero_source=False, dense=False)
    # GeNN 5.4.0's CUDA code for DENSE custom updates cannot read
    # id_pre / id_post (their declarations lack semicolons)
    assert "id_pre" not in dense and "id_post" not in dense
    assert "id_syn / num_post" in dense and "id_syn % num_post" in dense
    assert "= id_pre;" in sparse and "= id_post;" in sparse
    for code in (dense, sparse):
        assert "DelayGradientT[mirrorIndex] = Gradient;" in code


@pytest.mark.parametrize("dimensions", DIMENSIONS)
def test_regrowth_code_measures_distances_to_target_positions(dimensions):
    code = codegen.regrowth_code(dimensions)
    for k in range(dimensions):
        assert (f"const scalar dx{k} = {names.TARGET_POSITIONS}[(j * "
                f"{dimensions}) + {k}] - {names.position(k)};") in code
    assert f"dx{dimensions}" not in code
    assert "exp(-dist / RegrowthLength)" in code


def test_conditions_are_the_templates():
    assert codegen.scatter_condition_code().strip().endswith(
        "ScatterEnabled && batch == 0 && t < ((ScatterSteps - 0.5) * dt)")
    assert codegen.back_spike_condition_code().strip().endswith(
        "BackSpike_pre")


def _inline_code_strings(path: Path) -> list:
    """String literals given as GeNN code (``*_code`` dict keys and keyword
    arguments) in a Python module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        pairs = []
        if isinstance(node, ast.Dict):
            pairs = [(k.value, v) for k, v in zip(node.keys, node.values)
                     if isinstance(k, ast.Constant)
                     and isinstance(k.value, str)]
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        for key, value in pairs:
            # A literal, an f-string, a sum of them or "...".join(...)
            joined = (isinstance(value, ast.Call)
                      and isinstance(value.func, ast.Attribute)
                      and isinstance(value.func.value, ast.Constant))
            if key.endswith("_code") and (joined or isinstance(
                    value, (ast.Constant, ast.JoinedStr, ast.BinOp))):
                found.append(f"{path.name}:{node.lineno} {key}")
    return found


def test_no_genn_code_is_written_inline_in_the_package():
    found = [hit for path in sorted(PACKAGE.rglob("*.py"))
             for hit in _inline_code_strings(path)]
    assert found == []


def test_the_inline_code_finder_finds_inline_code(tmp_path):
    module = tmp_path / "inline.py"
    module.write_text('model = {"update_code": "X0 = 1.0;"}\n'
                      'f(sim_code=f"V = {1};")\n'
                      'g = {"update_code": "\\n".join(["A = B;"])}\n'
                      'h = {"update_code": codegen.gather_code(2)}\n')
    assert len(_inline_code_strings(module)) == 3
