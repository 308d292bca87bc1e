"""Checks for the optional GeNN / mlGeNN prerequisites."""
import importlib

_INSTALL_HINT = ("pygenn and ml_genn are not on the package index: build "
                 "GeNN from source (pip install . in a GeNN checkout) and "
                 "install mlGeNN (pip install . in ml_genn/ml_genn of an "
                 "mlGeNN checkout), as README.md describes")


def genn_available() -> bool:
    """True when both pygenn and ml_genn import."""
    try:
        importlib.import_module("pygenn")
        importlib.import_module("ml_genn")
    except ImportError:
        return False
    return True


def require_genn(feature: str):
    """Raise an ImportError that says how to install GeNN when it is missing.

    Args:
        feature: what the user asked for, named in the message
    """
    for module in ("pygenn", "ml_genn"):
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ImportError(f"{feature} needs {module}, which cannot be "
                              f"imported ({error}). {_INSTALL_HINT}.") from error
