"""Password hashes, the store CA and the device registry."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.ca import CertPair, StoreCA
from broker.credentials import DeviceRegistry, KioskCredentials
from broker.errors import CertificateError, CredentialsError, UnknownDeviceError
from broker.passwords import hash_password, parse_password_file, password_line, verify_password
from retail.clock import FakeClock


# -- password hashes ------------------------------------------------------------------------
def test_hash_has_mosquitto_2_pbkdf2_sha512_layout():
    encoded = hash_password("secret", salt=b"0123456789ab")
    _, kind, iterations, salt, digest = encoded.split("$")
    assert (kind, iterations, salt) == ("7", "101", "MDEyMzQ1Njc4OWFi")
    assert len(digest) == 88  # 64 bytes in base64


def test_hash_verifies_its_password_only():
    encoded = hash_password("secret")
    assert verify_password(encoded, "secret")
    assert not verify_password(encoded, "Secret")
    assert hash_password("secret") != encoded  # a fresh salt each time


def test_hash_of_the_real_mosquitto_passwd_tool_verifies(tmp_path):
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    pw = tmp_path / "pw"
    subprocess.run([tool, "-c", "-b", str(pw), "u1", "s3cret"], check=True, capture_output=True)
    entries = parse_password_file(pw.read_text())
    assert verify_password(entries["u1"], "s3cret")
    assert not verify_password(entries["u1"], "wrong")


def test_our_hash_is_accepted_by_mosquitto_itself(store_broker, mqtt_client):
    """A hand-written entry with a fixed salt: the broker checks it, not our verify_password."""
    paths = store_broker.config.paths
    line = password_line("kiosk-hand-made", hash_password("pa55word", salt=b"\x00" * 12))
    with open(paths.password_file, "a") as handle:
        handle.write(line + "\n")
    store_broker.reload()
    endpoint = store_broker.kiosk_endpoint("kiosk-01")
    from dataclasses import replace

    assert not mqtt_client(replace(endpoint, username="kiosk-hand-made", password="pa55word")).connect().is_failure
    assert mqtt_client(replace(endpoint, username="kiosk-hand-made", password="pa55wore")).connect().is_failure


@pytest.mark.parametrize("username", ["a:b", "a b", "", "x/#"])
def test_password_lines_refuse_unsafe_usernames(username):
    with pytest.raises(CredentialsError):
        password_line(username, hash_password("p"))


def test_malformed_hash_and_empty_password_are_errors():
    with pytest.raises(CredentialsError):
        verify_password("$6$abc$def", "x")
    with pytest.raises(CredentialsError):
        hash_password("")


# -- store CA ------------------------------------------------------------------------------
def test_ca_issues_server_and_client_certificates_that_chain_to_it(tmp_path):
    ca = StoreCA(tmp_path / "ca", clock=FakeClock()).ensure("s1", ("edge-s1.lan",))
    server = x509.load_pem_x509_certificate(ca.server.cert_file.read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "edge-s1.lan"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku

    client = ca.issue_client_cert("kiosk-01", CertPair(tmp_path / "k.crt", tmp_path / "k.key"))
    cert = x509.load_pem_x509_certificate(client.cert_file.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kiosk-01"
    ca_cert = x509.load_pem_x509_certificate(ca.ca_cert_file.read_bytes())
    cert.verify_directly_issued_by(ca_cert)
    server.verify_directly_issued_by(ca_cert)
    # Python's TLS stack loads the pair as a client identity.
    ssl.create_default_context(cafile=str(ca.ca_cert_file)).load_cert_chain(client.cert_file, client.key_file)


def test_ca_validity_starts_a_day_back_from_the_injected_clock(tmp_path):
    clock = FakeClock()
    ca = StoreCA(tmp_path / "ca", clock=clock).ensure("s1")
    cert = x509.load_pem_x509_certificate(ca.ca_cert_file.read_bytes())
    assert (clock.now() - cert.not_valid_before_utc).days == 1


def test_keys_are_private_and_the_ca_is_never_overwritten(tmp_path):
    ca = StoreCA(tmp_path / "ca").ensure("s1")
    for key in (ca.ca_key_file, ca.server.key_file):
        assert key.stat().st_mode & 0o777 == 0o600
    before = ca.ca_cert_file.read_bytes()
    with pytest.raises(CertificateError):
        ca.create("s1")
    ca.ensure("s1")
    assert ca.ca_cert_file.read_bytes() == before


def test_issuing_without_a_ca_is_a_certificate_error(tmp_path):
    with pytest.raises(CertificateError):
        StoreCA(tmp_path / "none").issue_client_cert("kiosk-01", CertPair(tmp_path / "a", tmp_path / "b"))


# -- device registry -----------------------------------------------------------------------
@pytest.fixture
def registry(tmp_path):
    StoreCA(tmp_path / "ca").ensure("s1")
    return DeviceRegistry(tmp_path, clock=FakeClock())


def test_add_kiosk_writes_a_password_entry_and_a_client_certificate(registry):
    creds = registry.add_kiosk("kiosk-01")
    assert isinstance(creds, KioskCredentials) and creds.kiosk_id == "kiosk-01"
    assert len(creds.password) >= 24
    entries = parse_password_file(registry.paths.password_file.read_text())
    assert verify_password(entries["kiosk-01"], creds.password)
    assert creds.cert_file.is_file() and creds.key_file.stat().st_mode & 0o777 == 0o600
    assert registry.registry_file.stat().st_mode & 0o777 == 0o600
    assert creds.password not in repr(creds)


def test_each_kiosk_gets_its_own_password(registry):
    a, b = registry.add_kiosk("kiosk-01"), registry.add_kiosk("kiosk-02")
    assert a.password != b.password
    assert registry.kiosk("kiosk-01").password == a.password


def test_adding_a_kiosk_twice_or_with_an_unsafe_id_is_refused(registry):
    registry.add_kiosk("kiosk-01")
    with pytest.raises(CredentialsError):
        registry.add_kiosk("kiosk-01")
    with pytest.raises(CredentialsError):
        registry.add_kiosk("kiosk-+")
    with pytest.raises(CredentialsError):
        registry.add_kiosk("edge")


def test_revoke_removes_the_password_entry_and_certificate(registry):
    creds = registry.add_kiosk("kiosk-01")
    registry.add_kiosk("kiosk-02")
    registry.revoke_kiosk("kiosk-01")
    entries = parse_password_file(registry.paths.password_file.read_text())
    assert "kiosk-01" not in entries and "kiosk-02" in entries
    assert not creds.cert_file.exists()
    with pytest.raises(UnknownDeviceError):
        registry.kiosk("kiosk-01")
    with pytest.raises(UnknownDeviceError) as caught:
        registry.revoke_kiosk("kiosk-01")
    assert isinstance(caught.value, KeyError)


def test_edge_login_is_created_once(registry):
    first = registry.add_edge()
    assert registry.add_edge().password == first.password
    assert (first.username, first.role) == ("edge", "edge")


def test_list_shows_devices_without_secrets(registry):
    registry.add_edge()
    registry.add_kiosk("kiosk-02")
    registry.add_kiosk("kiosk-01")
    listed = registry.list()
    assert [(d.username, d.role) for d in listed] == [("edge", "edge"), ("kiosk-01", "kiosk"), ("kiosk-02", "kiosk")]
    assert listed[0].enrolled_at == "2026-01-05T09:00:00+00:00"


def test_a_kiosk_needs_the_store_ca(tmp_path):
    with pytest.raises(CertificateError):
        DeviceRegistry(tmp_path).add_kiosk("kiosk-01")


def test_a_corrupt_registry_is_reported_not_overwritten(registry):
    registry.add_kiosk("kiosk-01")
    registry.registry_file.write_text("{not json")
    with pytest.raises(CredentialsError):
        registry.add_kiosk("kiosk-02")
    assert registry.registry_file.read_text() == "{not json"
