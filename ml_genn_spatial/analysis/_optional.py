"""Imports of the optional plotting / graph packages, with an install hint.

The analysis metrics need only NumPy; the graph metrics need networkx and
the figures matplotlib. Both are in the ``examples`` extra of setup.py.
"""
import importlib

_PIP_NAMES = {"matplotlib": "matplotlib", "networkx": "networkx"}


def require(module: str, feature: str):
    """Import ``module`` or raise an ImportError that says how to install it.

    Args:
        module: top-level module name (``"matplotlib"`` or ``"networkx"``)
        feature: what the user asked for, named in the message
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = _PIP_NAMES.get(module.split(".")[0], module)
        raise ImportError(
            f"{feature} needs {package}, which cannot be imported ({error}). "
            f"Install it with 'python3 -m pip install {package}' or install "
            f"ml_genn_spatial with its examples extra: "
            f"'python3 -m pip install -e \".[examples]\"'") from error
