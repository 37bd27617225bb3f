"""``python -m kiosk.ui``: open the kiosk window with demo data."""

from __future__ import annotations

import logging
import sys

from kiosk.ui.env import DisplaySettings, prepare_kivy


def run() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    prepare_kivy(DisplaySettings())
    from kiosk.ui.app import main  # Kivy is imported only now, configured

    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())
