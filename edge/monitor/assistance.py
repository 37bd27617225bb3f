"""Assistance requests: a shopper's help request or an attendant intervention a kiosk asks for,
with the basket summary staff need before walking over. Pure.

**Event shape** (inside the contract's ``DeviceEvent``; ``detail`` is at most 500 characters):
the kiosk publishes ``device="assist"`` with ``kind``

* ``help_requested`` / ``age_check_requested`` / ``intervention_requested`` - a request opens;
* ``help_cancelled`` / ``help_answered`` / ``age_check_approved`` / ``age_check_declined`` /
  ``age_check_cancelled`` / ``intervention_cleared`` - it closes;

and ``detail`` holds compact JSON (short keys so a basket fits)::

    {"r": "<request id>", "why": "age_restricted", "role": "attendant", "note": "Baijiu 500 ml",
     "n": 3, "t": 4560, "c": "CNY", "i": [["Baijiu 500 ml", 1], ["Green tea 500 ml", 2]]}

``r`` request id (required to approve remotely), ``why`` the kiosk's ``AttendantReason``,
``role`` the lowest role that may decide, ``note`` free text, ``n`` basket lines, ``t`` basket
total in minor units, ``c`` currency, ``i`` up to a few ``[name, quantity]`` lines.
:func:`help_detail` builds it (trimming items until it fits). A plain-text ``detail`` is
accepted too: it becomes the note of a request without an id. A contract field
``data: dict`` on ``DeviceEvent`` would lift the 500-character limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broker.contract import help_event_detail

__all__ = ["APPROVAL_PERMISSIONS", "AssistanceBoard", "AssistanceRequest", "OPENING_KINDS", "CLOSING_KINDS",
           "help_detail", "parse_help_detail"]

OPENING_KINDS = {"help_requested": "help", "age_check_requested": "age_restricted", "intervention_requested": None}
CLOSING_KINDS = frozenset({"help_cancelled", "help_answered", "age_check_approved", "age_check_declined",
                           "age_check_cancelled", "intervention_cleared"})

#: The permission a console user needs to approve each kind of request remotely.
APPROVAL_PERMISSIONS: Mapping[str, str] = {
    "help": "alarms.ack",
    "age_restricted": "interventions.approve.age",
    "price_override": "interventions.approve.price_override",
    "void_item": "interventions.approve.price_override",
    "cancel_transaction": "interventions.approve.price_override",
    "bagging_mismatch": "interventions.approve.weight",
    "bagging_timeout": "interventions.approve.weight",
    "unexpected_item": "interventions.approve.weight",
    "item_removed": "interventions.approve.weight",
    "skip_bagging": "interventions.approve.weight",
}

REASON_LABELS: Mapping[str, tuple[str, str]] = {
    "help": ("Help requested", "顾客请求帮助"),
    "age_restricted": ("Age check", "年龄核验"),
    "price_override": ("Price override", "改价"),
    "void_item": ("Remove an item", "删除商品"),
    "cancel_transaction": ("Cancel the sale", "取消交易"),
    "bagging_mismatch": ("Bagging weight mismatch", "装袋重量不符"),
    "bagging_timeout": ("Item not bagged", "商品未放入装袋区"),
    "unexpected_item": ("Unexpected item in the bagging area", "装袋区有未扫描商品"),
    "item_removed": ("Item removed from the bagging area", "商品被移出装袋区"),
    "skip_bagging": ("Skip bagging", "跳过装袋"),
    "cash_payment": ("Cash payment", "现金支付"),
}


@dataclass(frozen=True, slots=True)
class AssistanceRequest:
    kiosk_id: str
    request_id: str | None
    reason: str
    role: str
    note: str
    lines: int | None
    total_minor: int | None
    currency: str
    items: tuple[tuple[str, int], ...]
    requested_at: datetime
    event_id: str = ""

    @property
    def label(self) -> tuple[str, str]:
        return REASON_LABELS.get(self.reason, (self.reason.replace("_", " ").capitalize(), self.reason))

    @property
    def permission(self) -> str | None:
        return APPROVAL_PERMISSIONS.get(self.reason)

    def summary_en(self) -> str:
        """One line for the alarm detail: ``Age check: Baijiu 500 ml · 3 lines · 45.60 CNY``."""
        parts = [self.label[0] + (f": {self.note}" if self.note else "")]
        if self.lines is not None:
            parts.append(f"{self.lines} line{'s' if self.lines != 1 else ''}")
        if self.total_minor is not None:
            parts.append(f"{self.total_minor // 100}.{self.total_minor % 100:02d} {self.currency}".strip())
        return " · ".join(parts)[:500]

    def as_json(self) -> dict[str, Any]:
        en, zh = self.label
        return {
            "kiosk_id": self.kiosk_id, "request_id": self.request_id, "reason": self.reason,
            "label_en": en, "label_zh": zh, "role": self.role, "note": self.note, "lines": self.lines,
            "total_minor": self.total_minor, "currency": self.currency,
            "items": [{"name": n, "quantity": q} for n, q in self.items],
            "requested_at": self.requested_at.isoformat(), "permission": self.permission,
            "remote": self.request_id is not None and self.permission is not None,
        }


help_detail = help_event_detail  # the contract builds the kiosk's help-event detail


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_help_detail(kind: str, detail: str) -> dict[str, Any]:
    """The fields of a help event's ``detail`` (see the module doc); plain text is a note."""
    default_reason = OPENING_KINDS.get(kind) or "help"
    out: dict[str, Any] = {"request_id": None, "reason": default_reason, "role": "attendant", "note": "",
                           "lines": None, "total_minor": None, "currency": "", "items": ()}
    text = (detail or "").strip()
    if not text.startswith("{"):
        out["note"] = text[:200]
        return out
    try:
        data = json.loads(text)
    except ValueError:
        out["note"] = text[:200]
        return out
    if not isinstance(data, dict):
        return out
    if isinstance(data.get("r"), str) and 0 < len(data["r"]) <= 64:
        out["request_id"] = data["r"]
    if isinstance(data.get("why"), str) and data["why"]:
        out["reason"] = data["why"][:64]
    if isinstance(data.get("role"), str):
        out["role"] = data["role"][:32]
    if isinstance(data.get("note"), str):
        out["note"] = data["note"][:200]
    out["lines"] = _int(data.get("n"))
    out["total_minor"] = _int(data.get("t"))
    if isinstance(data.get("c"), str):
        out["currency"] = data["c"][:3]
    items = []
    for entry in data.get("i") or ():
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and _int(entry[1]) is not None:
            items.append((entry[0][:60], int(entry[1])))
    out["items"] = tuple(items)
    return out


