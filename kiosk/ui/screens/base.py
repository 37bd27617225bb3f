"""What every kiosk screen shares: binding to a view-model on the UI thread."""

from __future__ import annotations

import threading
from typing import Any

from collections.abc import Callable

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.viewmodels.observable import Observable, Subscription

__all__ = ["BoundScreen", "bound_screen", "on_ui_thread"]

_PENDING_LOCK = threading.Lock()


def on_ui_thread(fn: Callable[[], None]) -> None:
    """Run ``fn`` on Kivy's UI thread, as early as possible but never nested.

    From the UI thread itself (the engine runs there) it runs *before the next frame is
    drawn* (``schedule_once(..., -1)``), so a change and everything it sets off — the screen's
    refresh, the basket's layout, the labels' textures — land in one frame instead of a frame
    each (each frame costs tens of ms on a software renderer). From any other thread it runs
    on the next clock tick, like ``@mainthread``.
    """
    timeout = -1 if threading.current_thread() is threading.main_thread() else 0
    Clock.schedule_once(lambda _dt: fn(), timeout)


class BoundScreen(Screen):
    """A thin screen: it copies its view-model's texts into Kivy properties the ``.kv`` binds.

    The view-model may change on any thread; the copy is always made on the UI thread
    (:func:`on_ui_thread`), so no widget is ever touched from elsewhere.
    """

    view_model = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        self._subscription: Subscription | None = None
        self._pending: set[str] = set()
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

    def _view_model_changed(self, names: frozenset[str]) -> None:
        with self._lock_pending():
            first = not self._pending
            self._pending |= names
        if first:
            on_ui_thread(self._refresh_pending)

    @staticmethod
    def _lock_pending():  # noqa: ANN205
        return _PENDING_LOCK

    def _refresh_pending(self) -> None:
        """On the UI thread: apply what changed. A screen that is not showing waits until it
        is about to show (``on_pre_enter``): only the visible screen does layout work."""
        manager = self.manager
        if manager is not None and manager.current != self.name:
            return  # kept in _pending for on_pre_enter
        with self._lock_pending():
            names, self._pending = frozenset(self._pending), set()
        if names:
            self.refresh(names)

    def on_pre_enter(self, *args: Any) -> None:
        with self._lock_pending():
            names, self._pending = frozenset(self._pending), set()
        if names:
            self.refresh(names)

    bindings: tuple[str, ...] = ()
    """Names copied from the view-model into same-named Kivy properties by :meth:`refresh`."""

    def refresh(self, names: frozenset[str]) -> None:
        """Copy the view-model's state into this screen's properties (UI thread only)."""
        vm = self.view_model
        if vm is None:
            return
        for name in self.bindings:
            value = getattr(vm, name)
            if getattr(self, name) != value:
                setattr(self, name, value)
        self.refresh_more(vm, names)

    def refresh_more(self, vm: object, names: frozenset[str]) -> None:
        """Hook for what plain copying cannot do (lists of widgets)."""


def bound_screen(
    class_name: str,
    *,
    screen_name: str,
    strings: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    base: type[BoundScreen] = BoundScreen,
    doc: str = "",
) -> type[BoundScreen]:
    """A thin screen class: a ``StringProperty`` per name in ``strings``, a
    ``BooleanProperty`` per name in ``flags``, all copied from the view-model on refresh.
    Its layout is the ``<class_name>`` rule of its ``.kv`` file."""
    namespace: dict[str, object] = {"__doc__": doc or f"The {screen_name} screen.", "__module__": base.__module__}
    namespace.update({name: StringProperty("") for name in strings})
    namespace.update({name: BooleanProperty(False) for name in flags})
    namespace["bindings"] = tuple(strings) + tuple(flags)
    cls = type(class_name, (base,), namespace)

    def __init__(self, **kwargs: Any) -> None:  # noqa: N807
        kwargs.setdefault("name", screen_name)
        base.__init__(self, **kwargs)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls
