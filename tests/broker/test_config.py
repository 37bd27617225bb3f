"""StoreBrokerConfig validation and the rendered Mosquitto files (pure: no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.config import StoreBrokerConfig, render_acl, render_mosquitto_conf, validate_kiosk_id, write_broker_files
from broker.errors import BrokerConfigError, BrokerError


def cfg(tmp_path: Path, **kw) -> StoreBrokerConfig:
    return StoreBrokerConfig("s1", tmp_path, **kw)


def test_defaults_are_safe(tmp_path):
    c = cfg(tmp_path)
    assert c.kiosk_tls and c.require_client_cert
    assert c.edge_bind == "127.0.0.1"
    assert c.message_size_limit == 256 * 1024 and c.max_packet_size > c.message_size_limit
    assert c.autosave_interval == 10 and c.persistent_client_expiration == "7d"


@pytest.mark.parametrize("store_id", ["", "S1", "s/1", "s+", "s#", "a b", "x" * 40, "-s"])
def test_unsafe_store_ids_are_refused(tmp_path, store_id):
    with pytest.raises(BrokerConfigError):
        StoreBrokerConfig(store_id, tmp_path)


@pytest.mark.parametrize(
    "kiosk_id", ["kiosk-01", "kiosk-a", "kiosk-lane-12", "kiosk-" + "a" * 32]
)
def test_safe_kiosk_ids_are_accepted(kiosk_id):
    assert validate_kiosk_id(kiosk_id) == kiosk_id


@pytest.mark.parametrize(
    "kiosk_id",
    ["edge", "kiosk-", "kiosk-+", "kiosk-#", "kiosk-01/#", "kiosk-01/../x", "KIOSK-01", "kiosk-01 ", "kiosk-A",
     "kiosk-" + "a" * 33, "kiosk-0\n1", "x-kiosk-01"],
)
def test_kiosk_ids_that_could_bend_acl_patterns_are_refused(kiosk_id):
    with pytest.raises(BrokerConfigError):
        validate_kiosk_id(kiosk_id)


@pytest.mark.parametrize(
    "settings",
    [
        {"edge_port": 70000},
        {"edge_port": -1},
        {"edge_port": 1884, "kiosk_port": 1884},
        {"edge_bind": "0.0.0.0"},
        {"message_size_limit": 0},
        {"max_queued_messages": 0},
        {"max_inflight_messages": -5},
        {"max_queued_bytes": -1},
        {"autosave_interval": 0},
        {"persistent_client_expiration": "7 days"},
        {"persistent_client_expiration": "0d"},
        {"kiosk_bind": "0.0.0.0 1883"},
        {"edge_hostnames": ("bad host",)},
    ],
)
def test_invalid_settings_are_refused_at_construction(tmp_path, settings):
    with pytest.raises(BrokerConfigError) as caught:
        cfg(tmp_path, **settings)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, BrokerError)


def test_data_folder_with_whitespace_is_refused(tmp_path):
    with pytest.raises(BrokerConfigError):
        StoreBrokerConfig("s1", tmp_path / "my shop")


def test_plain_kiosk_listener_must_be_asked_for_and_drops_client_certs(tmp_path):
    demo = cfg(tmp_path, kiosk_tls=False)
    assert not demo.require_client_cert


def test_rendered_conf_has_limits_persistence_auth_and_both_listeners(tmp_path):
    c = cfg(tmp_path, edge_port=1884, kiosk_port=8883, max_queued_messages=50, max_queued_bytes=4096,
            max_inflight_messages=7, message_size_limit=1000)
    lines = set(render_mosquitto_conf(c).splitlines())
    expected = {
        "allow_anonymous false",
        "per_listener_settings false",
        f"password_file {tmp_path / 'passwd'}",
        f"acl_file {tmp_path / 'acl'}",
        "message_size_limit 1000",
        f"max_packet_size {1000 + 64 * 1024}",
        "max_queued_messages 50",
        "max_queued_bytes 4096",
        "max_inflight_messages 7",
        "persistence true",
        f"persistence_location {tmp_path / 'db'}/",
        "autosave_interval 10",
        "autosave_on_changes false",
        "persistent_client_expiration 7d",
        f"log_dest file {tmp_path / 'mosquitto.log'}",
        "listener 1884 127.0.0.1",
        "listener 8883 0.0.0.0",
        f"cafile {tmp_path / 'ca' / 'ca.crt'}",
        "require_certificate true",
        "tls_version tlsv1.2",
    }
    assert expected <= lines, expected - lines
    assert "allow_anonymous true" not in lines


def test_rendering_needs_chosen_ports(tmp_path):
    with pytest.raises(BrokerConfigError):
        render_mosquitto_conf(cfg(tmp_path))


def test_acl_gives_kiosks_only_their_own_topics_and_the_edge_the_store(tmp_path):
    acl = [line for line in render_acl("s1").splitlines() if line and not line.startswith("#")]
    assert acl == [
        "user edge",
        "topic readwrite tillpi/s1/#",
        "pattern write tillpi/s1/kiosk/%u/state",
        "pattern write tillpi/s1/kiosk/%u/sale",
        "pattern write tillpi/s1/kiosk/%u/health",
        "pattern write tillpi/s1/kiosk/%u/event",
        "pattern read tillpi/s1/kiosk/%u/ack",
        "pattern read tillpi/s1/kiosk/%u/cmd",
        "pattern read tillpi/s1/edge/state",
        "pattern read tillpi/s1/catalogue/#",
        "pattern read tillpi/s1/alarm/#",
    ]


def test_write_broker_files_creates_private_files_and_an_empty_password_file(tmp_path):
    paths = write_broker_files(cfg(tmp_path / "d", edge_port=2000, kiosk_port=2001))
    assert paths.conf_file.read_text().startswith("# Mosquitto configuration for tillpi store s1")
    assert paths.password_file.read_text() == ""
    assert paths.persistence_dir.is_dir()
    for path in (paths.conf_file, paths.acl_file, paths.password_file):
        assert path.stat().st_mode & 0o777 == 0o600


def test_saved_settings_load_back_and_follow_the_folder(tmp_path):
    original = cfg(tmp_path / "a", kiosk_port=8883, max_queued_messages=12, edge_hostnames=("edge-s1.lan",))
    original.save()
    moved = tmp_path / "b"
    (tmp_path / "a").rename(moved)
    loaded = StoreBrokerConfig.load(moved)
    assert loaded.data_dir == moved
    assert (loaded.kiosk_port, loaded.max_queued_messages, loaded.edge_hostnames) == (8883, 12, ("edge-s1.lan",))


def test_loading_unknown_or_missing_settings_fails_clearly(tmp_path):
    with pytest.raises(BrokerConfigError, match="init"):
        StoreBrokerConfig.load(tmp_path)
    with pytest.raises(BrokerConfigError, match="unknown"):
        StoreBrokerConfig.from_dict({"store_id": "s1", "data_dir": str(tmp_path), "colour": "red"})
