"""Installation script for ml_genn_spatial.

pygenn and ml_genn are prerequisites that are not on the package index:
install them from source following GeNN's own documentation (see README.md).
Everything that does not need them (the spatial maths, the NumPy reference
model and the dataset loaders) installs and runs without them.
"""
from setuptools import find_packages, setup

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
    },
)
