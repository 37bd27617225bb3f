"""tillpi operations: provisioning of kiosks and edges, pairing codes, online backups and
verified restores, upgrades with data in place, and the health checks systemd timers run.

Modules (nothing runs at import): :mod:`tillpi_ops.provision`, :mod:`tillpi_ops.pairing`,
:mod:`tillpi_ops.hq_enrolment`, :mod:`tillpi_ops.backup`, :mod:`tillpi_ops.upgrade`,
:mod:`tillpi_ops.health`, :mod:`tillpi_ops.cli`. The Pi's boot configuration, systemd units and
udev rules are in ``firmware-config/``; the SD-card image recipes in ``images/``.
"""

from tillpi_ops.errors import OpsError

__all__ = ["OpsError"]
