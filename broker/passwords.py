"""Mosquitto password-file entries, written without the ``mosquitto_passwd`` tool.

Mosquitto 2.0 reads ``username:$7$<iterations>$<b64 salt>$<b64 hash>`` where the hash is
PBKDF2-HMAC-SHA512 of the password with that salt (12 bytes) and iteration count (101 by
default). Pure functions; the only side effect is reading random bytes for a new salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from broker.errors import CredentialsError

__all__ = ["hash_password", "verify_password", "password_line", "parse_password_file", "USERNAME_RE"]

PBKDF2_ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64
# What may appear left of the colon in a password file (no colon, whitespace or MQTT wildcards).
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """The ``$7$`` hash Mosquitto 2.0 verifies ``password`` against."""
    if not password:
        raise CredentialsError("an empty password is not allowed")
    if iterations < 1:
        raise CredentialsError("iterations must be positive")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, HASH_BYTES)
    return "$7${}${}${}".format(
        iterations, base64.b64encode(salt).decode("ascii"), base64.b64encode(digest).decode("ascii")
    )


def verify_password(encoded: str, password: str) -> bool:
    """True when ``password`` matches a ``$7$`` hash (constant-time compare)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
        raise CredentialsError("not a Mosquitto $7$ password hash")
    try:
        iterations = int(parts[2])
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError as exc:
        raise CredentialsError("malformed Mosquitto $7$ password hash") from exc
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, len(expected))
    return hmac.compare_digest(digest, expected)


def password_line(username: str, encoded: str) -> str:
    """One line of a Mosquitto password file (without newline)."""
    if not USERNAME_RE.match(username):
        raise CredentialsError(f"username {username!r} is not allowed in a password file")
    return f"{username}:{encoded}"


def parse_password_file(text: str) -> dict[str, str]:
    """``{username: hash}`` from the text of a password file (blank and # lines skipped)."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        username, sep, encoded = line.partition(":")
        if not sep:
            raise CredentialsError(f"password file line {number} has no ':'")
        entries[username] = encoded
    return entries
