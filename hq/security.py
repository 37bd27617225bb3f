"""Secrets: random bearer tokens kept as keyed hashes, passwords kept with argon2.

Edge tokens start with ``tpe_``, user session tokens with ``tps_``, enrolment codes with
``tpc_``: a token's prefix tells what it can be, and a leaked log line says what leaked.
Tokens are 32 random bytes; only ``HMAC-SHA256(secret_key, token)`` is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "EDGE_PREFIX",
    "ENROL_PREFIX",
    "SESSION_PREFIX",
    "PasswordHashing",
    "hash_token",
    "new_token",
]

EDGE_PREFIX = "tpe_"
SESSION_PREFIX = "tps_"
ENROL_PREFIX = "tpc_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


class PasswordHashing:
    """argon2id password hashes (argon2-cffi defaults)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
