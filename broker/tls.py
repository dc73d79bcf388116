"""The room's TLS material: a room CA and the hub's server certificate, made with ``cryptography``.

Stations trust only the room CA (shipped in their credentials folder), so a laptop on the same
Wi-Fi cannot pose as the hub. The CA's private key stays with whoever runs
``stations broker-config``; only the CA certificate, the server certificate and the server key
go onto the hub.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 10 * 365
# The teacher console serves the same certificate, and Apple's devices (iPad, iPhone, Mac)
# refuse any TLS server certificate valid for more than 825 days, a private CA's included.
SERVER_DAYS = 825
#: Reissue the server certificate when it has less than this left (the hub warns as well).
RENEW_BEFORE = dt.timedelta(days=60)
# A Pi has no real-time clock: until NTP answers it runs on the time it last saved, which can
# be days behind. Backdating the start of validity keeps such a station connecting; the key is
# new either way, so an earlier start gives nothing away.
BACKDATE = dt.timedelta(days=2)

PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    key: PrivateKey
    cert: x509.Certificate


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> PrivateKey:
    # P-256: fast handshakes on a Pi Zero, supported by every TLS stack the stations use.
    return ec.generate_private_key(ec.SECP256R1())


def new_ca(room: str, *, now: dt.datetime | None = None, days: int = CA_DAYS) -> Issued:
    """A self-signed CA for one room that may sign only end-entity certificates."""
    now = now or _utcnow()
    key = new_key()
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Classroom stations"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{room} room CA"),
    ])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue_server_cert(ca: Issued, hostname: str, ip: str, *, now: dt.datetime | None = None,
                      days: int = SERVER_DAYS,
                      not_before: dt.datetime | None = None) -> Issued:
    """The hub's certificate, valid for its host name and IP address (both in subjectAltName).

    ``not_before`` overrides the start of validity (tests use it to make a certificate that is
    not valid yet).
    """
    now = now or _utcnow()
    key = new_key()
    public = key.public_key()
    start = not_before or (now - BACKDATE)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Classroom stations"),
            x509.NameAttribute(NameOID.COMMON_NAME, hostname),
        ]))
        .issuer_name(ca.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        # Counted from the start of validity: Apple's limit is on the whole period.
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address(ip)),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                       critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key, cert)


def server_cert_fits(cert: x509.Certificate, ca_cert: x509.Certificate, hostname: str, ip: str,
                     *, now: dt.datetime | None = None) -> bool:
    """Whether an existing server certificate can be kept: same CA, names, and time left."""
    now = now or _utcnow()
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (InvalidSignature, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    names = set(san.get_values_for_type(x509.DNSName))
    ips = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return (names == {hostname} and ips == {str(ipaddress.ip_address(ip))}
            and cert.not_valid_after_utc - now > RENEW_BEFORE
            and cert.not_valid_before_utc <= now)


def certificate_end(path: Path | None) -> dt.datetime | None:
    """When the certificate at ``path`` stops being valid; None when there is none to read."""
    if path is None:
        return None
    try:
        return load_cert(path).not_valid_after_utc
    except (OSError, ValueError):
        return None


def ca_usable(ca_cert: x509.Certificate, *, now: dt.datetime | None = None) -> bool:
    now = now or _utcnow()
    return ca_cert.not_valid_after_utc - now > RENEW_BEFORE


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: expected an EC private key")
    return key


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, as ``openssl x509 -fingerprint -sha256`` prints it."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
