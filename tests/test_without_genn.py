"""Without GeNN the package imports and says how to install GeNN."""
import builtins

import pytest

import ml_genn_spatial
from ml_genn_spatial import _genn


def test_genn_names_raise_an_install_hint_when_pygenn_is_missing(
        monkeypatch):
    real_import = builtins.__import__

    def no_pygenn(name, *args, **kwargs):
        if name.split(".")[0] in ("pygenn", "ml_genn"):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pygenn)
    monkeypatch.setattr(_genn.importlib, "import_module",
                        lambda name: no_pygenn(name))
    with pytest.raises(ImportError, match="pip install . in a GeNN"):
        ml_genn_spatial.SpatialEventPropCompiler
    assert not _genn.genn_available()
    # the pure parts still work
    assert ml_genn_spatial.Space(2).dimensions == 2


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute"):
        ml_genn_spatial.NoSuchThing
