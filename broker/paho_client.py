"""Small pieces every paho-mqtt adapter of the store bus shares."""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt

__all__ = ["disconnect_and_stop"]

log = logging.getLogger(__name__)


def disconnect_and_stop(client: mqtt.Client, what: str) -> None:
    """Disconnect cleanly if the link is up, then stop paho's network thread. A link that is
    already down is no error when closing: it is logged at debug level and closing goes on."""
    try:
        client.disconnect()
    except (RuntimeError, ValueError, OSError):
        log.debug("%s: disconnect while closing failed", what, exc_info=True)
    client.loop_stop()
