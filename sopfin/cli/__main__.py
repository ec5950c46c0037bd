"""``python -m sopfin.cli``: the ``sopfin`` command."""

from sopfin.cli import main

raise SystemExit(main())
