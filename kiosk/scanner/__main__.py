"""``python -m kiosk.scanner decode IMAGE...``"""

from __future__ import annotations

import sys

from kiosk.devices.scanner.cli import main

if __name__ == "__main__":
    sys.exit(main())
