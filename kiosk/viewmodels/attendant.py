"""The "please wait, help is coming" screens: needs an attendant, and the age check.

The shopper reads why the lane stopped (the request's reason, with the item's name); the
attendant types a PIN on the pad (shown as dots) and approves or refuses, or scans a staff
badge (the scanner sends it to the engine directly). Bagging problems also clear by
themselves when the bagging area is put right. The same view-model serves the age-check
screen, which words the request for the shopper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.viewmodels.base import KeyEntry, ScreenViewModel

if TYPE_CHECKING:
    from kiosk.checkout import CheckoutSnapshot

__all__ = ["AttendantViewModel", "PIN_KEYS", "REFUSABLE"]

PIN_KEYS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "C", "0", "<")

# reasons an attendant may refuse (the others are put right, or accepted as they are)
REFUSABLE = frozenset(
    {"age_restricted", "void_item", "cancel_transaction", "price_override", "skip_bagging", "cash_payment"}
)
_BAGGING = frozenset({"unexpected_item", "item_removed", "bagging_mismatch", "bagging_timeout"})


class AttendantViewModel(ScreenViewModel):
    """State of the attendant and age-check screens (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._pin = KeyEntry(allowed="0123456789", max_len=12)
        self._request_id: str | None = None

    def _on_snapshot(self, snapshot: CheckoutSnapshot) -> None:
        request_id = snapshot.request.request_id if snapshot.request else None
        if request_id != self._request_id:
            self._request_id = request_id
            self._pin.clear()

    @property
    def reason(self) -> str | None:
        snap = self._snap
        return None if snap is None or snap.request is None else snap.request.reason.value

    def _item(self) -> str:
        snap = self._snap
        request = snap.request if snap else None
        if snap is None or request is None:
            return self.t("common.this_item")
        for line in snap.lines:
            if (request.line_id and line.line_id == request.line_id) or (not request.line_id and line.sku == request.sku):
                return line.name(self.language.value)
        return self.t("common.this_item")

    @property
    def title_text(self) -> str:
        return self.t("attendant.title")

    @property
    def reason_text(self) -> str:
        reason = self.reason
        return "" if reason is None else self.t(f"reason.{reason}", item=self._item())

    @property
    def fix_text(self) -> str:
        """What the shopper can do meanwhile (bagging problems only)."""
        return self.t("attendant.fix_bagging") if self.reason in _BAGGING else ""

    @property
    def age_title_text(self) -> str:
        return self.t("age.title")

    @property
    def age_body_text(self) -> str:
        if self.reason != "age_restricted":
            return ""
        snap = self._snap
        if snap is not None and snap.request is not None and snap.request.sku:
            return self.t("age.body", item=self._item())
        return self.t("age.body_generic")

    @property
    def staff_text(self) -> str:
        return self.t("attendant.staff_pin")

    @property
    def pin_text(self) -> str:
        return "•" * len(self._pin.text)

    @property
    def pin_entered(self) -> bool:
        return bool(self._pin.text)

    @property
    def can_refuse(self) -> bool:
        return self.reason in REFUSABLE

    @property
    def approve_text(self) -> str:
        return self.t("attendant.approve")

    @property
    def refuse_text(self) -> str:
        return self.t("attendant.refuse")

    # actions
    def key(self, key: str) -> None:
        if self._pin.press(key):
            self._changed({"pin"})

    def approve(self) -> None:
        self._decide(True)

    def refuse(self) -> None:
        if self.can_refuse:
            self._decide(False)

    def _decide(self, approve: bool) -> None:
        from kiosk.checkout.model import ApprovePin

        pin = self._pin.text
        if not pin:
            return
        self._pin.clear()
        self._changed({"pin"})
        self._send(ApprovePin(pin, approve))
