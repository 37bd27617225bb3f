"""Typed errors of the HQ service; one root, each also the builtin it resembles."""

from __future__ import annotations


class HqError(Exception):
    """Root of every error raised by :mod:`hq`."""


class HqConfigError(HqError, ValueError):
    """Settings that cannot be used (a placeholder secret outside development, a bad URL...)."""


class NotFoundError(HqError, LookupError):
    """A store, user, transfer or other record that does not exist."""


class AuthenticationError(HqError, PermissionError):
    """Missing, unknown, expired or revoked credentials."""


class ForbiddenError(HqError, PermissionError):
    """Valid credentials that may not do this (wrong role, another store)."""


class ConflictError(HqError, ValueError):
    """The request clashes with what is stored (existing id, wrong transfer state...)."""


class InvalidRequestError(HqError, ValueError):
    """A request that is well-formed JSON but makes no sense (period without a date...)."""
