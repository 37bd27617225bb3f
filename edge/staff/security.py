"""Secrets handling for staff: argon2 hashing of PINs and passwords, badge tokens, sessions.

Pure functions over bytes and strings, plus :class:`CredentialHasher` around argon2-cffi's
``PasswordHasher`` with the cost taken from :class:`HashSettings` (low cost only in tests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from edge.staff.errors import BadgeError, InvalidCredentialError

__all__ = [
    "BADGE_PREFIX",
    "CredentialHasher",
    "HashSettings",
    "badge_payload",
    "check_password_rules",
    "check_pin_rules",
    "hash_session_token",
    "new_session_token",
    "parse_badge_payload",
]

BADGE_PREFIX = "TILLPI-STAFF"
_PIN = re.compile(r"^[0-9]{4,8}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MIN_SECRET_BYTES = 16


@dataclass(frozen=True, slots=True)
class HashSettings:
    """argon2id cost. The defaults follow argon2-cffi's RFC 9106 low-memory profile."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4

    def __post_init__(self) -> None:
        if self.time_cost < 1 or self.parallelism < 1 or self.memory_cost_kib < 8 * self.parallelism:
            raise InvalidCredentialError(f"argon2 cost too low to be valid: {self}")

    @classmethod
    def for_tests(cls) -> HashSettings:
        """The lowest valid cost: fast, and useless against an attacker. Tests only."""
        return cls(time_cost=1, memory_cost_kib=8, parallelism=1)


class CredentialHasher:
    """Hashes and verifies PINs and passwords (argon2id, salted)."""

    def __init__(self, settings: HashSettings | None = None) -> None:
        self.settings = settings or HashSettings()
        self._ph = PasswordHasher(
            time_cost=self.settings.time_cost,
            memory_cost=self.settings.memory_cost_kib,
            parallelism=self.settings.parallelism,
        )
        self._dummy: str | None = None

    def hash(self, secret: str) -> str:
        return self._ph.hash(secret)

    def verify(self, stored_hash: str, secret: str) -> bool:
        """True when ``secret`` matches; False on a mismatch or an unreadable hash."""
        try:
            return bool(self._ph.verify(stored_hash, secret))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def burn(self, secret: str) -> None:
        """Spend the time of one verification (for unknown users: no timing oracle)."""
        if self._dummy is None:
            self._dummy = self._ph.hash("tillpi-dummy-secret")
        self.verify(self._dummy, secret)


def check_pin_rules(pin: str) -> str:
    """A kiosk PIN is 4 to 8 digits."""
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise InvalidCredentialError("a PIN is 4 to 8 digits")
    if len(set(pin)) == 1:
        raise InvalidCredentialError("a PIN of one repeated digit is too easy to guess")
    return pin


def check_password_rules(password: str) -> str:
    """A console password is 8 to 256 characters."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidCredentialError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def _check_secret(secret: bytes) -> bytes:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise InvalidCredentialError(f"a badge secret is at least {MIN_SECRET_BYTES} bytes")
    return secret


def _badge_token(secret: bytes, staff_id: str, version: int) -> str:
    mac = hmac.new(_check_secret(secret), f"{BADGE_PREFIX}:{staff_id}:{version}".encode(), hashlib.sha256)
    return base64.b32encode(mac.digest()[:15]).decode("ascii")  # 24 chars, QR alphanumeric


def badge_payload(secret: bytes, staff_id: str, version: int) -> str:
    """``TILLPI-STAFF:<staff_id>:<token>``; bumping ``version`` revokes earlier badges."""
    if ":" in staff_id:
        raise BadgeError("a staff id cannot contain ':'")
    return f"{BADGE_PREFIX}:{staff_id}:{_badge_token(secret, staff_id, version)}"


def parse_badge_payload(payload: str) -> tuple[str, str]:
    """``(staff_id, token)`` from a scanned badge; :class:`BadgeError` when malformed."""
    parts = payload.strip().split(":") if isinstance(payload, str) else []
    if len(parts) != 3 or parts[0] != BADGE_PREFIX or not parts[1] or not parts[2]:
        raise BadgeError("not a tillpi staff badge")
    return parts[1], parts[2]


def badge_token_matches(secret: bytes, staff_id: str, version: int, token: str) -> bool:
    return hmac.compare_digest(_badge_token(secret, staff_id, version), token.upper())


def new_session_token() -> str:
    """A random console session token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_session_token(token: str) -> str:
    """What the database keeps of a session token: its SHA-256 (the token itself never)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
