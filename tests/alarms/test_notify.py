"""Notifiers: grouping (one message for a burst), the webhook against a local HTTP server
(delivery, retry with backoff on the fake clock, giving up), and the shared contract."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest

from edge.alarms import (
    AlarmEngine,
    GroupingNotifier,
    Notification,
    Notifier,
    RecordingNotifier,
    Severity,
    Transition,
    WebhookNotifier,
    observation_from_presence,
)
from edge.alarms.errors import AlarmConfigError
from tests.alarms._helpers import on


def _note(clock, i: int = 1, transition: Transition = Transition.RAISED) -> Notification:
    return Notification(f"a{i}:1:{transition.value}", f"a{i}", f"kiosk-{i:02d}/printer/paper_out", f"kiosk-{i:02d}",
                        transition, Severity.MAJOR, 0, f"[MAJOR] kiosk-{i:02d} printer: Receipt paper out - raised",
                        f"[重要] kiosk-{i:02d} printer：小票纸已用完 - 告警", clock.now())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- grouping ----------------------------------------------------------------------------------

def test_twenty_alarms_raised_within_two_seconds_make_one_grouped_message(store, clock):
    inner = RecordingNotifier()
    grouping = GroupingNotifier(inner, clock=clock, window_s=5.0)
    engine = AlarmEngine(store, clock=clock, notifier=grouping)
    for i in range(20):  # an edge reboot: every kiosk's retained "lost" arrives at once
        engine.observe(observation_from_presence(f"kiosk-{i:02d}", "lost"))
        clock.advance(0.1)
        engine.tick()
    assert inner.batches == []  # still arriving
    clock.advance(5)
    engine.tick()
    assert len(inner.batches) == 1
    assert len(inner.batches[0]) == 20
    assert {n.key for n in inner.batches[0]} == {f"kiosk-{i:02d}/kiosk/offline" for i in range(20)}
    clock.advance(60)
    engine.tick()
    assert len(inner.batches) == 1


def test_grouping_releases_a_never_ending_stream_after_the_maximum_delay(clock):
    inner = RecordingNotifier()
    grouping = GroupingNotifier(inner, clock=clock, window_s=5.0, max_delay_s=30.0)
    for i in range(40):  # one every 2 s: never 5 s of quiet
        grouping.notify([_note(clock, i)])
        grouping.flush()
        clock.advance(2)
    assert [len(b) for b in inner.batches] == [16, 16]  # each after 30 s
    grouping.close()
    assert sum(len(b) for b in inner.batches) == 40


def test_grouping_keeps_a_batch_the_inner_notifier_failed_to_take(clock):
    inner = RecordingNotifier()
    grouping = GroupingNotifier(inner, clock=clock, window_s=1.0)
    grouping.notify([_note(clock, 1), _note(clock, 2)])
    inner.fail_next(1)
    clock.advance(1)
    grouping.flush()
    assert inner.batches == [] and grouping.held == 2
    clock.advance(1)
    grouping.flush()
    assert [len(b) for b in inner.batches] == [2]


def test_grouped_webhook_message_is_one_post_with_every_notification(clock, webhook_server):
    with WebhookNotifier(webhook_server.url, clock=clock, store_id="shop-1") as hook:
        grouping = GroupingNotifier(hook, clock=clock, window_s=2.0)
        for i in range(20):
            grouping.notify([_note(clock, i)])
            clock.advance(0.1)
        clock.advance(2)
        grouping.flush()
    bodies = webhook_server.bodies()
    assert len(bodies) == 1
    assert bodies[0]["count"] == 20 and len(bodies[0]["notifications"]) == 20
    assert bodies[0]["text_en"].startswith("20 alarm updates (20 raised, 0 cleared)")
    assert bodies[0]["text_zh"].startswith("20条告警更新")


# -- webhook -----------------------------------------------------------------------------------

def test_webhook_posts_json_with_an_idempotency_key(clock, webhook_server):
    with WebhookNotifier(webhook_server.url, clock=clock, store_id="shop-1", headers={"X-Store": "shop-1"}) as hook:
        hook.notify([_note(clock)])
        assert (hook.delivered, hook.pending) == (1, 0)
    [req] = webhook_server.requests
    assert req["path"] == "/hooks/alarms"
    assert req["headers"]["X-Store"] == "shop-1" and len(req["headers"]["Idempotency-Key"]) == 64
    body = req["body"]
    assert body["schema"] == "tillpi.alarm-notifications/1" and body["store_id"] == "shop-1" and body["count"] == 1
    n = body["notifications"][0]
    assert (n["key"], n["transition"], n["severity"]) == ("kiosk-01/printer/paper_out", "raised", "major")
    assert n["text_zh"] == "[重要] kiosk-01 printer：小票纸已用完 - 告警"
    assert Notification.from_dict(n) == _note(clock)


def test_webhook_retries_server_errors_with_backoff_on_the_injected_clock(clock, webhook_server):
    webhook_server.answers = [500, 503]
    with WebhookNotifier(webhook_server.url, clock=clock, backoff_s=2.0) as hook:
        hook.notify([_note(clock)])
        assert (len(webhook_server.requests), hook.pending) == (1, 1)
        hook.flush()  # not due yet
        assert len(webhook_server.requests) == 1
        clock.advance(2)
        hook.flush()  # second attempt: 503, next in 4 s
        assert len(webhook_server.requests) == 2
        clock.advance(3.9)
        hook.flush()
        assert len(webhook_server.requests) == 2
        clock.advance(0.1)
        hook.flush()
        assert (hook.delivered, hook.pending) == (1, 0)
    keys = {r["headers"]["Idempotency-Key"] for r in webhook_server.requests}
    assert [r["status"] for r in webhook_server.requests] == [500, 503, 200] and len(keys) == 1


def test_webhook_does_not_retry_a_client_error(clock, webhook_server, caplog):
    webhook_server.answers = [400]
    with caplog.at_level(logging.ERROR, logger="edge.alarms.notify"):
        with WebhookNotifier(webhook_server.url, clock=clock) as hook:
            hook.notify([_note(clock)])
            clock.advance(600)
            hook.flush()
            assert (hook.given_up, hook.pending) == (1, 0)
    assert len(webhook_server.requests) == 1
    assert "HTTP 400" in caplog.text


def test_webhook_to_an_unreachable_server_never_raises_and_gives_up_after_max_attempts(clock, caplog):
    url = f"http://127.0.0.1:{_free_port()}/nobody-home"
    with caplog.at_level(logging.WARNING, logger="edge.alarms.notify"):
        with WebhookNotifier(url, clock=clock, max_attempts=3, backoff_s=1.0, timeout_s=2.0) as hook:
            hook.notify([_note(clock)])
            for _ in range(10):
                clock.advance(10)
                hook.flush()
            assert (hook.delivered, hook.given_up, hook.pending) == (0, 1, 0)
    assert "gave up after 3 attempt(s)" in caplog.text


def test_engine_keeps_running_when_its_webhook_fails(store, clock, webhook_server):
    webhook_server.answers = [500] * 10
    with WebhookNotifier(webhook_server.url, clock=clock, max_attempts=2, backoff_s=1.0) as hook:
        engine = AlarmEngine(store, clock=clock, notifier=hook)
        engine.observe(on("kiosk-01", "printer", "paper_out"))
        clock.advance(5)
        engine.tick()
        engine.observe(on("kiosk-02", "printer", "paper_out"))
        assert len(engine.open_alarms()) == 2
        assert hook.given_up == 1


def test_webhook_settings_are_validated(clock):
    with pytest.raises(AlarmConfigError):
        WebhookNotifier("ftp://example.invalid/", clock=clock)
    with pytest.raises(AlarmConfigError):
        WebhookNotifier("http://127.0.0.1/", clock=clock, max_attempts=0)
    with pytest.raises(AlarmConfigError):
        GroupingNotifier(RecordingNotifier(), clock=clock, window_s=10, max_delay_s=5)


# -- the notifier contract -------------------------------------------------------------------------

@pytest.fixture(params=["recording", "grouping", "webhook"])
def any_notifier(request, clock, webhook_server):
    if request.param == "recording":
        n: Notifier = RecordingNotifier()
    elif request.param == "grouping":
        n = GroupingNotifier(RecordingNotifier(), clock=clock, window_s=1)
    else:
        n = WebhookNotifier(webhook_server.url, clock=clock)
    yield n
    n.close()


def test_every_notifier_takes_batches_flushes_and_closes_twice(any_notifier, clock):
    assert isinstance(any_notifier, Notifier)
    any_notifier.notify([])
    any_notifier.notify([_note(clock, 1), _note(clock, 2)])
    clock.advance(timedelta(seconds=2).total_seconds())
    any_notifier.flush()
    any_notifier.close()
    any_notifier.close()
