"""Stores and their edges' credentials: create, enrol, rotate, authenticate."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hq.errors import AuthenticationError, ConflictError, NotFoundError
from hq.models import EnrolmentCode, Store, StoreToken
from hq.security import EDGE_PREFIX, ENROL_PREFIX, hash_token, new_token

__all__ = ["authenticate_edge", "create_store", "enrol", "get_store", "issue_enrolment_code", "rotate_token"]

log = logging.getLogger(__name__)


def get_store(session: Session, store_id: str) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFoundError(f"no store {store_id!r}")
    return store


def create_store(session: Session, *, store_id: str, name: str, region: str, currency: str,
                 now: datetime) -> Store:
    if session.get(Store, store_id) is not None:
        raise ConflictError(f"store {store_id!r} exists")
    store = Store(store_id=store_id, name=name, region=region, currency=currency, created_at=now)
    session.add(store)
    session.flush()
    log.info("store %s created", store_id)
    return store


def _issue_token(session: Session, secret: str, store_id: str, now: datetime) -> str:
    token = new_token(EDGE_PREFIX)
    session.add(StoreToken(store_id=store_id, token_hash=hash_token(secret, token), created_at=now))
    session.flush()
    return token


def rotate_token(session: Session, secret: str, store_id: str, now: datetime, *, grace_s: int,
                 revoke_old: bool = False) -> tuple[str, datetime | None]:
    """Issue a new token for the store's edge. Older tokens stay valid for ``grace_s`` seconds
    (or stop at once with ``revoke_old``). Returns the token and when the old ones stop."""
    get_store(session, store_id)
    until = now if revoke_old else now + timedelta(seconds=grace_s)
    live = (StoreToken.store_id == store_id) & StoreToken.revoked_at.is_(None)
    if revoke_old:
        session.execute(update(StoreToken).where(live).values(revoked_at=now))
    else:
        session.execute(update(StoreToken).where(live & (StoreToken.expires_at.is_(None) | (StoreToken.expires_at > until)))
                        .values(expires_at=until))
    token = _issue_token(session, secret, store_id, now)
    log.info("edge token of store %s rotated; old tokens valid until %s", store_id, until.isoformat())
    return token, until


def issue_enrolment_code(session: Session, secret: str, store_id: str, now: datetime, *, ttl_s: int) -> tuple[str, datetime]:
    get_store(session, store_id)
    code = new_token(ENROL_PREFIX)
    expires = now + timedelta(seconds=ttl_s)
    session.add(EnrolmentCode(store_id=store_id, code_hash=hash_token(secret, code), created_at=now, expires_at=expires))
    session.flush()
    return code, expires


def enrol(session: Session, secret: str, code: str, now: datetime, *, grace_s: int) -> tuple[str, str]:
    """Exchange a one-time enrolment code for an edge token. Returns ``(store_id, token)``.
    Tokens of an earlier edge of the store keep their grace period, as in a rotation."""
    row = session.execute(
        select(EnrolmentCode).where(EnrolmentCode.code_hash == hash_token(secret, code)).with_for_update()
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or _aware(row.expires_at) <= now:
        raise AuthenticationError("enrolment code unknown, used or expired")
    row.used_at = now
    token, _ = rotate_token(session, secret, row.store_id, now, grace_s=grace_s)
    log.info("edge of store %s enrolled", row.store_id)
    return row.store_id, token


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything HQ writes is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def authenticate_edge(session: Session, secret: str, token: str, now: datetime) -> Store:
    if not token.startswith(EDGE_PREFIX):
        raise AuthenticationError("not an edge token")
    row = session.execute(
        select(StoreToken).where(StoreToken.token_hash == hash_token(secret, token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked edge token")
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        raise AuthenticationError("edge token expired")
    return get_store(session, row.store_id)
