"""HQ users (admin, analyst, store manager), password login and session tokens."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hq.errors import AuthenticationError, ConflictError, NotFoundError
from hq.models import Store, User, UserSession, UserStore
from hq.schemas import UserOut
from hq.security import SESSION_PREFIX, PasswordHashing, hash_token, new_token

__all__ = ["ROLES", "authenticate_session", "create_user", "login", "logout", "user_out", "user_store_ids"]

log = logging.getLogger(__name__)

ROLES = ("admin", "analyst", "store_manager")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def user_store_ids(session: Session, user: User) -> list[str]:
    return list(session.execute(select(UserStore.store_id).where(UserStore.user_id == user.id)
                                .order_by(UserStore.store_id)).scalars())


def user_out(session: Session, user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, role=user.role, active=user.active,
                   store_ids=user_store_ids(session, user))


def create_user(session: Session, hasher: PasswordHashing, *, username: str, password: str, role: str,
                store_ids: list[str], now: datetime) -> User:
    if role not in ROLES:
        raise ConflictError(f"unknown role {role!r}")
    if session.execute(select(User.id).where(User.username == username)).first() is not None:
        raise ConflictError(f"user {username!r} exists")
    for sid in store_ids:
        if session.get(Store, sid) is None:
            raise NotFoundError(f"no store {sid!r}")
    user = User(username=username, password_hash=hasher.hash(password), role=role, active=True, created_at=now)
    session.add(user)
    session.flush()
    for sid in sorted(set(store_ids)):
        session.add(UserStore(user_id=user.id, store_id=sid))
    session.flush()
    log.info("user %s created with role %s", username, role)
    return user


def login(session: Session, hasher: PasswordHashing, secret: str, username: str, password: str,
          now: datetime, *, ttl_s: int) -> tuple[str, datetime, User]:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active or not hasher.verify(user.password_hash, password):
        raise AuthenticationError("wrong username or password")
    token = new_token(SESSION_PREFIX)
    expires = now + timedelta(seconds=ttl_s)
    session.add(UserSession(user_id=user.id, token_hash=hash_token(secret, token), created_at=now, expires_at=expires))
    session.flush()
    return token, expires, user


def authenticate_session(session: Session, secret: str, token: str, now: datetime) -> User:
    if not token.startswith(SESSION_PREFIX):
        raise AuthenticationError("not a session token")
    row = session.execute(select(UserSession).where(UserSession.token_hash == hash_token(secret, token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        raise AuthenticationError("session unknown, ended or expired")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationError("user disabled")
    return user


def logout(session: Session, secret: str, token: str, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.token_hash == hash_token(secret, token))
                    .values(revoked_at=now))
