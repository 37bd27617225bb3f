"""Typed errors of the edge catalogue: one root, each also the builtin it resembles."""

from __future__ import annotations

from edge.errors import EdgeError

__all__ = [
    "CatalogueStoreError",
    "DuplicateProductError",
    "ImportRejectedError",
    "InvalidProductError",
    "ReplicaChecksumError",
    "ReplicaFormatError",
    "ReplicaGapError",
    "StalePreviewError",
    "StaleVersionError",
    "StoreClosedError",
    "UnknownCategoryError",
    "UnknownPreviewError",
    "UnknownProductError",
]


class CatalogueStoreError(EdgeError):
    """Root of every error raised by :mod:`edge.catalogue`."""


class StoreClosedError(CatalogueStoreError, RuntimeError):
    """The store was used after ``close()``."""


class InvalidProductError(CatalogueStoreError, ValueError):
    """A product, category or tax class is not valid."""


class DuplicateProductError(InvalidProductError):
    """A SKU, GTIN or PLU already belongs to another product."""


class UnknownProductError(CatalogueStoreError, LookupError):
    """No product with that SKU (or code)."""


class UnknownCategoryError(InvalidProductError, LookupError):
    """A category code that the catalogue does not hold."""


class UnknownPreviewError(CatalogueStoreError, LookupError):
    """An import token that is unknown or already used."""


class StalePreviewError(CatalogueStoreError, RuntimeError):
    """The catalogue changed between an import preview and its confirmation."""


class ImportRejectedError(CatalogueStoreError, ValueError):
    """An import was confirmed while its preview still lists row errors."""


class StaleVersionError(CatalogueStoreError, ValueError):
    """A snapshot or delta was asked for a version the catalogue cannot produce."""


class ReplicaFormatError(CatalogueStoreError, ValueError):
    """A replica message is not a snapshot chunk or delta of a known format."""


class ReplicaGapError(CatalogueStoreError, ValueError):
    """A delta starts after the replica's version: a snapshot (or an older delta) is needed."""


class ReplicaChecksumError(CatalogueStoreError, ValueError):
    """The replica's content does not match the checksum the edge sent."""
