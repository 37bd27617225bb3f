"""The member and coupon screens' view-models.

Member: the shopper types a mobile number on the phone keypad (or scans the member e-card QR,
which the scanner sends to the engine); once the engine knows the member the number shows
masked (``138****5678``) with the member's level, points and stored value. Coupon: typed on
the keyboard or scanned; the coupons in use are listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.viewmodels.base import KeyEntry, ScreenViewModel

if TYPE_CHECKING:
    from kiosk.checkout import CheckoutSnapshot

__all__ = ["CouponViewModel", "MemberViewModel", "PHONE_KEYS", "group_phone"]

PHONE_KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0", "<")


def group_phone(digits: str) -> str:
    """``13812345678`` → ``138 1234 5678`` (easier to check while typing)."""
    if len(digits) <= 3:
        return digits
    if len(digits) <= 7:
        return f"{digits[:3]} {digits[3:]}"
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


class MemberViewModel(ScreenViewModel):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._phone = KeyEntry(allowed="0123456789", max_len=15)
        self._member_id: str | None = None
        self.on_done: Callable[[], None] | None = None

    def _on_snapshot(self, snapshot: CheckoutSnapshot) -> None:
        member_id = snapshot.member.member_id if snapshot.member else None
        if member_id != self._member_id:
            self._member_id = member_id
            if member_id is not None:
                self._phone.clear()  # found: the number is shown masked from now on

    @property
    def member(self):  # noqa: ANN201
        return self._snap.member if self._snap is not None else None

    @property
    def title_text(self) -> str:
        return self.t("member.title")

    @property
    def prompt_text(self) -> str:
        return self.t("member.enter_phone")

    @property
    def scan_hint_text(self) -> str:
        return self.t("member.or_scan")

    @property
    def phone_text(self) -> str:
        """What the number box shows: typed digits, or the member's masked number."""
        if self._phone.text:
            return group_phone(self._phone.text)
        snap = self._snap
        if snap is not None and snap.member_phone_masked:
            return snap.member_phone_masked
        return ""

    @property
    def can_find(self) -> bool:
        return len(self._phone.text) >= 5

    @property
    def level_text(self) -> str:
        m = self.member
        return "" if m is None else self.t("member.level", level=m.level_name(self.language.value))

    @property
    def points_text(self) -> str:
        m = self.member
        return "" if m is None else self.t("member.points", points=f"{m.points:,}")

    @property
    def balance_text(self) -> str:
        m = self.member
        return "" if m is None else self.t("member.balance", amount=self.money(m.stored_value))

    @property
    def status_text(self) -> str:
        return "" if self.member is not None else self.t("member.none")

    @property
    def find_text(self) -> str:
        return self.t("member.find")

    @property
    def done_text(self) -> str:
        return self.t("common.done")

    def key(self, key: str) -> None:
        if self._phone.press(key):
            self._changed({"phone"})

    def find(self) -> None:
        from kiosk.checkout.model import EnterPhone

        if self.can_find:
            self._send(EnterPhone(self._phone.text))

    def done(self) -> None:
        self._phone.clear()
        if self.on_done is not None:
            self.on_done()


class CouponViewModel(ScreenViewModel):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._code = KeyEntry(allowed="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", max_len=20, upper=True)
        self.on_done: Callable[[], None] | None = None

    def _on_snapshot(self, snapshot: CheckoutSnapshot) -> None:
        if self._code.text and self._code.text in snapshot.coupons:
            self._code.clear()  # added

    @property
    def title_text(self) -> str:
        return self.t("coupon.title")

    @property
    def prompt_text(self) -> str:
        return self.t("coupon.enter")

    @property
    def scan_hint_text(self) -> str:
        return self.t("coupon.or_scan")

    @property
    def code_text(self) -> str:
        return self._code.text

    @property
    def applied_text(self) -> str:
        coupons = self._snap.coupons if self._snap is not None else ()
        return self.t("coupon.applied", codes=", ".join(coupons)) if coupons else self.t("coupon.none")

    @property
    def savings_text(self) -> str:
        snap = self._snap
        if snap is None or snap.savings.is_zero():
            return ""
        return self.t("scan.savings_total", amount=self.money(snap.savings))

    @property
    def can_add(self) -> bool:
        return bool(self._code.text)

    @property
    def add_text(self) -> str:
        return self.t("coupon.add")

    @property
    def done_text(self) -> str:
        return self.t("common.done")

    def key(self, key: str) -> None:
        if key == " ":
            return
        if self._code.press(key):
            self._changed({"code"})

    def add(self) -> None:
        from kiosk.checkout.model import EnterCoupon

        if self.can_add:
            self._send(EnterCoupon(self._code.text))

    def done(self) -> None:
        self._code.clear()
        if self.on_done is not None:
            self.on_done()
