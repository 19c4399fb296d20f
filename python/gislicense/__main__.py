"""``python -m gislicense``: the same as the ``gislicense`` command."""

import sys

from gislicense.cli import main

if __name__ == "__main__":
    sys.exit(main())
