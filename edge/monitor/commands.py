"""Edge -> kiosk staff commands (``approve``, ``set_light``) and the retained alarm message:
builders over the contract's :class:`~broker.contract.Command` and
:class:`~broker.contract.AlarmMessage`. Pure: no network.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel

from broker.contract import MAX_PAYLOAD_BYTES, AlarmMessage, Command, ContractError, LightName

__all__ = ["AlarmMessage", "LightName", "StaffCommand", "approve_command", "decode_staff_command",
           "encode_model", "light_command"]

StaffCommand = Command  # the contract's command, with its approve and set_light kinds


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
