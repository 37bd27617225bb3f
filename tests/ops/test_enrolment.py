"""The HqEnrolment port: the HTTP adapter and the simulator pass the same contract tests.

The HTTP adapter talks to a stand-in for HQ's ``POST /api/v1/stores/enrol`` through
``httpx.MockTransport`` (answered by a SimulatedHqEnrolment), so the wire format is checked:
method, path, JSON body, status codes. The lead checks it against the real HQ API later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tillpi_ops.errors import EnrolmentRefusedError, HqUnreachableError
from tillpi_ops.hq_enrolment import ENROL_PATH, HqEnrolment, HttpHqEnrolment, SimulatedHqEnrolment


class Rig:
    """HQ (always a simulator underneath) and the adapter under test in front of it."""

    def __init__(self, kind: str) -> None:
        self.hq = SimulatedHqEnrolment()
        self.requests: list[httpx.Request] = []
        if kind == "simulated":
            self.port: Any = self.hq
        else:
            self.port = HttpHqEnrolment("https://hq.test/", client=httpx.Client(transport=httpx.MockTransport(self._serve)))

    def _serve(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.hq.online:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method != "POST" or request.url.path != ENROL_PATH:
            return httpx.Response(404, json={"detail": "not found"})
        try:
            code = json.loads(request.content)["code"]
        except (ValueError, KeyError):
            return httpx.Response(422, json={"detail": "bad body"})
        try:
            done = self.hq.enrol(code)
        except EnrolmentRefusedError:
            return httpx.Response(401, json={"detail": "enrolment code unknown, used or expired"})
        return httpx.Response(200, json={"store_id": done.store_id, "token": done.token, "old_tokens_valid_until": None})

    def go_offline(self) -> None:
        self.hq.go_offline()


@pytest.fixture(params=["simulated", "http"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    r = Rig(request.param)
    yield r
    r.port.close()


def test_both_adapters_are_the_port(rig: Rig) -> None:
    assert isinstance(rig.port, HqEnrolment)


def test_a_code_buys_the_store_id_and_a_token(rig: Rig) -> None:
    done = rig.port.enrol(rig.hq.issue_code("s3"))
    assert done.store_id == "s3" and done.token == rig.hq.tokens["s3"] and len(done.token) >= 16
    assert done.token not in repr(done)


def test_a_code_works_once(rig: Rig) -> None:
    code = rig.hq.issue_code("s3")
    rig.port.enrol(code)
    with pytest.raises(EnrolmentRefusedError):
        rig.port.enrol(code)


def test_an_unknown_or_short_code_is_refused(rig: Rig) -> None:
    with pytest.raises(EnrolmentRefusedError):
        rig.port.enrol("not-a-real-code-at-all")
    with pytest.raises(EnrolmentRefusedError):
        rig.port.enrol("short")


def test_hq_away_is_unreachable_not_refused(rig: Rig) -> None:
    code = rig.hq.issue_code("s3")
    rig.go_offline()
    with pytest.raises(HqUnreachableError):
        rig.port.enrol(code)
    rig.hq.go_online()
    assert rig.port.enrol(code).store_id == "s3"  # the code was not spent


def test_the_http_adapter_posts_json_to_the_enrol_path() -> None:
    rig = Rig("http")
    rig.port.enrol(rig.hq.issue_code("s3"))
    request = rig.requests[-1]
    assert request.method == "POST" and str(request.url) == "https://hq.test/api/v1/stores/enrol"
    assert json.loads(request.content).keys() == {"code"}


def test_the_http_adapter_treats_a_server_error_or_garbage_as_unreachable() -> None:
    for response in (httpx.Response(503), httpx.Response(200, json={"nope": 1}), httpx.Response(200, text="<html>")):
        port = HttpHqEnrolment("https://hq.test", client=httpx.Client(transport=httpx.MockTransport(lambda r, resp=response: resp)))
        with pytest.raises(HqUnreachableError):
            port.enrol("a-code-long-enough")


def test_the_http_adapter_refuses_a_url_that_is_not_http() -> None:
    with pytest.raises(Exception, match="https://"):
        HttpHqEnrolment("hq.example.com")
