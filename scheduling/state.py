"""The state of one conference: a fold of its event stream.

States are enums; every collection is keyed by a stable id. ``evolve`` (conference.py) is the
only writer. ``version`` is the seq of the last event applied (streams have no gaps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from .base import Results
from .directory import SiteInfo, SiteKind
from .ward_records import ConferenceDocument, Recommendation, Vote

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


class Phase(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    REHEARSAL = "rehearsal"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class ConferenceKind(StrEnum):
    TRAINING = "training"
    PERIODIC_REVIEW = "periodic_review"
    THEMATIC = "thematic"
    EXTRAORDINARY = "extraordinary"
    OTHER = "other"


class Connection(StrEnum):
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class ItemStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"


class NoteKind(StrEnum):
    NOTE = "note"
    CONCLUSION = "conclusion"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True)
class Leader:
    name: str
    title: str = ""
    present: bool = True
    reason: str = ""


@dataclass
class Attendance:
    connection: Connection = Connection.OFFLINE
    first_joined: datetime | None = None
    last_left: datetime | None = None
    checked_in_at: datetime | None = None
    headcount: int = 0
    leaders: tuple[Leader, ...] = ()

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None


@dataclass
class RollCall:
    round_id: str
    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None = None
    answers: dict[str, int] = field(default_factory=dict)

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and now <= self.deadline


@dataclass
class Run:
    started: datetime
    ended: datetime | None = None


@dataclass
class AgendaItem:
    item_id: str
    title: str
    presenter: str = ""
    planned_minutes: int = 0
    documents: tuple[str, ...] = ()
    status: ItemStatus = ItemStatus.PENDING
    runs: list[Run] = field(default_factory=list)
    follow_up: tuple[str, ...] = ()   # action items of an earlier conference reviewed here


@dataclass(frozen=True)
class FloorRequest:
    site: str
    at: datetime
    item_id: str | None = None
    topic: str = ""


@dataclass(frozen=True)
class Speaker:
    site: str
    since: datetime
    until: datetime | None = None   # the time limit, if any
    item_id: str | None = None      # the agenda item active when the floor was granted
    topic: str = ""


@dataclass(frozen=True)
class Turn:
    """One speaking turn: who spoke, during which agenda item, from when to when."""

    site: str
    item_id: str | None
    started: datetime
    ended: datetime
    topic: str = ""


@dataclass
class Floor:
    queue: list[FloorRequest] = field(default_factory=list)
    speakers: dict[str, Speaker] = field(default_factory=dict)
    muted: set[str] = field(default_factory=set)
    turns: list[Turn] = field(default_factory=list)

    def queued(self, site: str) -> FloorRequest | None:
        return next((r for r in self.queue if r.site == site), None)


@dataclass(frozen=True)
class Deck:
    """A slide deck (a PDF rendered to page images by the server, stored by its SHA-256)."""

    deck_id: str
    name: str
    size: int
    pages: int
    sha256: str
    item_id: str | None
    attached_by: str
    attached_at: datetime


@dataclass
class Slide:
    """One page shown: which page of which deck, by whom, during which item, from when until
    when (``ended`` None: on screen now)."""

    deck_id: str
    page: int
    presenter: str
    item_id: str | None
    at: datetime
    ended: datetime | None = None


@dataclass
class Presentation:
    """Decks attached to the conference, which floor holders the chair lets present, and what
    is presented now (``presenter`` None: nothing). ``shown`` is every page turn, for the minutes."""

    decks: dict[str, Deck] = field(default_factory=dict)
    allowed: set[str] = field(default_factory=set)
    presenter: str | None = None
    deck_id: str | None = None
    page: int = 0
    shown: list[Slide] = field(default_factory=list)
    sharer: str | None = None
    """The site whose screen is shared now (None: no share); independent of the deck."""


@dataclass
class Note:
    note_id: str
    item_id: str | None
    kind: NoteKind
    text: str
    author: str
    created: datetime
    updated: datetime
    rev: int = 1


@dataclass(frozen=True)
class MinutesVersion:
    version: int
    approved_at: datetime
    approved_by: str
    sha256: str
    prev_sha256: str
    content: dict[str, Any]


@dataclass
class Receipt:
    delivered_at: datetime
    opened_at: datetime | None = None
    acknowledged_at: datetime | None = None
    reminded_at: datetime | None = None   # the last reminder to acknowledge
    reminders: int = 0


@dataclass(frozen=True)
class Mailing:
    """The last e-mail of a minutes version to one recipient, as the server's mailer reported it."""

    at: datetime
    error: str = ""   # empty: the SMTP server accepted it


