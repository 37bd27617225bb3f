"""Provisioning a kiosk for real against a private store broker, and enrolling an edge with HQ."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from broker.config import StoreBrokerConfig
from broker.contract import kiosk_topic
from broker.credentials import DeviceRegistry
from kiosk.profile import DeviceProfile
from kiosk.settings import KioskSettings
from retail.clock import FakeClock
from tillpi_ops import cli
from tillpi_ops.errors import EnrolmentRefusedError, ProvisioningError
from tillpi_ops.hq_enrolment import SimulatedHqEnrolment
from tillpi_ops.provision import install_kiosk_bundle, provision_edge, provision_kiosk, read_env_file

KIOSK = "kiosk-05"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def broker(store_broker_factory):
    return store_broker_factory(kiosks=())


def _bundle(broker, tmp_path: Path, **kwargs):
    out = tmp_path / "bundle"
    bundle = provision_kiosk(
        broker.config.data_dir, KIOSK, 5, out, store_id="s1", broker_host=broker.kiosk_host,
        broker_port=broker.kiosk_port, install_dir=out, clock=FakeClock(), **kwargs,
    )
    broker.reload()
    return bundle


def _settings_from(bundle, monkeypatch: pytest.MonkeyPatch) -> KioskSettings:
    for key in list(__import__("os").environ):
        if key.startswith("TILLPI_KIOSK_"):
            monkeypatch.delenv(key)
    for key, value in read_env_file(bundle.env_file).items():
        monkeypatch.setenv(key, value)
    return KioskSettings.load()


def test_a_provisioned_kiosk_connects_with_its_bundle_and_its_sales_reach_the_edge(
    broker, tmp_path: Path, mqtt_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(broker, tmp_path)
    settings = _settings_from(bundle, monkeypatch)
    endpoint = settings.broker_endpoint()
    assert endpoint.tls and endpoint.cert_file == bundle.cert_file and endpoint.username == KIOSK

    edge = mqtt_client(broker.edge_endpoint())
    assert not edge.connect().is_failure
    edge.subscribe("tillpi/s1/kiosk/+/sale")
    kiosk = mqtt_client(endpoint)
    assert not kiosk.connect().is_failure
    topic = kiosk_topic("s1", KIOSK, "sale")
    kiosk.publish(topic, b"provisioned")
    message = edge.expect()
    assert message.topic == topic and message.payload == b"provisioned"


def test_a_revoked_kiosk_is_refused(broker, tmp_path: Path, mqtt_client, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _bundle(broker, tmp_path)
    endpoint = _settings_from(bundle, monkeypatch).broker_endpoint()
    assert not mqtt_client(endpoint).connect().is_failure
    DeviceRegistry(broker.config.data_dir).revoke_kiosk(KIOSK)
    broker.reload()
    assert mqtt_client(endpoint).connect().is_failure


def test_the_bundle_holds_the_lane_identity_and_keeps_secrets_private(broker, tmp_path: Path) -> None:
    bundle = _bundle(broker, tmp_path, hardware="real", language="zh_CN")
    with DeviceProfile(bundle.profile_file) as profile:
        lane = profile.lane()
        assert (lane.store_id, lane.kiosk_id, lane.lane_number) == ("s1", KIOSK, 5)
        assert profile.hardware().backend == "real"
    for secret in (bundle.key_file, bundle.password_file, bundle.env_file):
        assert _mode(secret) == 0o600, secret
    assert _mode(bundle.folder) == 0o700
    password = bundle.password_file.read_text().strip()
    assert password == DeviceRegistry(broker.config.data_dir).kiosk(KIOSK).password
    for name in ("kiosk.env", "bundle.json", "pairing.json", "profile.json"):
        assert password not in (bundle.folder / name).read_text()
    env = read_env_file(bundle.env_file)
    assert env["TILLPI_KIOSK_LANGUAGE"] == "zh_CN" and env["TILLPI_KIOSK_BROKER_PORT"] == str(broker.kiosk_port)
    assert set(json.loads((bundle.folder / "bundle.json").read_text())["files"]) >= {"client.key", "profile.json"}


def test_an_enrolled_kiosk_is_refused_unless_reissued(broker, tmp_path: Path) -> None:
    first = _bundle(broker, tmp_path)
    with pytest.raises(ProvisioningError, match="already enrolled"):
        provision_kiosk(broker.config.data_dir, KIOSK, 5, tmp_path / "again", store_id="s1",
                        broker_host="127.0.0.1", broker_port=broker.kiosk_port)
    second = provision_kiosk(broker.config.data_dir, KIOSK, 5, tmp_path / "again", store_id="s1",
                             broker_host="127.0.0.1", broker_port=broker.kiosk_port, reissue=True)
    assert second.password_file.read_text() != first.password_file.read_text()


def test_provisioning_refuses_a_bad_kiosk_id_a_bad_lane_and_a_used_folder(broker, tmp_path: Path) -> None:
    data = broker.config.data_dir
    common = {"store_id": "s1", "broker_host": "127.0.0.1", "broker_port": 8883}
    with pytest.raises(ProvisioningError, match="kiosk id"):
        provision_kiosk(data, "till/5", 5, tmp_path / "a", **common)
    with pytest.raises(ProvisioningError, match="lane"):
        provision_kiosk(data, KIOSK, 0, tmp_path / "b", **common)
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    with pytest.raises(ProvisioningError, match="not empty"):
        provision_kiosk(data, KIOSK, 5, used, **common)
    with pytest.raises(ProvisioningError, match="no saved broker settings"):
        provision_kiosk(data, KIOSK, 5, tmp_path / "c")


def test_install_copies_a_checked_bundle_and_refuses_a_damaged_one(broker, tmp_path: Path) -> None:
    bundle = _bundle(broker, tmp_path)
    data_dir = tmp_path / "var-lib-tillpi-kiosk"
    (data_dir).mkdir()
    (data_dir / "journal.sqlite").write_bytes(b"journal stays")
    written = install_kiosk_bundle(bundle.folder, data_dir)
    assert (data_dir / "client.key") in written and _mode(data_dir / "client.key") == 0o600
    assert (data_dir / "journal.sqlite").read_bytes() == b"journal stays"
    (bundle.folder / "ca.crt").write_text("tampered")
    with pytest.raises(ProvisioningError, match="ca.crt does not match"):
        install_kiosk_bundle(bundle.folder, tmp_path / "other")


def test_the_cli_provisions_from_saved_broker_settings_and_never_prints_the_password(
    store_broker_factory, tmp_path: Path
) -> None:
    broker = store_broker_factory(kiosks=(), start=False, kiosk_port=18883, edge_port=11884)
    broker.config.save()
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["provision-kiosk", "--edge-data", str(broker.config.data_dir), "--kiosk", KIOSK, "--lane", "5",
                     "--out", str(tmp_path / "k5")], out=out, err=err)
    assert code == 0, err.getvalue()
    password = (tmp_path / "k5" / "broker-password").read_text().strip()
    assert "pairing code:" in out.getvalue() and password not in out.getvalue() + err.getvalue()
    env = read_env_file(tmp_path / "k5" / "kiosk.env")
    assert env["TILLPI_KIOSK_BROKER_PORT"] == "18883" and env["TILLPI_KIOSK_DATA_DIR"] == "/var/lib/tillpi/kiosk"


# -- edge ------------------------------------------------------------------------------------


def test_an_edge_enrols_with_hq_and_sets_up_its_store_broker(tmp_path: Path) -> None:
    hq = SimulatedHqEnrolment()
    code = hq.issue_code("s7")
    done = provision_edge(hq, code, hq_url="https://hq.example/", broker_data=tmp_path / "broker",
                          edge_data=tmp_path / "edge", edge_port=11884, kiosk_port=18883)
    assert done.store_id == "s7"
    assert done.token_file.read_text().strip() == hq.tokens["s7"] and _mode(done.token_file) == 0o600
    saved = StoreBrokerConfig.load(tmp_path / "broker")
    assert (saved.store_id, saved.edge_port, saved.kiosk_port) == ("s7", 11884, 18883)
    assert done.password_file.read_text().strip() == DeviceRegistry(tmp_path / "broker").edge().password
    env = read_env_file(done.env_file)
    assert env["TILLPI_STORE_ID"] == "s7" and env["TILLPI_HQ_URL"] == "https://hq.example"
    assert hq.tokens["s7"] not in done.env_file.read_text()
    with pytest.raises(EnrolmentRefusedError):  # one-time code
        provision_edge(hq, code, hq_url="https://hq.example", broker_data=tmp_path / "b2", edge_data=tmp_path / "e2")


def test_an_edge_refuses_a_broker_folder_of_another_store(tmp_path: Path) -> None:
    hq = SimulatedHqEnrolment()
    provision_edge(hq, hq.issue_code("s7"), hq_url="https://hq", broker_data=tmp_path / "broker", edge_data=tmp_path / "e")
    with pytest.raises(ProvisioningError, match="set up for store s7"):
        provision_edge(hq, hq.issue_code("s8"), hq_url="https://hq", broker_data=tmp_path / "broker",
                       edge_data=tmp_path / "e8")
