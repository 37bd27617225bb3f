"""The store's own certificate authority: a CA, the broker's server certificate, kiosk client certificates.

EC P-256 keys (fast to make on a Pi and in tests). Keys are written 0600, certificates 0644.
Validity starts a day in the past, because a Pi without a real-time clock may boot a little
behind the shop's time.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.errors import CertificateError
from broker.fsutil import atomic_write_bytes
from retail.clock import Clock, SystemClock

__all__ = ["StoreCA", "CertPair"]

log = logging.getLogger(__name__)

_BACKDATE = dt.timedelta(days=1)
CA_DAYS = 3650
SERVER_DAYS = 825
CLIENT_DAYS = 1825


@dataclass(frozen=True, slots=True)
class CertPair:
    """A certificate file and its private key file."""

    cert_file: Path
    key_file: Path


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class StoreCA:
    """The CA of one store, kept in ``ca_dir`` (``ca.crt``/``ca.key``, ``server.crt``/``server.key``)."""

    def __init__(self, ca_dir: Path | str, *, clock: Clock | None = None) -> None:
        self.ca_dir = Path(ca_dir)
        self._clock = clock or SystemClock()

    @property
    def ca_cert_file(self) -> Path:
        return self.ca_dir / "ca.crt"

    @property
    def ca_key_file(self) -> Path:
        return self.ca_dir / "ca.key"

    @property
    def server(self) -> CertPair:
        return CertPair(self.ca_dir / "server.crt", self.ca_dir / "server.key")

    def exists(self) -> bool:
        return self.ca_cert_file.is_file() and self.ca_key_file.is_file()

    # -- making ---------------------------------------------------------------------------
    def ensure(self, store_id: str, hostnames: tuple[str, ...] = ("localhost",)) -> StoreCA:
        """Create the CA and the server certificate if they are not there yet."""
        if not self.exists():
            self.create(store_id)
        if not (self.server.cert_file.is_file() and self.server.key_file.is_file()):
            self.issue_server_cert(hostnames)
        return self

    def create(self, store_id: str) -> None:
        """A new CA key and self-signed certificate; refuses to overwrite an existing CA."""
        if self.exists():
            raise CertificateError(f"a CA already exists in {self.ca_dir}")
        self.ca_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tillpi"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"tillpi store {store_id} CA"),
            ]
        )
        now = self._clock.now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        atomic_write_bytes(self.ca_key_file, _key_pem(key), mode=0o600)
        atomic_write_bytes(self.ca_cert_file, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        log.info("created store CA in %s", self.ca_dir)

    def _load_ca(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        try:
            cert = x509.load_pem_x509_certificate(self.ca_cert_file.read_bytes())
            key = serialization.load_pem_private_key(self.ca_key_file.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise CertificateError(f"no store CA in {self.ca_dir}") from exc
        except ValueError as exc:
            raise CertificateError(f"store CA in {self.ca_dir} is unreadable: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CertificateError("the store CA key is not an EC key")
        return cert, key

    def _issue(
        self,
        common_name: str,
        target: CertPair,
        *,
        days: int,
        usage: x509.ObjectIdentifier,
        san: list[x509.GeneralName] | None = None,
    ) -> CertPair:
        ca_cert, ca_key = self._load_ca()
        key = _new_key()
        now = self._clock.now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tillpi"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        target.cert_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(target.key_file, _key_pem(key), mode=0o600)
        atomic_write_bytes(target.cert_file, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        return target

    def issue_server_cert(self, hostnames: tuple[str, ...] = ("localhost",)) -> CertPair:
        """The broker's certificate: SAN localhost, 127.0.0.1, ::1 and the edge's hostnames."""
        names = list(dict.fromkeys(["localhost", *hostnames]))
        san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
        san += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
        pair = self._issue(names[-1], self.server, days=SERVER_DAYS, usage=ExtendedKeyUsageOID.SERVER_AUTH, san=san)
        log.info("issued broker server certificate for %s", ", ".join(names))
        return pair

    def issue_client_cert(self, common_name: str, target: CertPair) -> CertPair:
        """A client certificate for one device (CN = its MQTT username)."""
        pair = self._issue(common_name, target, days=CLIENT_DAYS, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        log.info("issued client certificate for %s", common_name)
        return pair