@dataclass
class Minutes:
    approved: list[MinutesVersion] = field(default_factory=list)
    editing: bool = True    # false from an approval until a correction is opened
    receipts: dict[int, dict[str, Receipt]] = field(default_factory=dict)   # version -> site -> receipt
    accounts: dict[int, tuple[str, ...]] = field(default_factory=dict)      # version -> accounts sent to
    mail: dict[int, dict[str, Mailing]] = field(default_factory=dict)       # version -> "site:X"/"account:y" -> e-mail

    @property
    def draft_version(self) -> int:
        return len(self.approved) + 1

    def latest(self) -> MinutesVersion | None:
        return self.approved[-1] if self.approved else None


@dataclass(frozen=True)
class Progress:
    by: str
    at: datetime
    text: str
    percent: int | None = None


@dataclass
class ActionItem:
    action_id: str
    item_id: str | None
    title: str
    description: str
    assignees: tuple[str, ...]
    due: date
    created: datetime
    status: ActionStatus = ActionStatus.OPEN
    confirmed: bool = False
    updates: list[Progress] = field(default_factory=list)

    def is_overdue(self, today: date) -> bool:
        return self.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS) and today > self.due


@dataclass(frozen=True, kw_only=True)
class Readiness:
    """The last connectivity check of a site (readiness.py): the verdict and the figures."""

    at: datetime
    status: str                      # ready | needs_check (a site with none: unchecked)
    problems: tuple[str, ...]
    camera: bool
    microphone: bool
    mic_level: int | None
    rtt_ms: int | None
    loss_pct: float | None
    bitrate_kbps: int | None
    relay: bool
    via: str
    runs: int = 1                    # how many checks the site has run


@dataclass
class ConferenceState:
    conference_id: str
    title: str
    kind: ConferenceKind
    starts_at: datetime
    ends_at: datetime
    timezone: str
    main_site: str
    chair: str
    secretaries: tuple[str, ...] = ()
    observers: tuple[str, ...] = ()
    max_speakers: int = 1
    series: str = ""
    description: str = ""
    phase: Phase = Phase.DRAFT
    opened_at: datetime | None = None
    ended_at: datetime | None = None
    sites: dict[str, SiteInfo] = field(default_factory=dict)
    attendance: dict[str, Attendance] = field(default_factory=dict)
    agenda: list[AgendaItem] = field(default_factory=list)
    roll_calls: dict[str, RollCall] = field(default_factory=dict)
    floor: Floor = field(default_factory=Floor)
    presentation: Presentation = field(default_factory=Presentation)
    notes: dict[str, Note] = field(default_factory=dict)
    minutes: Minutes = field(default_factory=Minutes)
    actions: dict[str, ActionItem] = field(default_factory=dict)
    readiness: dict[str, Readiness] = field(default_factory=dict)   # site -> its last connectivity check
    recommendations: dict[str, Recommendation] = field(default_factory=dict)   # what the wards bring
    documents: dict[str, ConferenceDocument] = field(default_factory=dict)
    votes: dict[str, Vote] = field(default_factory=dict)
    version: int = 0
    results: Results = field(default_factory=dict)

    # -- lookups ---------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_invited(self, code: str) -> bool:
        return code in self.sites

    def remote_sites(self) -> list[str]:
        return [c for c, s in self.sites.items() if s.kind is SiteKind.REMOTE and c != self.main_site]

    def item(self, item_id: str) -> AgendaItem | None:
        return next((i for i in self.agenda if i.item_id == item_id), None)

    def active_item(self) -> AgendaItem | None:
        return next((i for i in self.agenda if i.status is ItemStatus.ACTIVE), None)
