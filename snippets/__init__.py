"""GeNN code templates of ml_genn_spatial, shipped as package data.

Each ``*.c`` file is a ``string.Template`` whose ``$slots`` are filled by
:mod:`ml_genn_spatial.codegen` for a given number of dimensions.
"""
