"""Fixtures of the kiosk service tests: a private Mosquitto, a real edge with a small
catalogue it publishes, and headless kiosks built by the real composition root."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from broker.launcher import LocalBroker
from edge.catalogue.model import Category, Product
from edge.service import EdgeService
from kiosk.service import KioskService
from kiosk.settings import KioskSettings
from retail.barcodes import gtin_check_digit
from retail.catalogue import SoldBy
from retail.money import Money
from tests.edge.conftest import edge_settings

STORE = "s1"
WAIT = 30.0  # a deadline for things to arrive over the bus, never a speed check


def gtin14(body12: str) -> str:
    return "0" + body12 + str(gtin_check_digit(body12))


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


BEER_GTIN = gtin14("690100000005")
PRODUCTS = [
    Product("COLA", "Cola 330 ml", "可乐 330毫升", cny("3.50"), "drinks", gtins=(gtin14("690100000001"),),
            unit_weight_g=350),
    Product("TEA", "Green tea 500 ml", "绿茶 500毫升", cny("4.00"), "drinks", gtins=(gtin14("690100000002"),),
            unit_weight_g=520),
    Product("CHIPS", "Potato chips", "薯片", cny("8.50"), "snacks", gtins=(gtin14("690100000003"),),
            unit_weight_g=80),
    Product("MILK", "Milk 1 l", "牛奶 1升", cny("12.00"), "snacks", gtins=(gtin14("690100000004"),),
            unit_weight_g=1050, weight_tolerance_g=30),
    Product("BEER", "Tsingtao beer", "青岛啤酒", cny("6.00"), "drinks", gtins=(BEER_GTIN,), min_age=18,
            unit_weight_g=520),
    Product("APPLE", "Fuji apples", "富士苹果", cny("12.80"), "produce", plu="4131", sold_by=SoldBy.WEIGHT),
    Product("BUN", "Pork bun", "肉包子", cny("2.50"), "snacks", plu="5001", unit_weight_g=90),
]


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll ``check`` until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.02)


@dataclass
class Shop:
    """The broker, the edge (restartable) and kiosks of one test."""

    broker: LocalBroker
    tmp: Path
    edge: EdgeService | None = None
    kiosks: list[KioskService] = field(default_factory=list)

    def start_edge(self) -> EdgeService:
        edge = EdgeService(edge_settings(self.tmp, self.broker.edge_endpoint()))
        edge.start(web=False)
        self.edge = edge
        assert edge.ingest.wait_connected(WAIT) and edge.monitor_link.wait_connected(WAIT)
        return edge

    def stop_edge(self) -> None:
        if self.edge is not None:
            self.edge.close()
            self.edge = None

    def seed_catalogue(self) -> int:
        edge = self.edge
        assert edge is not None
        for code, en, zh in (("drinks", "Drinks", "饮料"), ("snacks", "Snacks", "零食"), ("produce", "Produce", "蔬果")):
            edge.catalogue.put_category(Category(code, en, zh))
        for product in PRODUCTS:
            edge.catalogue.create(product)
        edge.catalogue_publisher.poke()
        return edge.catalogue.version()

    def settings(self, kiosk_id: str, **changes: Any) -> KioskSettings:
        ep = self.broker.kiosk_endpoint(kiosk_id)
        values: dict[str, Any] = dict(
            data_dir=self.tmp / kiosk_id, store_id=STORE, kiosk_id=kiosk_id, broker_host=ep.host,
            broker_port=ep.port, broker_username=ep.username, broker_password=ep.password,
            broker_ca_file=ep.ca_file, broker_cert_file=ep.cert_file, broker_key_file=ep.key_file,
            health_interval_s=2.0)
        values.update(changes)
        return KioskSettings.load(**values)

    def kiosk(self, kiosk_id: str = "kiosk-01", *, start: bool = True, **changes: Any) -> KioskService:
        service = KioskService(self.settings(kiosk_id, **changes), headless=True, keepalive_s=5)
        self.kiosks.append(service)
        if start:
            service.start()
        return service

    def close(self) -> None:
        for service in reversed(self.kiosks):
            service.close()
        self.stop_edge()


@pytest.fixture
def shop(store_broker: LocalBroker, tmp_path: Path) -> Iterator[Shop]:
    """A running broker and edge with the test catalogue published."""
    s = Shop(store_broker, tmp_path)
    try:
        s.start_edge()
        s.seed_catalogue()
        yield s
    finally:
        s.close()


def journal_sale_ids(service: KioskService) -> list[str]:
    last = service.outbox.last_seq
    entries = service.outbox.entries(range(1, last + 1))
    return [entries[seq].sale_id for seq in sorted(entries)]
