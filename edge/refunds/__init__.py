"""Returns and refunds against the original sale: lines and quantities, stock, points and
stored value reversed, audited, idempotent by refund id, queued for HQ.

Nothing runs at import; build a :class:`RefundService` over the edge database.
"""

from edge.refunds.errors import (
    InvalidRefundError,
    OverRefundError,
    RefundConflictError,
    RefundError,
    RefundPermissionError,
    RefundsClosedError,
    SaleNotFoundError,
    UnknownRefundError,
)
from edge.refunds.rules import ReturnLine
from edge.refunds.service import PERMISSION, Refund, RefundService, SaleForRefund

__all__ = [
    "InvalidRefundError", "OverRefundError", "PERMISSION", "Refund", "RefundConflictError", "RefundError",
    "RefundPermissionError", "RefundService", "RefundsClosedError", "ReturnLine", "SaleForRefund",
    "SaleNotFoundError", "UnknownRefundError",
]
