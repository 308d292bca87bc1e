"""Installation script for ml_genn_spatial.

pygenn and ml_genn are not on the package index. The ``genn`` extra builds
them from their pinned release tags with pip direct references (needs a C++
compiler, libffi and internet access; CUDA backend when ``CUDA_PATH`` points
at a CUDA toolkit): ``pip install -e ".[genn,examples,test]"``. Everything
that does not need them (the spatial maths, the NumPy reference model and
the dataset loaders) installs and runs without them.
"""
import ast
import os

from setuptools import find_packages, setup


def pinned_releases():
    """GENN_TAG and ML_GENN_TAG of ml_genn_spatial/_genn.py, the one place
    that pins them (read, not imported: the package is not installed yet)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "ml_genn_spatial", "_genn.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    values = {target.id: node.value.value for node in tree.body
              if isinstance(node, ast.Assign)
              and isinstance(node.value, ast.Constant)
              for target in node.targets if isinstance(target, ast.Name)}
    return values["GENN_TAG"], values["ML_GENN_TAG"]


GENN_TAG, ML_GENN_TAG = pinned_releases()
GENN_REQUIREMENTS = [
    f"pygenn @ git+https://github.com/genn-team/genn.git@{GENN_TAG}",
    f"ml_genn @ git+https://github.com/genn-team/ml_genn.git@{ML_GENN_TAG}"
    f"#subdirectory=ml_genn"]

setup(
    name="ml_genn_spatial",
    version="0.1.0",
    description="Spatial spiking neural networks for GeNN/mlGeNN: "
                "learnable neuron positions whose distances are "
                "synaptic delays, trained with EventProp",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["ml_genn_spatial", "ml_genn_spatial.*"])
             + ["ml_genn_spatial.snippets"],
    # The GeNN code strings live in the top-level snippets/ folder and ship
    # inside the package as ml_genn_spatial.snippets
    package_dir={"ml_genn_spatial.snippets": "snippets"},
    package_data={"ml_genn_spatial.snippets": ["*.c", "*.txt"]},
    python_requires=">=3.8",
    install_requires=["numpy>=1.22"],
    extras_require={
        "test": ["pytest>=7", "h5py>=3.8", "matplotlib>=3.7",
                 "networkx>=3.0", "tonic>=1.7"],
        "examples": ["tqdm>=4.65", "h5py>=3.8", "matplotlib>=3.7",
                     "networkx>=3.0", "tonic>=1.7"],
        "genn": GENN_REQUIREMENTS,
    },
)
