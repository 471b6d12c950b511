"""Errors of document rendering and verification, as values with codes.

Hierarchy::

    DocumentError       a request the renderer refuses (code: DocumentErrorCode)
    VerifyCode          the outcome of a verification (OK, or what is wrong), in a VerifyReport

Neither carries an HTTP status: the server maps codes to statuses, the CLI to exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DocumentErrorCode(StrEnum):
    NOT_ENDED = "not_ended"              # minutes of a conference that has not ended
    UNKNOWN_VERSION = "unknown_version"  # no such approved version
    UNKNOWN_FORMAT = "unknown_format"    # not html, pdf or docx
    UNKNOWN_LANG = "unknown_lang"        # not vi or en


@dataclass(frozen=True)
class DocumentError:
    code: DocumentErrorCode
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}


class VerifyCode(StrEnum):
    OK = "ok"
    UNREADABLE = "unreadable"            # not an HTML, PDF or DOCX file we can open
    NO_STAMP = "no_stamp"                # a readable file without bridgeconf minutes data
    BAD_STAMP = "bad_stamp"              # the embedded data is malformed
    DRAFT = "draft"                      # a draft: there is no approved hash to check
    CONTENT_TAMPERED = "content_tampered"  # the embedded content does not hash to its SHA-256
    TEXT_TAMPERED = "text_tampered"      # the visible text differs from the embedded content
    NOT_IN_CHAIN = "not_in_chain"        # the hash is not the one the conference recorded
    BROKEN_CHAIN = "broken_chain"        # a chain of versions that does not link up
    FIELD_MISMATCH = "field_mismatch"    # a printed field (approval, issuer, number) disagrees with the record
    BAD_SIGNATURE = "bad_signature"      # the PDF's signature is missing, broken, partial or untrusted
