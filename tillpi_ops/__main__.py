"""``python -m tillpi_ops ...`` (see :mod:`tillpi_ops.cli`)."""

from __future__ import annotations

import sys

from tillpi_ops.cli import main

if __name__ == "__main__":
    sys.exit(main())
