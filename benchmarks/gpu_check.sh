#!/usr/bin/env bash
# Check a GPU install of ml_genn_spatial in one command (about 10 minutes on
# a 16-core machine with one H100/H200-class GPU):
#
#     bash benchmarks/gpu_check.sh [GENN_SRC [ML_GENN_SRC]] [options]
#
# Builds pygenn with its CUDA backend from a GeNN 5.4.0 source tree (CUDA_PATH
# from nvcc), installs mlGeNN 2.4.0 from its source tree and this package,
# all without network access, then runs, each step time-boxed and logged:
# the CUDA tests (pytest -m cuda), the benchmark at batch 32 and 256 for
# H = 256, and a short Yin-Yang training at batch 32. Logs, JSON and a
# Markdown summary go to --output. See benchmarks/README.md.
set -uo pipefail

usage() {
    cat <<EOF
Usage: bash benchmarks/gpu_check.sh [GENN_SRC [ML_GENN_SRC]] [options]

  GENN_SRC, --genn DIR        GeNN 5.4.0 source tree (not needed when pygenn
                              with its CUDA backend is already importable)
  ML_GENN_SRC, --ml-genn DIR  mlGeNN 2.4.0 source tree (its root or its
                              ml_genn/ folder; not needed when ml_genn is
                              already importable)
  --wheels DIR                wheels (and .deb files) to install first, with
                              no package index: benchmarks/gpu_wheels.sh DIR
                              downloads them on a machine with network
  --output DIR                logs, JSON and summary (default runs/gpu_check
                              in this checkout)
  --pytest-shards N           pytest processes sharing the CUDA tests
                              (tests/conftest.py's --shard K/N; default 8)
  --dry-run                   print every step with its time budget, run only
                              what needs no GPU, build nothing
  -h, --help                  this text
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
OUTPUT=""
GENN_SRC=""
ML_GENN_SRC=""
WHEELS=""
DRY_RUN=0
PYTEST_SHARDS=8

die() {
    echo "gpu_check.sh: error: $*" >&2
    exit 2
}

positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --genn) [ $# -ge 2 ] || die "--genn needs a folder"; GENN_SRC=$2; shift ;;
        --ml-genn) [ $# -ge 2 ] || die "--ml-genn needs a folder"; ML_GENN_SRC=$2; shift ;;
        --wheels) [ $# -ge 2 ] || die "--wheels needs a folder"; WHEELS=$2; shift ;;
        --output) [ $# -ge 2 ] || die "--output needs a folder"; OUTPUT=$2; shift ;;
        --pytest-shards)
            [ $# -ge 2 ] || die "--pytest-shards needs a number"
            [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--pytest-shards must be a whole number >= 1, not '$2'"
            PYTEST_SHARDS=$2; shift ;;
        --dry-run) DRY_RUN=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option $1" ;;
        *) positional+=("$1") ;;
    esac
    shift
done
[ ${#positional[@]} -le 2 ] || die "at most two source trees (GENN_SRC ML_GENN_SRC), got ${#positional[@]} arguments"
if [ ${#positional[@]} -ge 1 ]; then GENN_SRC=${positional[0]}; fi
if [ ${#positional[@]} -ge 2 ]; then ML_GENN_SRC=${positional[1]}; fi

# Source trees: absolute, and mlGeNN's package folder (ml_genn/ of its repo)
if [ -n "$GENN_SRC" ]; then
    [ -f "$GENN_SRC/setup.py" ] && [ -f "$GENN_SRC/version.txt" ] \
        || die "--genn $GENN_SRC: not a GeNN source tree (no setup.py and version.txt)"
    GENN_SRC=$(cd "$GENN_SRC" && pwd)
fi
if [ -n "$ML_GENN_SRC" ]; then
    if [ -f "$ML_GENN_SRC/ml_genn/setup.py" ]; then
        ML_GENN_SRC=$ML_GENN_SRC/ml_genn
    fi
    [ -f "$ML_GENN_SRC/setup.py" ] && [ -d "$ML_GENN_SRC/ml_genn" ] \
        || die "--ml-genn $ML_GENN_SRC: not an mlGeNN source tree (no ml_genn/setup.py)"
    ML_GENN_SRC=$(cd "$ML_GENN_SRC" && pwd)
fi
if [ -n "$WHEELS" ]; then
    [ -d "$WHEELS" ] || die "--wheels $WHEELS: no such folder"
    WHEELS=$(cd "$WHEELS" && pwd)
fi

# --output relative to where the command runs; by default the checkout's
# runs/gpu_check
case "$OUTPUT" in
    "") OUTPUT=$REPO/runs/gpu_check ;;
    /*) ;;
    *) OUTPUT=$PWD/$OUTPUT ;;
esac
cd "$REPO" || exit 2
# Only ever an empty folder or an earlier check's output is cleared
if [ -d "$OUTPUT" ] && [ -n "$(ls -A "$OUTPUT")" ] && [ ! -f "$OUTPUT/steps.tsv" ]; then
    die "--output $OUTPUT is not empty and holds no earlier GPU check: choose a new folder"
fi
mkdir -p "$OUTPUT" || die "--output $OUTPUT: cannot create it"
OUTPUT=$(cd "$OUTPUT" && pwd)
# This check's own files only: a rerun starts clean
rm -rf "$OUTPUT/logs" "$OUTPUT/benchmark" "$OUTPUT/yin_yang" "$OUTPUT/prefix" \
    "$OUTPUT/steps.tsv" "$OUTPUT/summary.md" "$OUTPUT/summary.json" \
    "$OUTPUT"/pytest_shard*.xml "$OUTPUT/pytest_tmp"
mkdir -p "$OUTPUT/logs"
STEPS=$OUTPUT/steps.tsv
: > "$STEPS"

# Time budget of every step [s]; together at most 10 minutes of wall time.
# Building pygenn takes 1-2 minutes on 16 cores; nvcc builds dominate the
# rest (the CUDA cases build about 80 models, shared by --pytest-shards
# processes; the benchmark's --build-jobs build in parallel)
BUDGET_WHEELS=15
BUDGET_PYGENN=150
BUDGET_ML_GENN=15
BUDGET_PROJECT=20
BUDGET_VERSIONS=10
BUDGET_PYTEST=200
BUDGET_BENCH_SHD_256=50
BUDGET_BENCH_SHD_32=35
BUDGET_BENCH_YY_256=30
BUDGET_BENCH_YY_32=30
BUDGET_YIN_YANG=45
BUDGET_TOTAL=$((BUDGET_WHEELS + BUDGET_PYGENN + BUDGET_ML_GENN + BUDGET_PROJECT
    + BUDGET_VERSIONS + BUDGET_PYTEST + BUDGET_BENCH_SHD_256 + BUDGET_BENCH_SHD_32
    + BUDGET_BENCH_YY_256 + BUDGET_BENCH_YY_32 + BUDGET_YIN_YANG))

have_module() {
    "$PYTHON" -c "import $1" >/dev/null 2>&1
}

pygenn_has_cuda() {
    "$PYTHON" - >/dev/null 2>&1 <<'EOF'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("pygenn")
folder = pathlib.Path(spec.origin).parent
sys.exit(0 if list(folder.glob("cuda_backend*")) else 1)
EOF
}

step_number=0
failures=0

# record NAME STATUS SECONDS BUDGET LOG COMMAND (one line of steps.tsv)
record() {
    local field line=""
    for field in "$@"; do
        line+=$(printf '%s' "$field" | tr '\t\n' '  ')$'\t'
    done
    printf '%s\n' "${line%$'\t'}" >> "$STEPS"
}

# step NAME BUDGET NEEDS COMMAND...
#   NEEDS: "none" (runs in --dry-run too) or "gpu" (printed in --dry-run);
#   STEP_SHOW, when set, is what is printed instead of the command
step() {
    local name=$1 budget=$2 needs=$3
    shift 3
    step_number=$((step_number + 1))
    local log
    log=$OUTPUT/logs/$(printf '%02d' "$step_number")_$name.log
    local shown
    shown=$(printf '%s' "${STEP_SHOW:-$*}" | tr -s '\n ' '  ')
    if [ "$DRY_RUN" = 1 ] && [ "$needs" != none ]; then
        printf '[dry-run] %-16s %4s s  would run: %s\n' "$name" "$budget" "$shown"
        record "$name" dry-run 0 "$budget" "" "$shown"
        return 0
    fi
    printf '[%s] %-16s %4s s  %s\n' "$(date +%H:%M:%S)" "$name" "$budget" "$shown"
    local start end status rc
    start=$(date +%s)
    {
        echo "\$ $shown"
        timeout --kill-after=10 "$budget" "$@"
    } > "$log" 2>&1
    rc=$?
    end=$(date +%s)
    case $rc in
        0) status=ok ;;
        124|137) status=timeout ;;
        *) status="failed (exit $rc)" ;;
    esac
    if [ "$rc" != 0 ]; then
        failures=$((failures + 1))
        echo "    $status after $((end - start)) s; last lines of $log:"
        tail -n 15 "$log" | sed 's/^/    | /'
    else
        echo "    ok in $((end - start)) s"
    fi
    record "$name" "$status" "$((end - start))" "$budget" "$log" "$shown"
    return "$rc"
}

skip() {
    local name=$1 budget=$2 reason=$3
    step_number=$((step_number + 1))
    printf '[skip]    %-16s %4s s  %s\n' "$name" "$budget" "$reason"
    record "$name" "skipped: $reason" 0 "$budget" "" ""
}

echo "gpu_check.sh: ${BUDGET_TOTAL} s of step budgets in all; output in $OUTPUT"
[ "$DRY_RUN" = 1 ] && echo "gpu_check.sh: dry run: nothing is built and nothing runs on a GPU"

# ---- environment ------------------------------------------------------------
{
    echo "python: $("$PYTHON" -c 'import sys; print(sys.version.split()[0])' 2>&1)"
    echo "nvcc: $(command -v nvcc || echo 'not found')"
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
    else
        echo "nvidia-smi: not found"
    fi
    echo "cores: $(nproc 2>/dev/null || echo '?')"
} > "$OUTPUT/logs/environment.txt" 2>&1
sed 's/^/    /' "$OUTPUT/logs/environment.txt"

if command -v nvcc >/dev/null 2>&1; then
    # The toolkit nvcc belongs to: its TOP (nvcc may be a wrapper script),
    # else the folder above its bin/
    cuda_top=$(nvcc --dryrun -x cu -c /dev/null -o /dev/null 2>&1 \
        | sed -n 's/^#\$ TOP=//p' | head -n 1)
    [ -n "$cuda_top" ] || cuda_top=$(dirname "$(readlink -f "$(command -v nvcc)")")/..
    export CUDA_PATH=${CUDA_PATH:-$(readlink -f "$cuda_top")}
    echo "    CUDA_PATH=$CUDA_PATH"
elif [ "$DRY_RUN" = 0 ]; then
    die "nvcc is not on the PATH: the CUDA backend needs a CUDA toolkit"
fi

# ---- set-up: wheels, pygenn, ml_genn, this package ----------------------------
if [ -n "$WHEELS" ]; then
    shopt -s nullglob
    wheels=("$WHEELS"/*.whl)
    debs=("$WHEELS"/*.deb)
    shopt -u nullglob
    if [ ${#wheels[@]} -gt 0 ]; then
        step wheels "$BUDGET_WHEELS" gpu "$PYTHON" -m pip install --no-index \
            --no-deps --no-build-isolation "${wheels[@]}"
    else
        skip wheels "$BUDGET_WHEELS" "no .whl files in $WHEELS"
    fi
    # Debian packages (libffi-dev, pkgconf) for GeNN's build, unpacked into a
    # private prefix when the system has no pkg-config or no libffi.pc
    if [ ${#debs[@]} -gt 0 ] && ! pkg-config --exists libffi 2>/dev/null; then
        prefix=$OUTPUT/prefix
        # shellcheck disable=SC2016  # expanded by the inner shell
        step debs 10 gpu bash -c 'for d in "${@:2}"; do dpkg-deb -x "$d" "$1" || exit; done' \
            _ "$prefix" "${debs[@]}"
        if [ "$DRY_RUN" = 0 ]; then
            multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
            libdir=$prefix/usr/lib/$multiarch
            if [ ! -e "$prefix/usr/bin/pkg-config" ] && [ -e "$prefix/usr/bin/pkgconf" ]; then
                ln -sf pkgconf "$prefix/usr/bin/pkg-config"
            fi
            # The packaged libffi.so names the package's own libffi.so.8.x:
            # link to the one the system has instead
            system_ffi=$(ldconfig -p 2>/dev/null | awk '/libffi\.so\.[0-9]/ {print $NF; exit}')
            if [ -n "$system_ffi" ]; then
                ln -sf "$system_ffi" "$libdir/libffi.so"
            fi
            # ffi.h sits in the multiarch include folder, which the compiler
            # searches under /usr only
            export PATH=$prefix/usr/bin:$PATH
            export CPATH=$prefix/usr/include/$multiarch:$prefix/usr/include${CPATH:+:$CPATH}
            export LIBRARY_PATH=$libdir${LIBRARY_PATH:+:$LIBRARY_PATH}
            export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
            export PKG_CONFIG_PATH=$libdir/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
        fi
    fi
else
    skip wheels "$BUDGET_WHEELS" "no --wheels folder given"
fi

if [ -n "$GENN_SRC" ]; then
    step pygenn "$BUDGET_PYGENN" gpu env CUDA_PATH="${CUDA_PATH:-/usr/local/cuda}" \
        "$PYTHON" -m pip install --no-index --no-deps --no-build-isolation -v "$GENN_SRC"
elif have_module pygenn; then
    if pygenn_has_cuda; then
        skip pygenn "$BUDGET_PYGENN" "pygenn with its CUDA backend is already importable"
    elif [ "$DRY_RUN" = 1 ]; then
        skip pygenn "$BUDGET_PYGENN" "pygenn is importable but has no CUDA backend: a GPU run needs --genn DIR"
    else
        die "the installed pygenn has no CUDA backend: pass GeNN's source tree (--genn DIR) to build it with CUDA_PATH=${CUDA_PATH:-}"
    fi
elif [ "$DRY_RUN" = 1 ]; then
    printf '[dry-run] %-16s %4s s  would build pygenn with its CUDA backend from a GeNN 5.4.0 source tree (--genn DIR; not given)\n' pygenn "$BUDGET_PYGENN"
    record pygenn "dry-run" 0 "$BUDGET_PYGENN" "" "pip install GENN_SRC"
else
    die "pygenn is not importable: pass the GeNN 5.4.0 source tree (--genn DIR)"
fi

if [ -n "$ML_GENN_SRC" ]; then
    step ml_genn "$BUDGET_ML_GENN" gpu "$PYTHON" -m pip install --no-index \
        --no-deps --no-build-isolation "$ML_GENN_SRC"
elif have_module ml_genn; then
    skip ml_genn "$BUDGET_ML_GENN" "ml_genn is already importable"
elif [ "$DRY_RUN" = 1 ]; then
    printf '[dry-run] %-16s %4s s  would install mlGeNN from its 2.4.0 source tree (--ml-genn DIR; not given)\n' ml_genn "$BUDGET_ML_GENN"
    record ml_genn "dry-run" 0 "$BUDGET_ML_GENN" "" "pip install ML_GENN_SRC"
else
    die "ml_genn is not importable: pass the mlGeNN 2.4.0 source tree (--ml-genn DIR)"
fi

# This package: editable from this checkout unless that is installed
# (asked outside the checkout, where the folder itself would import)
installed_here=$(cd / && "$PYTHON" -c "import os, ml_genn_spatial as m; print(os.path.dirname(os.path.dirname(os.path.abspath(m.__file__))))" 2>/dev/null)
if [ "$installed_here" = "$REPO" ]; then
    skip project "$BUDGET_PROJECT" "ml_genn_spatial already imports from $REPO"
else
    step project "$BUDGET_PROJECT" gpu "$PYTHON" -m pip install --no-index \
        --no-deps --no-build-isolation -e "$REPO"
fi

STEP_SHOW="import pygenn, ml_genn, ml_genn_spatial; CUDA backend usable?" \
step versions "$BUDGET_VERSIONS" gpu "$PYTHON" -c "
import ml_genn, pygenn, ml_genn_spatial
from pygenn.genn_model import backend_modules
from ml_genn_spatial._genn import version_mismatches
print('pygenn', pygenn.__version__, 'backends', list(backend_modules))
print('\n'.join(version_mismatches()) or 'pinned GeNN and mlGeNN releases')
assert 'cuda' in backend_modules, 'pygenn has no usable CUDA backend (GPU and driver visible?)'
" || echo "    the CUDA steps below will fail: see the versions log"

# ---- (a) CUDA tests and batch-N oracles -------------------------------------
# PYTEST_SHARDS processes, each with every N-th CUDA case (conftest's
# --shard K/N), its own temporary folder and JUnit file: the nvcc builds of
# the cases run side by side. Fails when any shard fails.
run_cuda_shards() {
    local n=$1 k pids=() rc=0
    shift
    for ((k = 0; k < n; k++)); do
        "$@" --shard "$k/$n" --basetemp "$OUTPUT/pytest_tmp/shard$k" \
            --junitxml "$OUTPUT/pytest_shard$k.xml" \
            > "$OUTPUT/logs/pytest_shard$k.log" 2>&1 &
        pids+=($!)
    done
    for ((k = 0; k < n; k++)); do
        if ! wait "${pids[$k]}"; then
            rc=1
            echo "shard $k/$n failed: last lines of its log"
            tail -n 20 "$OUTPUT/logs/pytest_shard$k.log"
        else
            tail -n 3 "$OUTPUT/logs/pytest_shard$k.log"
        fi
    done
    return "$rc"
}
if [ "$DRY_RUN" = 1 ]; then
    # Collecting the CUDA cases needs no GPU (they skip without one)
    # shellcheck disable=SC2016  # expanded by the inner shell
    STEP_SHOW="$PYTHON -m pytest -m cuda --collect-only -q" \
    step collect-cuda 60 none bash -c '"$@"; rc=$?
        if [ "$rc" = 5 ]; then echo "no test is marked cuda"; exit 0; fi
        exit "$rc"' _ "$PYTHON" -m pytest -m cuda -p no:cacheprovider \
        --collect-only -q
fi
export -f run_cuda_shards
export OUTPUT
# shellcheck disable=SC2016  # expanded by the inner shell
STEP_SHOW="$PYTHON -m pytest -m cuda --shard K/$PYTEST_SHARDS (K = 0 ... $((PYTEST_SHARDS - 1)), side by side)" \
step pytest-cuda "$BUDGET_PYTEST" gpu bash -c 'run_cuda_shards "$@"' _ \
    "$PYTEST_SHARDS" "$PYTHON" -m pytest -m cuda -p no:cacheprovider -q -rs

# ---- (b) benchmark, H = 256, batch 256 and 32 (SHD-like first) --------------
bench_common=(--cuda --hidden 256 --modes weights delays spatial-2d spatial-3d
    weights-sparse delays-sparse spatial-2d-sparse spatial-3d-sparse
    --warmup 3 --repeats 2 --block 1 --build-jobs 8)
if [ "$DRY_RUN" = 1 ]; then
    STEP_SHOW="benchmarks.run.parse_args(<the options below>)" \
    step bench-options 30 none "$PYTHON" -c "
import sys
from benchmarks.run import parse_args
parse_args(sys.argv[1:])
print('benchmarks/run.py accepts the options of the GPU check')" \
        "${bench_common[@]}" --batch-sizes 32 --shapes shd yin_yang
fi
for spec in shd:256:$BUDGET_BENCH_SHD_256 shd:32:$BUDGET_BENCH_SHD_32 \
        yin_yang:256:$BUDGET_BENCH_YY_256 yin_yang:32:$BUDGET_BENCH_YY_32; do
    IFS=: read -r shape batch budget <<< "$spec"
    folder=$OUTPUT/benchmark/${shape}_b$batch
    [ "$DRY_RUN" = 1 ] || mkdir -p "$folder"
    # The Markdown report to report.md, progress to the step's log; a build
    # or block may take the whole step's budget
    # shellcheck disable=SC2016  # expanded by the inner shell
    STEP_SHOW="$PYTHON benchmarks/run.py ${bench_common[*]} --shapes $shape --batch-sizes $batch --timeout $budget --output $folder > $folder/report.md" \
    step "bench-${shape}-b$batch" "$budget" gpu bash -c '"$@" > "$0"' \
        "$folder/report.md" "$PYTHON" benchmarks/run.py "${bench_common[@]}" \
        --shapes "$shape" --batch-sizes "$batch" --timeout "$budget" \
        --output "$folder"
done

# ---- (c) Yin-Yang training at batch 32, a few epochs -------------------------
yin_yang_args=(--backend cuda --batch-size 32 --epochs 3 --output "$OUTPUT/yin_yang")
if [ "$DRY_RUN" = 1 ]; then
    # shellcheck disable=SC2016  # expanded by the inner shell
    STEP_SHOW="$PYTHON examples/yin_yang.py --help: has ${yin_yang_args[*]:0:1} --batch-size --epochs --output" \
    step yin-yang-options 30 none bash -c '
        help=$("$1" examples/yin_yang.py --help) || exit
        for option in --backend --batch-size --epochs --output; do
            grep -q -- "$option" <<< "$help" || { echo "examples/yin_yang.py has no $option"; exit 1; }
        done
        echo "examples/yin_yang.py accepts the options of the GPU check"' _ "$PYTHON"
fi
step yin-yang "$BUDGET_YIN_YANG" gpu "$PYTHON" examples/yin_yang.py "${yin_yang_args[@]}"

# ---- summary ----------------------------------------------------------------
"$PYTHON" "$REPO/benchmarks/gpu_summary.py" "$OUTPUT" "$DRY_RUN" "$BUDGET_TOTAL" \
    || { echo "gpu_check.sh: could not write the summary" >&2; failures=$((failures + 1)); }
if [ "$failures" -gt 0 ]; then
    echo "gpu_check.sh: $failures step(s) failed; see $OUTPUT/summary.md and $OUTPUT/logs/"
    exit 1
fi
echo "gpu_check.sh: every step passed; summary in $OUTPUT/summary.md"
