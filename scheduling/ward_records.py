"""The state of what the wards bring to a conference: their recommendations (kiến nghị) and
the departments' answers, the conference's documents with per-site receipts, and quick votes
(biểu quyết). Plain data, folded by the rules of recommendations.py, documents.py, votes.py."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from .base import check_text
from .errors import ValidationError

MAX_FILE_BYTES = 50 * 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
#: what a conference document or an attachment may be: PDF, DOCX, XLSX, PPTX, images
FILE_TYPES = frozenset({
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "image/png", "image/jpeg",
})


@dataclass(frozen=True, kw_only=True)
class FileRef:
    """A file kept in the server's content-addressed store: the log holds only this."""

    name: str
    size: int
    content_type: str
    sha256: str

    def __post_init__(self) -> None:
        check_text("name", self.name, max_len=200)
        if "/" in self.name or "\\" in self.name:
            raise ValidationError("name: a file name has no folder")
        if not 1 <= self.size <= MAX_FILE_BYTES:
            raise ValidationError(f"size: between 1 and {MAX_FILE_BYTES} bytes, got {self.size}")
        if self.content_type not in FILE_TYPES:
            raise ValidationError(f"content_type: {self.content_type[:80]!r} is not PDF, DOCX, XLSX, PPTX, PNG or JPEG")
        if not SHA256_RE.match(self.sha256):
            raise ValidationError("sha256: 64 lowercase hex digits")


# -- recommendations --------------------------------------------------------------------------

class RecStatus(StrEnum):
    SUBMITTED = "submitted"   # mới gửi: not yet assigned
    ASSIGNED = "assigned"     # đã giao: waiting for the departments' answer
    ANSWERED = "answered"     # đã trả lời: waiting for the chair
    ACCEPTED = "accepted"     # the chair accepted the answer: closed
    MERGED = "merged"         # folded into another recommendation (which holds its sources)


OPEN_RECS = (RecStatus.SUBMITTED, RecStatus.ASSIGNED, RecStatus.ANSWERED)


class AnswerMode(StrEnum):
    WRITTEN = "written"           # trả lời bằng văn bản
    IN_MEETING = "in_meeting"     # trả lời tại hội nghị, during a speaking turn


@dataclass(frozen=True)
class Answer:
    department: str
    mode: AnswerMode
    text: str
    at: datetime
    turn_started: datetime | None = None   # the department's speaking turn (in the meeting)


@dataclass
class Recommendation:
    rec_id: str
    site: str                         # who submitted it
    title: str
    text: str
    field: str
    item_id: str | None
    submitted_at: datetime
    attachments: tuple[FileRef, ...] = ()
    sources: tuple[str, ...] = ()     # every site that raised it (its own and merged ones)
    merged_from: tuple[str, ...] = ()
    merged_into: str | None = None
    departments: tuple[str, ...] = ()
    due: date | None = None
    in_meeting: bool = False
    status: RecStatus = RecStatus.SUBMITTED
    answers: list[Answer] = dataclasses.field(default_factory=list)
    kept_open: list[str] = dataclasses.field(default_factory=list)     # the chair's reasons, each time
    feedback: dict[str, bool] = dataclasses.field(default_factory=dict)   # source site -> its obstacle resolved?
    carried_from: str = ""            # "<conference_id>/<rec_id>" of the series' earlier conference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RECS

    def is_overdue(self, today: date) -> bool:
        return self.status is RecStatus.ASSIGNED and self.due is not None and today > self.due


# -- documents -------------------------------------------------------------------------------

@dataclass
class DocReceipt:
    opened_at: datetime | None = None
    downloaded_at: datetime | None = None


@dataclass
class ConferenceDocument:
    document_id: str
    file: FileRef
    item_id: str | None
    added_at: datetime
    removed: bool = False
    receipts: dict[str, DocReceipt] = dataclasses.field(default_factory=dict)   # site -> receipt


# -- votes ------------------------------------------------------------------------------------

class VoteMode(StrEnum):
    PER_SITE = "per_site"           # one vote per site
    PER_DELEGATE = "per_delegate"   # each hall reports counts for its delegates present


DEFAULT_OPTIONS = ("Tán thành", "Không tán thành", "Không có ý kiến")


@dataclass(frozen=True)
class Ballot:
    site: str
    counts: tuple[int, ...]   # per option; a per-site ballot has a single 1
    at: datetime


@dataclass
class Vote:
    vote_id: str
    question: str
    options: tuple[str, ...]
    mode: VoteMode
    secret: bool
    deadline: datetime
    item_id: str | None
    opened_at: datetime
    closed_at: datetime | None = None
    ballots: dict[str, Ballot] = dataclasses.field(default_factory=dict)
    result: tuple[int, ...] = ()   # the tally as closed (what a site's page shows: its ballots carry no counts)

    def accepts(self, now: datetime) -> bool:
        return self.closed_at is None and now <= self.deadline

    def tally(self) -> tuple[int, ...]:
        return tuple(sum(b.counts[i] for b in self.ballots.values()) for i in range(len(self.options)))
