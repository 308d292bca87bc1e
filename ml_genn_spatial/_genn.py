"""Checks for the optional GeNN / mlGeNN prerequisites.

The releases this package is built and tested against are pinned here, in
one place: ``setup.py`` reads the literal assignments below with ``ast``
(it cannot import the package before it is installed) for its ``genn``
extra, and :func:`require_genn` warns when other versions are installed.
"""
import importlib
import warnings
from importlib import metadata

#: GeNN release: git tag of github.com/genn-team/genn, and the version its
#: pygenn reports
GENN_TAG = "5.4.0"

#: mlGeNN release 2.4.0 (git tag of github.com/genn-team/ml_genn). The
#: setup.py of that tag still declares version 2.3.1, so that is the
#: version an install of the release reports
ML_GENN_TAG = "ml_genn_2_4_0"
ML_GENN_VERSION = "2.3.1"

_INSTALL_HINT = ("pygenn and ml_genn are not on the package index: on a "
                 "machine with a C++ compiler, libffi and internet access "
                 "`pip install -e \".[genn]\"` in this repository builds "
                 "both from their pinned releases (or build GeNN from source "
                 "with pip install . in a GeNN checkout and install mlGeNN "
                 "with pip install . in ml_genn/ml_genn of an mlGeNN "
                 "checkout), as README.md describes")

_PINNED_VERSIONS = {"pygenn": (GENN_TAG, f"GeNN tag {GENN_TAG}"),
                    "ml_genn": (ML_GENN_VERSION, f"mlGeNN tag {ML_GENN_TAG}")}
_versions_checked = False


class GeNNVersionWarning(UserWarning):
    """pygenn or ml_genn is not the release this package is tested with."""


def genn_available() -> bool:
    """True when both pygenn and ml_genn import."""
    try:
        importlib.import_module("pygenn")
        importlib.import_module("ml_genn")
    except ImportError:
        return False
    return True


def installed_version(distribution: str):
    """The version pip recorded for ``distribution``, or None when it has
    no metadata (e.g. imported from a source tree through PYTHONPATH)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def version_mismatches() -> list:
    """One line per installed pygenn / ml_genn whose version differs from
    the pinned release; empty when both match or have no metadata."""
    lines = []
    for distribution, (pinned, release) in _PINNED_VERSIONS.items():
        version = installed_version(distribution)
        # A local version label (5.4.0+cuda) is still the release
        if version is not None and version.split("+")[0] != pinned:
            lines.append(f"{distribution} {version} is installed; "
                         f"ml_genn_spatial is tested with {distribution} "
                         f"{pinned} ({release})")
    return lines


def check_genn_versions():
    """Warn (:class:`GeNNVersionWarning`) when the installed pygenn or
    ml_genn differs from the pinned releases. Other versions may work; the
    warning says which ones this package was tested with and how to get
    them."""
    lines = version_mismatches()
    if lines:
        warnings.warn("; ".join(lines) + ". Install the tested releases "
                      "with `pip install -e \".[genn]\"` (see README.md).",
                      GeNNVersionWarning, stacklevel=3)


def require_genn(feature: str):
    """Raise an ImportError that says how to install GeNN when it is missing;
    warn once per process when its version is not the pinned one.

    Args:
        feature: what the user asked for, named in the message
    """
    global _versions_checked
    for module in ("pygenn", "ml_genn"):
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ImportError(f"{feature} needs {module}, which cannot be "
                              f"imported ({error}). {_INSTALL_HINT}.") from error
    if not _versions_checked:
        _versions_checked = True
        check_genn_versions()
