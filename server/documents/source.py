"""What a document is rendered from: the minutes' content (plain data, as
``scheduling.minutes_content`` makes it) and, for an approved version, its approval
(version number, SHA-256 chained to the previous version, when and by whom).

A draft's content is computed live from the conference; an approved version's content is
the snapshot recorded in its ``MinutesApproved`` event, never recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from scheduling.reports import MinutesInputs, minutes_content
from scheduling.state import ConferenceState, Phase

from .errors import DocumentError, DocumentErrorCode
from .labels import LANGS


class ApprovedVersion(Protocol):
    """An approved version as the domain records it: ``MinutesVersion`` (state) and the
    ``MinutesApproved`` event both have these attributes."""

    @property
    def version(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def prev_sha256(self) -> str: ...
    @property
    def content(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Approval:
    version: int
    sha256: str
    prev_sha256: str
    approved_at: datetime | None = None
    approved_by: str = ""     # account id (an actor ref "account:x" is accepted and trimmed)


@dataclass(frozen=True)
class MinutesSource:
    content: dict[str, Any]
    approval: Approval | None = None    # None: a draft

    @property
    def is_draft(self) -> bool:
        return self.approval is None

    @property
    def version(self) -> int:
        if self.approval is not None:
            return self.approval.version
        return int(self.content.get("header", {}).get("version", 0))

    @property
    def conference_id(self) -> str:
        return str(self.content.get("header", {}).get("conference_id", ""))


@dataclass(frozen=True)
class RenderOptions:
    """How to present the content: language, display names of the accounts the content
    names by id (chair, secretaries, approver), and the place printed before the date."""

    lang: str = "vi"
    names: Mapping[str, str] = field(default_factory=dict)
    place: str = ""


def check_options(options: RenderOptions) -> DocumentError | None:
    if options.lang not in LANGS:
        return DocumentError(DocumentErrorCode.UNKNOWN_LANG,
                             f"language {options.lang[:20]!r} is not one of {', '.join(LANGS)}")
    return None


def draft_source(state: ConferenceState, inputs: MinutesInputs | None = None) -> MinutesSource:
    """The current draft, computed from the conference's log (and, like an approval, from
    the display names and reviewed action items the server hands in)."""
    return MinutesSource(content=minutes_content(state, inputs))


def approved_source(version: ApprovedVersion) -> MinutesSource:
    """An approved version, from a ``MinutesVersion`` or a ``MinutesApproved`` event."""
    at = getattr(version, "approved_at", None) or getattr(version, "at", None)
    by = getattr(version, "approved_by", None) or getattr(version, "actor", "") or ""
    return MinutesSource(content=version.content, approval=Approval(
        version=version.version, sha256=version.sha256, prev_sha256=version.prev_sha256,
        approved_at=at if isinstance(at, datetime) else None, approved_by=account_id(str(by))))


def source_for(state: ConferenceState, version: int | None = None,
               inputs: MinutesInputs | None = None) -> MinutesSource | DocumentError:
    """The minutes of an ended conference: approved ``version``, or the draft when None
    (``inputs``: see ``draft_source``)."""
    if state.phase is not Phase.ENDED:
        return DocumentError(DocumentErrorCode.NOT_ENDED,
                             f"conference {state.conference_id!r} is {state.phase.value}: minutes are "
                             "rendered once it has ended")
    if version is None:
        return draft_source(state, inputs)
    approved = state.minutes.approved
    if not 1 <= version <= len(approved):
        have = f"1 to {len(approved)}" if approved else "none yet"
        return DocumentError(DocumentErrorCode.UNKNOWN_VERSION,
                             f"no approved version {version} of the minutes (approved versions: {have})")
    return approved_source(approved[version - 1])


def account_id(ref: str) -> str:
    """"account:chu.tich" -> "chu.tich"; an id stays as it is."""
    return ref.split(":", 1)[1] if ref.startswith("account:") else ref
