#!/usr/bin/env bash
# Download, on a machine with access to the package index, the packages that
# benchmarks/gpu_check.sh installs on a GPU machine without network:
#
#     bash benchmarks/gpu_wheels.sh [DIR] [--python-version X.Y] [--debs]
#     bash benchmarks/gpu_check.sh GENN_SRC ML_GENN_SRC --wheels DIR
#
# Wheels (no dependencies resolved: the GPU machine has the rest):
#   pkgconfig               GeNN's build (its pyproject.toml)
#   deprecated, enum-compat mlGeNN's requirements
# --debs also downloads Debian packages (libffi-dev, pkgconf) that
# gpu_check.sh unpacks into a private prefix where the GPU machine has no
# pkg-config or no libffi headers (apt-get download: run apt-get update
# first; they must suit the GPU machine's distribution).
set -euo pipefail

usage() {
    sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

DIR=.whl
PYTHON_VERSION=3.12
DEBS=0
WHEELS=(pkgconfig deprecated enum-compat)
DEB_PACKAGES=(libffi-dev pkgconf pkgconf-bin libpkgconf3)

positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --python-version)
            [ $# -ge 2 ] || { echo "gpu_wheels.sh: error: --python-version needs X.Y" >&2; exit 2; }
            [[ $2 =~ ^3\.[0-9]+$ ]] || { echo "gpu_wheels.sh: error: --python-version must look like 3.12, not '$2'" >&2; exit 2; }
            PYTHON_VERSION=$2; shift ;;
        --debs) DEBS=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; echo "gpu_wheels.sh: error: unknown option $1" >&2; exit 2 ;;
        *) positional+=("$1") ;;
    esac
    shift
done
[ ${#positional[@]} -le 1 ] || { echo "gpu_wheels.sh: error: one folder at most" >&2; exit 2; }
[ ${#positional[@]} -eq 0 ] || DIR=${positional[0]}

mkdir -p "$DIR"
python3 -m pip download --no-deps --only-binary=:all: \
    --python-version "$PYTHON_VERSION" --dest "$DIR" "${WHEELS[@]}"
if [ "$DEBS" = 1 ]; then
    (cd "$DIR" && apt-get download "${DEB_PACKAGES[@]}")
fi
echo "gpu_wheels.sh: in $DIR:"
ls -1 "$DIR"
