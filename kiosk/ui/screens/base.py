"""What every kiosk screen shares: binding to a view-model on the UI thread."""

from __future__ import annotations

from typing import Any

from kivy.clock import mainthread
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.viewmodels.observable import Observable, Subscription

__all__ = ["BoundScreen"]


class BoundScreen(Screen):
    """A thin screen: it copies its view-model's texts into Kivy properties the ``.kv`` binds.

    The view-model may change on any thread; the copy is always made on the UI thread
    (``@mainthread``), so no widget is ever touched from elsewhere.
    """

    view_model = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        self._subscription: Subscription | None = None
        super().__init__(**kwargs)

    def bind_view_model(self, view_model: Observable) -> None:
        self.unbind_view_model()
        self.view_model = view_model
        self._subscription = view_model.on_change(self._view_model_changed)
        self.refresh(frozenset({"*"}))

    def unbind_view_model(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None

    @mainthread
    def _view_model_changed(self, names: frozenset[str]) -> None:
        self.refresh(names)

    def refresh(self, names: frozenset[str]) -> None:
        """Copy the view-model's state into this screen's properties (UI thread only)."""
        raise NotImplementedError
