"""The weighing screen's view-model: the live produce-scale weight, tare and the price.

The engine's :class:`~kiosk.checkout.WeighingView` carries the gross weight, the tare, the
net weight, whether it is steady and the price (only for a steady weight above zero); this
view-model only words it. "Add" is enabled once the weight is steady and positive.
"""

from __future__ import annotations

from decimal import Decimal

from kiosk.viewmodels.base import ScreenViewModel

__all__ = ["WeighingViewModel", "kilograms"]


def kilograms(grams: int) -> str:
    """``456`` → ``"0.456 kg"``."""
    return f"{(Decimal(grams) / Decimal(1000)).quantize(Decimal('0.001'))} kg"


class WeighingViewModel(ScreenViewModel):
    @property
    def _view(self):  # noqa: ANN202
        return self._snap.weighing if self._snap is not None else None

    @property
    def title_text(self) -> str:
        return self.t("weigh.title")

    @property
    def item_text(self) -> str:
        view = self._view
        return "" if view is None else self.item_name(view.name_en, view.name_zh)

    @property
    def instruction_text(self) -> str:
        return self.t("weigh.place", item=self.item_text) if self._view is not None else ""

    @property
    def price_per_kg_text(self) -> str:
        view = self._view
        return "" if view is None else self.t("weigh.price_per_kg", price=self.money(view.price_per_kg))

    @property
    def weight_text(self) -> str:
        view = self._view
        return kilograms(view.net_g if view is not None else 0)

    @property
    def stable(self) -> bool:
        view = self._view
        return bool(view is not None and view.stable)

    @property
    def status_text(self) -> str:
        return self.t("weigh.stable") if self.stable else self.t("weigh.settling")

    @property
    def tare_text(self) -> str:
        view = self._view
        if view is None or view.tare_g <= 0:
            return ""
        return self.t("weigh.tare_value", weight=kilograms(view.tare_g))

    @property
    def price_text(self) -> str:
        view = self._view
        if view is None or view.price is None:
            return ""
        return self.t("weigh.price", amount=self.money(view.price))

    @property
    def can_add(self) -> bool:
        view = self._view
        return bool(view is not None and view.acceptable)

    @property
    def tare_button_text(self) -> str:
        return self.t("weigh.tare")

    @property
    def add_text(self) -> str:
        return self.t("weigh.add")

    @property
    def back_text(self) -> str:
        return self.t("common.back")

    # actions
    def tare(self) -> None:
        from kiosk.checkout.model import TareProduceScale

        self._send(TareProduceScale())

    def add(self) -> None:
        from kiosk.checkout.model import ConfirmWeight

        if self.can_add:
            self._send(ConfirmWeight())

    def back(self) -> None:
        from kiosk.checkout.model import CancelWeighing

        self._send(CancelWeighing())
