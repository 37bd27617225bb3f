"""The change subscription every view-model offers.

A view-model is plain Python. It keeps its state in ordinary attributes and, after each
change, calls its listeners with the names of what changed. Listeners run on the thread that
made the change: a Kivy screen hands the work over to the UI thread itself (``@mainthread``),
so a view-model never touches a widget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

__all__ = ["ChangeListener", "Observable", "Subscription"]

logger = logging.getLogger(__name__)

ChangeListener = Callable[[frozenset[str]], None]


class Subscription:
    """A registered listener; ``cancel()`` (or leaving the ``with`` block) removes it. Idempotent."""

    def __init__(self, owner: Observable, listener: ChangeListener) -> None:
        self._owner: Observable | None = owner
        self.listener = listener

    @property
    def active(self) -> bool:
        return self._owner is not None

    def cancel(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner._remove(self)

    close = cancel

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


class Observable:
    """Base of the view-models: ``on_change(listener)`` and a protected ``_changed(*names)``."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._listeners_lock = threading.Lock()

    def on_change(self, listener: ChangeListener) -> Subscription:
        """Call ``listener(changed_names)`` after every change; returns its subscription."""
        if not callable(listener):
            raise TypeError("a change listener must be callable")
        subscription = Subscription(self, listener)
        with self._listeners_lock:
            self._subscriptions.append(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._listeners_lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    @property
    def listener_count(self) -> int:
        with self._listeners_lock:
            return len(self._subscriptions)

    def _changed(self, names: Iterable[str]) -> None:
        changed = frozenset(names)
        if not changed:
            return
        with self._listeners_lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            try:
                subscription.listener(changed)
            except Exception:  # one broken listener must not starve the others
                logger.exception("change listener %r failed", subscription.listener)
