"""``python -m kiosk ...``: the kiosk's device tools (see :mod:`kiosk.cli`)."""

from __future__ import annotations

import sys

from kiosk.cli import main

if __name__ == "__main__":
    sys.exit(main())
