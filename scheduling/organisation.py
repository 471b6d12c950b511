"""The organisation that issues the minutes, in the format of Decree 30/2020/NĐ-CP on
clerical work: the two lines of its masthead (governing body, issuing body), the symbol of
its documents' numbers ("Số: 12/BB-VP"), the place printed before the date, the titles of
the signature block and the recipients ("Nơi nhận") — kept by the admin — and the document
numbers themselves.

Numbers are per year, gap-free and never reused: the server reserves one for a conference's
version just before the approval that prints it. A reservation is keyed by conference and
version, so a retry of that approval (after a crash between the two) gets the same number
back instead of burning a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .actors import Actor, Role, require
from .base import Command, Event, Results, check_id, check_text, command, event, record_result
from .errors import DomainError, ErrorCode, ValidationError

SYMBOL_RE = re.compile(r"^[A-ZĐ0-9][A-ZĐ0-9.-]{0,31}\Z")
MAX_LINE = 200
MAX_RECIPIENTS = 20
MIN_YEAR, MAX_YEAR = 2000, 2999


@dataclass(frozen=True, kw_only=True)
class OrgSettings:
    """What shapes the printed record. Empty lines are left out of the document."""

    governing_body: str = ""      # "UBND THÀNH PHỐ HÀ NỘI" (cơ quan chủ quản)
    issuing_body: str = ""        # "VĂN PHÒNG" (cơ quan ban hành)
    symbol: str = "BB"            # the symbol after the number: "Số: 12/BB-VP"
    place: str = ""               # "Hà Nội", before the date
    chair_title: str = ""         # above the chair's signature ("CHỦ TỌA"; default: the label)
    secretary_title: str = ""     # above the secretary's ("THƯ KÝ")
    recipients: tuple[str, ...] = ()   # Nơi nhận: "Như trên;", "Lưu: VT, VP."

    def check(self) -> None:
        for name in ("governing_body", "issuing_body", "place", "chair_title", "secretary_title"):
            check_text(name, getattr(self, name), max_len=MAX_LINE, required=False)
        if not SYMBOL_RE.match(self.symbol):
            raise ValidationError(f"symbol: {self.symbol[:40]!r} is not a document symbol like BB or BB-VP "
                                  "(capital letters, digits, '-' and '.', at most 32)")
        if len(self.recipients) > MAX_RECIPIENTS:
            raise ValidationError(f"recipients: at most {MAX_RECIPIENTS}")
        for i, r in enumerate(self.recipients):
            check_text(f"recipients[{i}]", r, max_len=MAX_LINE)


def number_text(number: int, symbol: str) -> str:
    """"12/BB-VP"."""
    return f"{number}/{symbol}"


@dataclass
class Organisation:
    settings: OrgSettings = field(default_factory=OrgSettings)
    last_number: dict[int, int] = field(default_factory=dict)              # year -> last number given
    reserved: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)  # (conf, version) -> (year, n)
    version: int = 0
    results: Results = field(default_factory=dict)

    def reservation(self, conference_id: str, version: int) -> tuple[int, int] | None:
        return self.reserved.get((conference_id, version))


@command
@dataclass(frozen=True, kw_only=True)
class SetOrganisation(Command):
    TYPE = "set_organisation"
    settings: OrgSettings

    def check(self) -> None:
        self.settings.check()


@command
@dataclass(frozen=True, kw_only=True)
class ReserveNumber(Command):
    """The next number of ``year`` for a conference's version (the server, just before the
    approval); again for the same conference and version: nothing new, the one it has."""

    TYPE = "reserve_number"
    conference_id: str
    version: int
    year: int

    def check(self) -> None:
        check_id("conference_id", self.conference_id)
        if self.version < 1:
            raise ValidationError("version: at least 1")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValidationError(f"year: between {MIN_YEAR} and {MAX_YEAR}")


@event
@dataclass(frozen=True, kw_only=True)
class OrganisationSet(Event):
    TYPE = "organisation_set"
    settings: OrgSettings


@event
@dataclass(frozen=True, kw_only=True)
class NumberReserved(Event):
    TYPE = "number_reserved"
    conference_id: str
    version: int
    year: int
    number: int


def may_set_organisation(actor: Actor) -> None:
    """The admin keeps the organisation's settings."""
    require(None, actor, Role.ADMIN, what="change the organisation's settings")


def may_reserve_number(actor: Actor) -> None:
    """Numbers are given by the server at approval, never by a person."""
    require(None, actor, Role.SYSTEM, what="reserve a document number")


def decide_organisation(state: Organisation, cmd: Command, actor: Actor, *, now: datetime) -> list[Event]:
    meta: dict[str, Any] = {"at": now, "actor": actor.ref, "key": cmd.key}
    match cmd:
        case SetOrganisation():
            may_set_organisation(actor)
            if cmd.settings == state.settings:
                return []
            return [OrganisationSet(settings=cmd.settings, **meta)]
        case ReserveNumber():
            may_reserve_number(actor)
            if state.reservation(cmd.conference_id, cmd.version) is not None:
                return []
            number = state.last_number.get(cmd.year, 0) + 1
            return [NumberReserved(conference_id=cmd.conference_id, version=cmd.version, year=cmd.year,
                                   number=number, **meta)]
    raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not a command of the organisation")


def evolve_organisation(state: Organisation, ev: Event) -> Organisation:
    match ev:
        case OrganisationSet():
            state.settings = ev.settings
        case NumberReserved():
            state.reserved[(ev.conference_id, ev.version)] = (ev.year, ev.number)
            state.last_number[ev.year] = max(state.last_number.get(ev.year, 0), ev.number)
    state.version += 1
    record_result(state.results, ev, state.version)
    return state
