"""The compiled helpers, each built when a C compiler and Python's headers are there; without
them sopfin installs and gives the same results in pure Python. Everything else about the
package is in pyproject.toml. A new compiled module is one more line in OPTIONAL_EXTENSIONS."""

from setuptools import Extension, setup


def optional_extension(name: str, source: str) -> Extension:
    """A C module sopfin can run without: its pure-Python twin gives the same results."""
    return Extension(name, [source], optional=True,
                     extra_compile_args=["-O2", "-ffp-contract=off"])


OPTIONAL_EXTENSIONS = [
    optional_extension("sopfin.xlsx._rowxml", "sopfin/xlsx/_rowxml.c"),
    optional_extension("sopfin.close._digests", "sopfin/close/_digests.c"),
    optional_extension("sopfin.guard._rowprints", "sopfin/guard/_rowprints.c"),
]

setup(ext_modules=OPTIONAL_EXTENSIONS)
