"""Promotions and coupons authored on the edge: stored as promotion JSON, versioned for the
kiosks, validated against the catalogue, with a preview of a sample basket.

Nothing runs at import; build a :class:`PromotionStore` over the edge database.
"""

from edge.promotions.errors import (
    CouponError,
    CouponRejectedError,
    InvalidPromotionDefinitionError,
    PromotionsClosedError,
    PromotionsError,
    UnknownCouponError,
    UnknownPromotionError,
)
from edge.promotions.preview import SampleLine, build_basket, preview, priced_to_dict
from edge.promotions.store import Coupon, PromotionStore, StoredPromotion

__all__ = [
    "Coupon", "CouponError", "CouponRejectedError", "InvalidPromotionDefinitionError", "PromotionStore",
    "PromotionsClosedError", "PromotionsError", "SampleLine", "StoredPromotion", "UnknownCouponError",
    "UnknownPromotionError", "build_basket", "preview", "priced_to_dict",
]
