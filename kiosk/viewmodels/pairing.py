"""The pairing screen's view-model: the code and QR a newly provisioned kiosk shows.

Provisioning (:mod:`tillpi_ops.provision`) writes ``pairing.json`` into the kiosk's data folder::

    {"store_id", "kiosk_id", "lane", "code", "payload", "expires_at"}

Staff type the code (or scan the QR, which holds ``payload``) at the edge to confirm the kiosk.
This module is plain Python: :func:`load_pairing_file` reads the file, :class:`PairingViewModel`
turns it into texts in the current language and tells listeners when the code expires.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk.viewmodels.errors import ViewModelError
from kiosk.viewmodels.i18n import I18n, Language
from kiosk.viewmodels.observable import Observable
from retail.clock import Clock

__all__ = ["PAIRING_FILE_NAME", "PairingFileError", "PairingInfo", "PairingViewModel", "load_pairing_file"]

log = logging.getLogger(__name__)

PAIRING_FILE_NAME = "pairing.json"
_FIELDS = ("store_id", "kiosk_id", "lane", "code", "payload", "expires_at")


class PairingFileError(ViewModelError, ValueError):
    """``pairing.json`` is missing, unreadable or lacks a field."""


@dataclass(frozen=True, slots=True)
class PairingInfo:
    """What ``pairing.json`` holds, checked and typed (``expires_at`` is timezone-aware)."""

    store_id: str
    kiosk_id: str
    lane: int
    code: str
    payload: str
    expires_at: datetime

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairingInfo:
        missing = [name for name in _FIELDS if name not in data]
        if missing:
            raise PairingFileError(f"pairing data lacks {', '.join(missing)}")
        try:
            expires_at = datetime.fromisoformat(str(data["expires_at"]))
            lane = int(data["lane"])
        except (TypeError, ValueError) as exc:
            raise PairingFileError(f"pairing data is malformed: {exc}") from exc
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=timezone.utc)
        code, payload = str(data["code"]).strip(), str(data["payload"]).strip()
        if not code or not payload:
            raise PairingFileError("pairing data has an empty code or payload")
        return cls(str(data["store_id"]), str(data["kiosk_id"]), lane, code, payload, expires_at)


def load_pairing_file(data_dir: Path | str) -> PairingInfo:
    """Read ``<data_dir>/pairing.json``; :class:`PairingFileError` if absent or malformed."""
    path = Path(data_dir) / PAIRING_FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PairingFileError(f"no {PAIRING_FILE_NAME} in {data_dir}; provision the kiosk first") from exc
    except (OSError, ValueError) as exc:
        raise PairingFileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PairingFileError(f"{path} does not hold an object")
    return PairingInfo.from_dict(data)


class PairingViewModel(Observable):
    """State of the pairing screen. Listeners hear ``{"labels"}`` on a language switch and
    ``{"expired"}`` when :meth:`tick` finds the code has run out."""

    def __init__(self, i18n: I18n, info: PairingInfo | Mapping[str, Any], *, clock: Clock,
                 display_tz: Any = None) -> None:
        super().__init__()
        self._i18n = i18n
        self._info = info if isinstance(info, PairingInfo) else PairingInfo.from_dict(info)
        self._clock = clock
        self._display_tz = display_tz  # tzinfo for the expiry time; None = the clock's own zone
        self._expired = self._compute_expired()
        self._subscription = i18n.on_change(lambda _names: self._changed({"labels"}))

    def close(self) -> None:
        self._subscription.cancel()

    def __enter__(self) -> PairingViewModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def info(self) -> PairingInfo:
        return self._info

    @property
    def language(self) -> Language:
        return self._i18n.language

    @property
    def code_text(self) -> str:
        return self._info.code

    @property
    def qr_payload(self) -> str:
        """What the QR holds; empty once the code has expired (so no stale QR is shown)."""
        return "" if self._expired else self._info.payload

    @property
    def lane(self) -> int:
        return self._info.lane

    @property
    def title_text(self) -> str:
        return self._i18n.t("pairing.title")

    @property
    def lane_text(self) -> str:
        return self._i18n.t("pairing.lane", store=self._info.store_id, kiosk=self._info.kiosk_id, lane=self._info.lane)

    @property
    def hint_text(self) -> str:
        return self._i18n.t("pairing.hint")

    @property
    def help_text(self) -> str:
        return self._i18n.t("common.help")

    @property
    def expired(self) -> bool:
        return self._expired

    @property
    def expiry_text(self) -> str:
        if self._expired:
            return self._i18n.t("pairing.expired")
        local = self._info.expires_at.astimezone(self._display_tz) if self._display_tz else self._info.expires_at
        return self._i18n.t("pairing.expires", time=local.strftime("%H:%M"))

    def _compute_expired(self) -> bool:
        now = self._clock.now()
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        return now >= self._info.expires_at

    def tick(self) -> None:
        """Check the clock; tell listeners once when the code expires."""
        expired = self._compute_expired()
        if expired != self._expired:
            self._expired = expired
            log.info("pairing code for %s expired", self._info.kiosk_id)
            self._changed({"expired"})

    # actions
    def toggle_language(self) -> None:
        self._i18n.toggle()
