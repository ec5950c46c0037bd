"""The compiled helpers (the C modules listed in setup.py), each with a pure-Python twin behind
the same switch: ``available()`` (built and importable), ``enabled()`` and ``use_compiled(on)``
(returns the previous setting). Each module's own tests hold the two paths to each other."""

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from sopfin.close import digests
from sopfin.guard import compiled_prints
from sopfin.xlsx import rowxml

SWITCHES = {
    "sopfin/xlsx/_rowxml.c": rowxml,
    "sopfin/guard/_rowprints.c": compiled_prints,
    "sopfin/close/_digests.c": digests,
}


@contextlib.contextmanager
def switched(switch: ModuleType, on: bool) -> Iterator[None]:
    """Run the block with a compiled module's path on or off, then restore the setting."""
    was = switch.use_compiled(on)
    try:
        yield
    finally:
        switch.use_compiled(was)


@pytest.mark.parametrize("source", sorted(SWITCHES))
def test_the_extension_is_built_where_it_is_required(source: str) -> None:
    """CI sets SOPFIN_REQUIRE_COMPILED=1 (``.ci/run``): there every extension must be built."""
    if os.environ.get("SOPFIN_REQUIRE_COMPILED") != "1":
        pytest.skip("SOPFIN_REQUIRE_COMPILED is not set")
    switch = SWITCHES[source]
    assert switch.available(), f"{source} was not built by pip install -e ."
    assert switch.enabled()


def test_every_compiled_source_has_a_switch() -> None:
    """A C module added to setup.py without a line here would escape the required-build test."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "setup.py"), encoding="utf-8") as f:
        listed = {line.split('"')[3] for line in f if "optional_extension(\"" in line}
    assert listed == set(SWITCHES)
