"""``python -m ibmb``: see :mod:`ibmb.cli`."""
import sys

from ibmb.cli import main

sys.exit(main())