@dataclass
class AssistanceBoard:
    """Open assistance requests per kiosk (one per request id; one id-less request per kiosk)."""

    _open: dict[tuple[str, str], AssistanceRequest] = field(default_factory=dict)

    def open(self, kiosk_id: str, kind: str, detail: str, at: datetime, event_id: str = "") -> AssistanceRequest:
        f = parse_help_detail(kind, detail)
        req = AssistanceRequest(kiosk_id, f["request_id"], f["reason"], f["role"], f["note"], f["lines"],
                                f["total_minor"], f["currency"], f["items"], at, event_id)
        self._open[(kiosk_id, req.request_id or "")] = req
        return req

    def close(self, kiosk_id: str, kind: str, detail: str) -> list[AssistanceRequest]:
        """Close the request the event names (by id), or every request of the kiosk whose
        reason the event's kind covers when it names none."""
        f = parse_help_detail(kind, detail)
        rid = f["request_id"]
        if rid is not None and (kiosk_id, rid) in self._open:
            return [self._open.pop((kiosk_id, rid))]
        covers = "age_restricted" if kind.startswith("age_check") else ("help" if kind.startswith("help") else None)
        gone = [k for k, r in self._open.items() if k[0] == kiosk_id and (covers is None or r.reason == covers
                                                                          or (covers == "help" and r.reason not in ("age_restricted",)))]
        return [self._open.pop(k) for k in gone]

    def resolve(self, kiosk_id: str, request_id: str) -> AssistanceRequest | None:
        return self._open.pop((kiosk_id, request_id), None)

    def get(self, kiosk_id: str, request_id: str) -> AssistanceRequest | None:
        return self._open.get((kiosk_id, request_id))

    def drop_kiosk(self, kiosk_id: str) -> None:
        for k in [k for k in self._open if k[0] == kiosk_id]:
            del self._open[k]

    def all(self) -> list[AssistanceRequest]:
        return sorted(self._open.values(), key=lambda r: (r.requested_at, r.kiosk_id))
