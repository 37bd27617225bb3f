"""The LocalBroker life cycle against a real Mosquitto: ports, start failure, stop, kill, reload."""

from __future__ import annotations

import socket

import pytest

from broker.config import StoreBrokerConfig
from broker.errors import BrokerError, BrokerNotRunningError, BrokerStartError
from broker.launcher import LocalBroker, free_port

pytestmark = pytest.mark.broker


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_start_picks_free_ports_and_every_listener_accepts(store_broker):
    assert store_broker.running
    assert store_broker.edge_port not in (0, 1883) and store_broker.kiosk_port not in (0, 1883)
    assert store_broker.edge_port != store_broker.kiosk_port
    assert _accepts(store_broker.host, store_broker.edge_port)
    assert _accepts(store_broker.kiosk_host, store_broker.kiosk_port)


def test_two_brokers_run_side_by_side_on_different_ports(store_broker_factory):
    first = store_broker_factory(store_id="s1")
    second = store_broker_factory(store_id="s2")
    assert {first.edge_port, first.kiosk_port}.isdisjoint({second.edge_port, second.kiosk_port})
    assert first.running and second.running


def test_restart_keeps_the_ports_and_the_data_folder(store_broker):
    ports = (store_broker.edge_port, store_broker.kiosk_port)
    first_pid = store_broker.pid
    store_broker.restart()
    assert (store_broker.edge_port, store_broker.kiosk_port) == ports
    assert store_broker.pid != first_pid
    assert _accepts(store_broker.host, store_broker.edge_port)


def test_restart_after_kill_comes_back_on_the_same_ports(store_broker):
    ports = (store_broker.edge_port, store_broker.kiosk_port)
    store_broker.kill()
    assert not store_broker.running
    assert not _accepts(store_broker.host, store_broker.edge_port)
    store_broker.restart()
    assert store_broker.running and (store_broker.edge_port, store_broker.kiosk_port) == ports


def test_stop_is_idempotent_and_close_after_stop_is_harmless(store_broker):
    store_broker.stop()
    store_broker.stop()
    store_broker.close()
    assert not store_broker.running
    assert not _accepts(store_broker.host, store_broker.edge_port)


def test_context_manager_starts_and_stops(tmp_path, mosquitto_bin):
    config = StoreBrokerConfig("s1", tmp_path / "b", kiosk_bind="127.0.0.1")
    with LocalBroker(config, mosquitto_bin=mosquitto_bin, die_with_parent=True) as broker:
        assert broker.running
        port = broker.edge_port
    assert not broker.running
    assert not _accepts("127.0.0.1", port)


def test_start_fails_with_the_log_tail_when_the_port_is_taken(tmp_path, mosquitto_bin):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        config = StoreBrokerConfig("s1", tmp_path / "b", edge_port=taken, kiosk_port=free_port(), kiosk_bind="127.0.0.1")
        broker = LocalBroker(config, mosquitto_bin=mosquitto_bin, die_with_parent=True)
        with pytest.raises(BrokerStartError) as caught:
            broker.start(timeout=5)
    assert "Address already in use" in caught.value.log_tail
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, BrokerError)
    assert not broker.running


def test_start_fails_clearly_for_a_missing_binary(tmp_path):
    broker = LocalBroker(StoreBrokerConfig("s1", tmp_path / "b"), mosquitto_bin="/nonexistent/mosquitto")
    with pytest.raises(BrokerError, match="not executable"):
        broker.start()


def test_ports_are_unknown_before_the_first_start(tmp_path):
    broker = LocalBroker(StoreBrokerConfig("s1", tmp_path / "b"))
    with pytest.raises(BrokerNotRunningError):
        _ = broker.edge_port


def test_reload_of_a_stopped_broker_is_an_error(store_broker):
    store_broker.stop()
    with pytest.raises(BrokerNotRunningError):
        store_broker.reload()


def test_reload_keeps_the_same_process_and_waits_for_mosquitto(store_broker):
    pid = store_broker.pid
    store_broker.reload()
    store_broker.reload()
    assert store_broker.pid == pid
    assert store_broker.log_tail(lines=500).count("Reloading config.") == 2


def test_endpoints_describe_the_listeners(store_broker):
    edge = store_broker.edge_endpoint()
    kiosk = store_broker.kiosk_endpoint("kiosk-02")
    assert (edge.host, edge.port, edge.username, edge.tls) == ("127.0.0.1", store_broker.edge_port, "edge", False)
    assert (kiosk.port, kiosk.username, kiosk.tls) == (store_broker.kiosk_port, "kiosk-02", True)
    assert kiosk.cert_file is not None and kiosk.cert_file.is_file()
    assert kiosk.password not in repr(kiosk) and edge.password not in repr(edge)


def test_plain_kiosk_listener_for_a_demo(store_broker_factory, mqtt_client):
    broker = store_broker_factory(kiosk_tls=False)
    endpoint = broker.kiosk_endpoint("kiosk-01")
    assert not endpoint.tls
    assert not mqtt_client(endpoint).connect().is_failure
    conf = broker.config.paths.conf_file.read_text()
    assert "require_certificate" not in conf and "certfile" not in conf


def test_broker_files_in_the_data_folder_are_private(store_broker):
    paths = store_broker.config.paths
    for path in (paths.password_file, paths.acl_file, paths.conf_file, paths.ca_dir / "ca.key",
                 paths.ca_dir / "server.key", paths.devices_dir / "registry.json", paths.devices_dir / "kiosk-01.key"):
        assert path.stat().st_mode & 0o077 == 0, path
