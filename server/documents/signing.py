"""Digital signatures of approved minutes (chữ ký số): PAdES-B-B with pyHanko, the reference
Python implementation of PAdES (ETSI EN 319 142) — CMS detached signature, the signing
certificate attribute, the certificate chain embedded — and their validation.

The signer is one small interface, ``PdfSigner``: ``check(at)`` says whether it can sign at
all (before an approval is recorded: a bad certificate refuses the approval), ``sign(pdf)``
signs. ``Pkcs12Signer`` reads a PKCS#12 file and its password; a hardware token would be
another implementation of the same two methods.

``check_signature(pdf, trust_roots, approved_at)`` validates: the signature covers the whole
file (an update appended after signing fails), the bytes it covers are intact, the chain
leads to one of the admin's trust roots, the signing certificate was valid at signing time,
and the signing time is not before the approval.
"""

from __future__ import annotations

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)

log = logging.getLogger(__name__)

SKEW = timedelta(minutes=5)       # clocks of the signer and of the approval may differ this much
FIELD_NAME = "BridgeconfSignature"


class SigningError(Exception):
    """The organisation's certificate cannot sign: ``code`` says why (bad_certificate)."""

    def __init__(self, message: str, code: str = "bad_certificate") -> None:
        super().__init__(message)
        self.code, self.message = code, message


class PdfSigner(Protocol):
    """What approving needs of a signer."""

    @property
    def subject(self) -> str: ...

    def check(self, at: datetime) -> None:
        """Raise SigningError when no valid signature can be made at ``at``."""

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes: ...


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    not_before: datetime
    not_after: datetime
    may_sign: bool        # keyUsage has digitalSignature or nonRepudiation (or no keyUsage at all)


def describe(cert: x509.Certificate) -> CertificateInfo:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        may_sign = bool(usage.digital_signature or usage.content_commitment)
    except x509.ExtensionNotFound:
        may_sign = True
    return CertificateInfo(subject=cert.subject.rfc4514_string(), not_before=cert.not_valid_before_utc,
                           not_after=cert.not_valid_after_utc, may_sign=may_sign)


def certificate_problem(cert: x509.Certificate, at: datetime) -> str | None:
    """Why ``cert`` cannot sign at ``at``, or None."""
    info = describe(cert)
    if at < info.not_before:
        return f"the organisation's certificate ({info.subject}) is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC"
    if at > info.not_after:
        return f"the organisation's certificate ({info.subject}) expired on {info.not_after:%Y-%m-%d %H:%M} UTC"
    if not info.may_sign:
        return f"the organisation's certificate ({info.subject}) has no digital-signature key usage"
    return None


class Pkcs12Signer:
    """The organisation's certificate from a PKCS#12 (.p12/.pfx) file. Read once; a wrong
    password or an unreadable file raises SigningError here, so a server that cannot sign
    says so at start-up, and ``check`` refuses every approval."""

    def __init__(self, path: Path, password: bytes, *, tsa_url: str = "") -> None:
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningError(f"cannot read the organisation's certificate {path}: {exc.strerror or exc}") from None
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password or None)
        except ValueError:
            raise SigningError(f"cannot open the organisation's certificate {path.name}: wrong password "
                               "or not a PKCS#12 file") from None
        if key is None or cert is None:
            raise SigningError(f"{path.name} holds no private key and certificate")
        self.certificate = cert
        self.chain = tuple(extra)
        self.tsa_url = tsa_url
        der_key = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        self._signer = signers.SimpleSigner(
            signing_cert=_asn1(cert), signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in extra]))

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def check(self, at: datetime) -> None:
        problem = certificate_problem(self.certificate, at)
        if problem is not None:
            raise SigningError(problem)

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers, timestamps

        self.check(datetime.now(UTC))
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, reason=reason[:200],
            location=location[:200], md_algorithm="sha256", use_pades_lta=False, embed_validation_info=False)
        stamper = timestamps.HTTPTimeStamper(self.tsa_url) if self.tsa_url else None
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.PdfSigner(meta, signer=self._signer, timestamper=stamper).sign_pdf(writer)
        return bytes(out.getvalue())


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def load_certificates(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM (or DER) file: the admin's trust roots."""
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


@dataclass(frozen=True)
class SignatureReport:
    ok: bool
    message: str
    checks: tuple[str, ...] = ()
    signer: str = ""
    signed_at: datetime | None = None


def check_signature(pdf: bytes, *, trust_roots: list[x509.Certificate] | None,
                    approved_at: datetime | None) -> SignatureReport:
    """Validate the one PAdES signature of a signed minutes PDF (see the module's doc)."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return SignatureReport(False, f"the PDF's signatures cannot be read: {exc}")
    if not signatures:
        return SignatureReport(False, "the PDF is not signed (the signed original is the PDF the server issues)")
    if len(signatures) > 1:
        return SignatureReport(False, f"the PDF carries {len(signatures)} signatures; the original has one")
    context = ValidationContext(trust_roots=[_asn1(c) for c in trust_roots or []], allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        # pyHanko's synchronous API runs its own event loop: off any loop of the caller's
        with ThreadPoolExecutor(max_workers=1) as pool:
            status = pool.submit(validate_pdf_signature, signatures[0], context).result()
    except Exception as exc:   # pyHanko raises many kinds on a malformed signature
        return SignatureReport(False, f"the signature cannot be validated: {type(exc).__name__}: {exc}")
    checks: list[str] = []
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    at = status.signer_reported_dt
    base = {"signer": signer, "signed_at": at}
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureReport(False, "the signature does not cover the whole file: something was added after "
                               "signing (an incremental update)", tuple(checks), **base)
    checks.append("signature covers the whole file")
    if not (status.intact and status.valid):
        return SignatureReport(False, "the signature does not match the file's bytes (changed after signing)",
                               tuple(checks), **base)
    checks.append("signature intact")
    if trust_roots:
        if not status.trusted:
            return SignatureReport(False, f"the signer's certificate ({signer}) does not lead to a configured "
                                   "trust root, or was not valid when it signed", tuple(checks), **base)
        checks.append("certificate chain to the trust root")
    if approved_at is not None and at is not None:
        if at < approved_at - SKEW:
            return SignatureReport(False, f"signed at {at.isoformat()}, before the approval at "
                                   f"{approved_at.isoformat()}", tuple(checks), **base)
        checks.append("signed after the approval")
    note = "" if trust_roots else " (certificate chain not checked: no trust root given)"
    return SignatureReport(True, f"signed by {signer}{note}", tuple(checks), **base)
