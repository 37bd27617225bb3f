"""Member notifications: the Notifier contract (SMTP adapter against a local sink, and the
simulator), UTF-8 Chinese intact, and the outbox's retries on the injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest

from edge.notify import (
    MessageKind,
    Notifier,
    Outbox,
    PermanentDeliveryError,
    RetryPolicy,
    SimulatedNotifier,
    SmtpNotifier,
    SmtpSettings,
    SmtpSink,
    TemplateError,
    TemporaryDeliveryError,
    render,
)
from retail.clock import FakeClock

ZH_VALUES = {"store": "街角小店", "name": "王小明", "member_id": "M000001"}


@dataclass
class Harness:
    notifier: Notifier
    delivered: Callable[[], list[tuple[str, str, str]]]  # (to, subject, body)
    refuse_next: Callable[[int], None]


@pytest.fixture(params=["simulated", "smtp"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "simulated":
        sim = SimulatedNotifier()
        yield Harness(sim, lambda: [(m.to, m.subject, m.body) for m in sim.sent], sim.refuse_next)
        sim.close()
        return
    with SmtpSink() as sink:
        smtp = SmtpNotifier(SmtpSettings("127.0.0.1", sink.port, starttls=False, sender="shop@corner.example",
                                         timeout_s=10))
        yield Harness(smtp, lambda: [(r.rcpt_tos[0], r.subject, r.body) for r in sink.received],
                      lambda n: sink.refuse_next(n))
        smtp.close()


def welcome_zh(key: str = "welcome:M000001") -> object:
    return render(MessageKind.WELCOME, "zh", key=key, to="wang@example.com", values=ZH_VALUES)


def test_contract_a_sent_message_arrives_with_chinese_subject_and_body_intact(harness: Harness) -> None:
    message = welcome_zh()
    harness.notifier.send(message)  # type: ignore[arg-type]
    [(to, subject, body)] = harness.delivered()
    assert to == "wang@example.com"
    assert subject == "欢迎加入街角小店会员，王小明"
    assert "您的会员号是 M000001" in body and body.rstrip("\n").endswith("街角小店")


def test_contract_a_refusal_is_a_temporary_error_and_the_next_send_succeeds(harness: Harness) -> None:
    harness.refuse_next(1)
    with pytest.raises(TemporaryDeliveryError):
        harness.notifier.send(welcome_zh())  # type: ignore[arg-type]
    assert harness.delivered() == []
    harness.notifier.send(welcome_zh())  # type: ignore[arg-type]
    assert len(harness.delivered()) == 1


def test_smtp_message_carries_headers_a_mail_client_needs() -> None:
    with SmtpSink() as sink:
        smtp = SmtpNotifier(SmtpSettings("127.0.0.1", sink.port, starttls=False, sender="shop@corner.example"))
        smtp.send(render(MessageKind.WIN_BACK, "en", key="winback:M1:2026-03", to="amy@example.com",
                         values={"store": "Corner Shop", "name": "Amy", "points_balance": 420}))
        [mail] = sink.received
    msg = mail.message
    assert mail.mail_from == "shop@corner.example"
    assert msg["To"] == "amy@example.com" and msg["X-Tillpi-Key"] == "winback:M1:2026-03"
    assert msg.get_content_charset() == "utf-8" and "420 points" in mail.body


def test_smtp_5xx_answer_is_a_permanent_error() -> None:
    with SmtpSink() as sink:
        sink.refuse_next(1, code=550)
        smtp = SmtpNotifier(SmtpSettings("127.0.0.1", sink.port, starttls=False))
        with pytest.raises(PermanentDeliveryError):
            smtp.send(welcome_zh())  # type: ignore[arg-type]


def test_smtp_server_away_is_a_temporary_error() -> None:
    with SmtpSink() as sink:
        port = sink.port
    smtp = SmtpNotifier(SmtpSettings("127.0.0.1", port, starttls=False, timeout_s=5))
    with pytest.raises(TemporaryDeliveryError):
        smtp.send(welcome_zh())  # type: ignore[arg-type]


def test_outbox_retries_after_the_sink_refuses_once_with_backoff_on_the_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    policy = RetryPolicy(first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=30), max_attempts=5)
    with SmtpSink() as sink, Outbox.open(tmp_path / "edge.sqlite3", clock=clock, policy=policy) as outbox:
        smtp = SmtpNotifier(SmtpSettings("127.0.0.1", sink.port, starttls=False))
        assert outbox.enqueue(welcome_zh())  # type: ignore[arg-type]
        assert not outbox.enqueue(welcome_zh())  # type: ignore[arg-type]  # same key: queued once
        sink.refuse_next(1)
        first = outbox.drain(smtp)
        assert (first.sent, first.retry_later) == (0, 1)
        entry = outbox.get("welcome:M000001")
        assert entry is not None and entry.attempts == 1 and entry.next_attempt_at == clock.now() + timedelta(minutes=1)
        clock.advance(seconds=59)
        assert outbox.drain(smtp).sent == 0  # not due yet
        clock.advance(seconds=1)
        assert outbox.drain(smtp).sent == 1
        assert outbox.drain(smtp).sent == 0  # sent once, never again
        assert len(sink.received) == 1 and sink.refused_count == 1
        done = outbox.get("welcome:M000001")
        assert done is not None and done.status == "sent" and done.attempts == 2


def test_outbox_gives_up_after_max_attempts_and_on_permanent_errors(tmp_path: Path) -> None:
    clock = FakeClock()
    policy = RetryPolicy(first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=40), max_attempts=4)
    sim = SimulatedNotifier()
    sim.refuse_next(100)
    sim.reject_address("gone@example.com")
    with Outbox.open(tmp_path / "edge.sqlite3", clock=clock, policy=policy) as outbox:
        outbox.enqueue(welcome_zh("a"))  # type: ignore[arg-type]
        outbox.enqueue(render(MessageKind.WELCOME, "en", key="b", to="gone@example.com",
                              values={"store": "S", "name": "N", "member_id": "M2"}))
        delays = []
        for _ in range(4):
            outbox.drain(sim)
            due = outbox.next_due_at()
            if due is None:
                break
            delays.append((due - clock.now()).total_seconds())
            clock.set(due)
        assert delays == [10, 20, 40]
        assert {e.key: e.status for e in outbox.entries()} == {"a": "failed", "b": "failed"}
        assert outbox.get("b").attempts == 1  # type: ignore[union-attr]  # permanent: no retry
        assert outbox.pending_count() == 0


def test_templates_exist_for_every_kind_in_both_languages_and_refuse_missing_values() -> None:
    values = {"store": "S", "name": "N", "member_id": "M", "date": "2026-03-02", "lines": "x", "total": "¥1.00",
              "points": 1, "points_balance": 2, "sale_ref": "r", "offer": "o", "code": "c", "valid_until": "d"}
    for kind in MessageKind:
        en = render(kind, "en", key=f"{kind.value}-en", to="a@example.com", values=values)
        zh = render(kind, "zh-CN", key=f"{kind.value}-zh", to="a@example.com", values=values)
        assert en.language == "en" and zh.language == "zh" and en.subject != zh.subject
    with pytest.raises(TemplateError):
        render(MessageKind.BIRTHDAY, "en", key="k", to="a@example.com", values={"store": "S"})
