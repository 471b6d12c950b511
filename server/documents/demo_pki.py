"""A demo certificate authority and organisation certificate, clearly named DEMO, so that the
signature of the minutes is visible out of the box (``bridgeconf serve --demo``) and the
tests can sign. Never for production: a real organisation signs with the certificate its
trust-service provider issued (PKCS#12 file, or a token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    pkcs12,
)
from cryptography.x509.oid import NameOID

DEMO_CA_NAME = "DEMO bridgeconf CA (not for real documents)"
DEMO_PASSWORD = b"demo"


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)


def _name(common: str, org: str = "DEMO") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(name: str = DEMO_CA_NAME, *, now: datetime | None = None, years: int = 10) -> Authority:
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Authority(key, cert)


def make_org_p12(ca: Authority, organisation: str, *, password: bytes = DEMO_PASSWORD,
                 not_before: datetime | None = None, not_after: datetime | None = None,
                 may_sign: bool = True) -> bytes:
    """A PKCS#12 file with the organisation's key, its certificate (issued by ``ca``) and the
    CA's certificate (the chain a signature embeds)."""
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=may_sign, content_commitment=may_sign, key_encipherment=not may_sign,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(_name(organisation, organisation))
            .issuer_name(ca.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=1))
            .not_valid_after(not_after or now + timedelta(days=365 * 3))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))
    encryption = BestAvailableEncryption(password) if password else NoEncryption()
    return pkcs12.serialize_key_and_certificates(organisation.encode(), key, cert, [ca.certificate], encryption)


def ensure_demo_pki(directory: Path, organisation: str) -> tuple[Path, Path]:
    """On first start: ``directory``/demo-ca.pem and demo-org.p12 (password "demo"); later
    starts keep them. Returns (trust root, PKCS#12)."""
    directory.mkdir(parents=True, exist_ok=True)
    root, p12 = directory / "demo-ca.pem", directory / "demo-org.p12"
    if not (root.exists() and p12.exists()):
        ca = make_ca()
        tmp = p12.with_suffix(".tmp")
        tmp.write_bytes(make_org_p12(ca, f"DEMO {organisation}"))
        root.with_suffix(".tmp").write_bytes(ca.pem())
        tmp.replace(p12)
        root.with_suffix(".tmp").replace(root)
    return root, p12
