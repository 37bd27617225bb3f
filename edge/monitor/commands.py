"""Edge -> kiosk staff commands (``approve``, ``set_light``) and the retained alarm message.

**Contract shim.** ``broker.contract.Command`` knows only ``resync``, ``publish_health`` and
``reload_catalogue``, and the contract has no model for ``tillpi/<store>/alarm/<key>``. Until
the contract grows them, the two models below define the wire shape the console needs, in the
contract's style (strict, frozen, versioned ``schema``, extra fields refused):

* :class:`StaffCommand` is ``tillpi.command/1`` with two more kinds and their fields - exactly
  the addition proposed for ``Command``::

      kind: Literal["resync", "publish_health", "reload_catalogue", "approve", "set_light"]
      request_id: str | None      # approve: the kiosk's attendant request id
      staff_id: str | None        # approve: who decided (the signed-in console user)
      approve: bool | None        # approve: True approves, False refuses
      why: Text = ""              # approve: the staff member's note
      light: Literal["idle", "assistance", "alarm", "offline"] | None   # set_light

  A kiosk on today's contract refuses it as ``invalid`` and logs it; nothing breaks.
* :class:`AlarmMessage` is ``tillpi.alarm/1``: one open alarm, retained on its key's topic;
  an empty retained payload clears it.

Pure: no network.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.contract import MAX_PAYLOAD_BYTES, ContractError

__all__ = ["AlarmMessage", "LightName", "StaffCommand", "approve_command", "decode_staff_command",
           "encode_model", "light_command"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
LightName = Literal["idle", "assistance", "alarm", "offline"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class StaffCommand(_Model):
    """``tillpi.command/1`` with the ``approve`` and ``set_light`` kinds (see the module doc)."""

    schema_: Literal["tillpi.command/1"] = Field("tillpi.command/1", alias="schema")
    command_id: Annotated[str, Field(pattern=_UUID)]
    kiosk_id: Annotated[str, Field(pattern=_ID)]
    kind: Literal["resync", "publish_health", "reload_catalogue", "approve", "set_light"]
    from_seq: Annotated[int, Field(ge=1)] | None = None
    request_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    staff_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    approve: bool | None = None
    why: Annotated[str, Field(max_length=500)] = ""
    light: LightName | None = None
    issued_at: datetime
    expires_at: datetime

    @model_validator(mode="after")
    def _check(self) -> StaffCommand:
        if self.kind == "approve" and (self.request_id is None or self.staff_id is None or self.approve is None):
            raise ValueError("approve needs request_id, staff_id and approve")
        if self.kind == "set_light" and self.light is None:
            raise ValueError("set_light needs light")
        if self.kind == "resync" and self.from_seq is None:
            raise ValueError("resync needs from_seq")
        if self.expires_at <= self.issued_at:
            raise ValueError("a command expires after it is issued")
        return self


class AlarmMessage(_Model):
    """``tillpi.alarm/1``: an open alarm as published retained on ``tillpi/<store>/alarm/<key>``."""

    schema_: Literal["tillpi.alarm/1"] = Field("tillpi.alarm/1", alias="schema")
    alarm_id: Annotated[str, Field(min_length=1, max_length=64)]
    key: Annotated[str, Field(min_length=1, max_length=200)]
    kiosk_id: str | None
    device: str
    condition: str
    severity: Literal["critical", "major", "minor", "info"]
    state: Literal["pending", "active", "acknowledged"]
    label_en: str
    label_zh: str
    detail: Annotated[str, Field(max_length=500)] = ""
    stale: bool = False
    since: datetime
    updated_at: datetime


def encode_model(model: BaseModel) -> bytes:
    data = model.model_dump_json(by_alias=True).encode("utf-8")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversize", f"{len(data)} bytes > {MAX_PAYLOAD_BYTES}")
    return data


def decode_staff_command(payload: bytes) -> StaffCommand:
    try:
        return StaffCommand.model_validate_json(payload, strict=True)
    except ValueError as exc:
        raise ContractError("invalid", str(exc)[:300]) from None


def approve_command(kiosk_id: str, request_id: str, staff_id: str, *, approve: bool, why: str,
                    now: datetime, ttl_s: int = 120) -> StaffCommand:
    return StaffCommand(command_id=str(uuid.uuid4()), kiosk_id=kiosk_id, kind="approve", request_id=request_id,
                        staff_id=staff_id, approve=approve, why=why[:500], issued_at=now,
                        expires_at=now + timedelta(seconds=ttl_s))


def light_command(kiosk_id: str, light: LightName, *, now: datetime, ttl_s: int = 300) -> StaffCommand:
    return StaffCommand(command_id=str(uuid.uuid4()), kiosk_id=kiosk_id, kind="set_light", light=light,
                        issued_at=now, expires_at=now + timedelta(seconds=ttl_s))
