"""The compiled row formatter (sopfin/xlsx/_rowxml.c), built when a C compiler and Python's
headers are there; without them sopfin installs and writes the same bytes in pure Python.
Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "sopfin.xlsx._rowxml", ["sopfin/xlsx/_rowxml.c"], optional=True,
    extra_compile_args=["-O2", "-ffp-contract=off"])])
