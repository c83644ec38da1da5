"""``python -m rapidmarc``: the rapidmarc command (see rapidmarc.cli)."""

import sys

from .cli import main

sys.exit(main())
