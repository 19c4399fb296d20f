"""The sandbox's stand-in ``lmutil``: ``python -m gislicense._lmutil STATE ARGS...`` answers
as the ArcGIS License Manager whose state file is STATE (see
:class:`gislicense.sandbox.LicenseManagerSandbox`)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m gislicense._lmutil STATE lmstat|lmremove ...", file=sys.stderr)
        return 2
    from gislicense import _core

    code, text = _core.flexnet_lmutil(argv[0], argv[1:])
    sys.stdout.write(text)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
