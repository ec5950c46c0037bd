"""``python -m sopfin.cli``: the ``sopfin`` command."""

from sopfin.cli import command

raise SystemExit(command())
