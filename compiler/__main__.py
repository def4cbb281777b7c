"""``python -m rigorml.compiler`` runs the ``rigorml`` command line."""

import sys

from .cli import main

sys.exit(main())
