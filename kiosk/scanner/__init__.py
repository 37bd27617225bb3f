"""The scanner's command line (``python -m kiosk.scanner decode IMAGE...``); the code lives
in :mod:`kiosk.devices.scanner`."""
