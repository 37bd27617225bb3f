import logging

from kiosk.viewmodels.observable import Observable


class Thing(Observable):
    def poke(self, *names):
        self._changed(names)


def test_listeners_hear_the_names_that_changed():
    thing = Thing()
    heard = []
    thing.on_change(heard.append)
    thing.poke("a", "b")
    thing.poke()  # nothing changed: nobody is called
    assert heard == [frozenset({"a", "b"})]


def test_cancel_is_idempotent_and_stops_the_calls():
    thing = Thing()
    heard = []
    subscription = thing.on_change(heard.append)
    subscription.cancel()
    subscription.cancel()
    thing.poke("a")
    assert heard == [] and not subscription.active and thing.listener_count == 0


def test_subscription_is_a_context_manager():
    thing = Thing()
    heard = []
    with thing.on_change(heard.append):
        thing.poke("inside")
    thing.poke("outside")
    assert heard == [frozenset({"inside"})]


def test_a_failing_listener_is_logged_and_does_not_starve_the_others(caplog):
    thing = Thing()
    heard = []

    def broken(_names):
        raise RuntimeError("boom")

    thing.on_change(broken)
    thing.on_change(heard.append)
    with caplog.at_level(logging.ERROR, logger="kiosk.viewmodels.observable"):
        thing.poke("x")
    assert heard == [frozenset({"x"})]
    assert "boom" in caplog.text
