"""A cheaper ``Properties`` for paho-mqtt's MQTT 5 packet handling (same behaviour).

paho-mqtt 2.x builds a ``paho.mqtt.properties.Properties`` for every MQTT 5 PUBLISH and PUBACK
it reads, and the constructor rebuilds its constant tables (every property name, type and
packet-type rule) each time; ``clear()``, run on every unpack, walks those names with string
replacements. Measured on the store bus that was about 20 us to build and 15 us to unpack an
empty property block, two to four times per sale on each side.

:func:`install_lean_properties` makes paho's packet reader and client use
:class:`LeanProperties`: a subclass that shares the tables, built once, instead of rebuilding
them. Nothing else changes: values are still set through paho's own checked ``__setattr__``,
packed and unpacked by paho's own code, and the class is a ``Properties`` for ``isinstance``.
Installing checks that this paho behaves as expected and leaves paho alone otherwise. It is
idempotent and is called by the bus adapters when they build a client, never at import.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from paho.mqtt import client as paho_client
from paho.mqtt import properties as paho_properties
from paho.mqtt.packettypes import PacketTypes

__all__ = ["BulkClient", "LeanProperties", "install_lean_properties", "lean_properties_installed"]

log = logging.getLogger(__name__)

_Original = paho_properties.Properties
_PUBLISH, _PUBACK, _DISCONNECT = 0x30, 0x40, 0xE0  # MQTT packet types (upper nibble)
_lock = threading.Lock()
_state: dict[str, Any] = {"installed": False, "checked": False}


_tables: dict[str, Any] = {}  # built once by install_lean_properties(), not at import


def _build_tables() -> None:
    probe = _Original(PacketTypes.PUBLISH)
    _tables["types"] = list(probe.types)
    _tables["names"] = dict(probe.names)
    _tables["properties"] = dict(probe.properties)
    _tables["compressed_set"] = frozenset(name.replace(" ", "") for name in probe.names)


class LeanProperties(_Original):  # type: ignore[misc,valid-type]
    """paho's MQTT 5 ``Properties`` with its constant tables shared instead of rebuilt."""

    def __init__(self, packetType: int) -> None:  # noqa: N803 - paho's parameter name
        if not _tables:
            _build_tables()
        object.__setattr__(self, "packetType", packetType)
        object.__setattr__(self, "types", _tables["types"])
        object.__setattr__(self, "names", _tables["names"])
        object.__setattr__(self, "properties", _tables["properties"])

    def clear(self) -> None:
        values = self.__dict__  # the four table attributes and any property values set
        names = _tables["compressed_set"]
        for name in [key for key in values if key in names]:
            del values[name]


def _behaves_like_paho() -> bool:
    """True when LeanProperties packs and unpacks exactly like this paho's Properties."""
    try:
        for packet_type, settings in (
            (PacketTypes.PUBLISH, {"MessageExpiryInterval": 30, "ContentType": "application/json",
                                   "UserProperty": [("a", "1"), ("b", "2")], "CorrelationData": b"\x01\x02"}),
            (PacketTypes.CONNECT, {"SessionExpiryInterval": 3600, "ReceiveMaximum": 1000}),
            (PacketTypes.PUBACK, {"ReasonString": "ok"}),
            (PacketTypes.PUBLISH, {}),
        ):
            original, lean = _Original(packet_type), LeanProperties(packet_type)
            for name, value in settings.items():
                setattr(original, name, value)
                setattr(lean, name, value)
            packed = original.pack()
            if lean.pack() != packed:
                return False
            a, b = _Original(packet_type), LeanProperties(packet_type)
            a.unpack(packed)
            b.unpack(packed)
            if a.json() != b.json() or str(a) != str(b):
                return False
            b.unpack(b"\x00")  # unpack clears what an earlier packet set
            if not b.isEmpty():
                return False
        return True
    except Exception:  # any surprise means: leave paho as it is
        log.debug("paho Properties check failed", exc_info=True)
        return False


def install_lean_properties() -> bool:
    """Make paho's packet reader and client build :class:`LeanProperties`. Returns True when
    installed (now or before), False when this paho-mqtt does not behave as expected."""
    with _lock:
        if _state["installed"]:
            return True
        if _state["checked"]:
            return False
        _state["checked"] = True
        if not _behaves_like_paho():
            log.warning("paho-mqtt Properties differ from what this speed-up expects; not installed")
            return False
        try:
            from paho.mqtt import _packet as paho_packet  # paho-mqtt >= 2.1 decodes packets there
        except ImportError:
            paho_packet = None
        for module in (paho_client, paho_packet):
            if module is not None and getattr(module, "Properties", None) is _Original:
                module.Properties = LeanProperties  # type: ignore[attr-defined]
        _state["installed"] = True
        log.debug("paho-mqtt uses LeanProperties")
        return True


def lean_properties_installed() -> bool:
    return bool(_state["installed"])


#: How much :class:`BulkClient` asks the socket for at once.
READ_SIZE = 64 * 1024


def _needs_no_follow_up(packet: dict[str, Any]) -> bool:
    """paho does nothing once such a packet is sent (it does for QoS 0 PUBLISH and DISCONNECT)."""
    kind = packet["command"] & 0xF0
    return kind != _DISCONNECT and not (kind == _PUBLISH and packet["qos"] == 0)


class BulkClient(paho_client.Client):
    """paho's client for a process that moves many messages and drives its own network loop
    (the edge's sale ingest): it reads the socket up to 64 KiB at a time, and writes a batch
    of answers in one ``send``.

    paho reads every packet with at least three ``recv`` calls (the type byte, each length
    byte, the rest) and sends every packet with its own ``send``. For the edge, which takes
    every kiosk's sales and answers each with a PUBACK, those system calls were over a tenth of
    its time in the bus benchmark (py-spy). Bytes and their order are unchanged; what a lost
    connection left unread is dropped with it. :meth:`buffered` tells the network loop that
    bytes are waiting which ``select()`` cannot see (as ``SSLSocket.pending()`` does).
    """

    _rsock: Any = None
    _rbuf: bytes = b""
    _rpos: int = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: nothing of the old one is kept
            self._rsock, self._rbuf, self._rpos = self._sock, b"", 0
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(max(bufsize, READ_SIZE))  # BlockingIOError when empty
            if not data:
                return data  # the broker closed the connection
            self._rbuf, self._rpos = data, 0
        chunk = self._rbuf[self._rpos:self._rpos + bufsize]
        self._rpos += len(chunk)
        return chunk

    def buffered(self) -> int:
        """Bytes read from the current connection that paho has not taken yet."""
        return len(self._rbuf) - self._rpos if self._rsock is self._sock and self._sock is not None else 0

    @contextmanager
    def batched_writes(self) -> Iterator[None]:
        """Queue what is published and acknowledged inside the block, then send it together.
        paho sends a packet at once unless a callback is running; holding its callback lock is
        how it is told to queue, and :meth:`_packet_write` joins the queue on the way out."""
        with self._in_callback_mutex:
            yield
        if self._sock is not None:
            self.loop_write()

    def _packet_write(self) -> Any:
        queue = self._out_packet
        if len(queue) > 1 and _needs_no_follow_up(queue[0]):
            parts = []
            while queue and _needs_no_follow_up(queue[0]):
                packet = queue.popleft()
                parts.append(packet["packet"][packet["pos"]:])
            data = b"".join(parts)
            queue.appendleft({"command": _PUBACK, "mid": 0, "qos": 0, "pos": 0, "to_process": len(data),
                              "packet": data, "info": None})
        return super()._packet_write()
