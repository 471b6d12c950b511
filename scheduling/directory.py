"""The directory of bridge sites: the main bridge and the remote ward/commune halls.

It lives in a stream of its own (``directory``) and outlives every conference. Conferences
copy what they need of a site (:class:`SiteInfo`) when they invite it, so a conference's log
is a complete record on its own.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .actors import Actor, Role, require
from .base import (
    Command,
    Event,
    Results,
    check_code,
    check_range,
    check_text,
    command,
    event,
    record_result,
)
from .errors import DomainError, ErrorCode, ValidationError

MAX_HEADCOUNT = 100_000
MAX_IMPORT_ROWS = 5_000


class SiteKind(StrEnum):
    MAIN = "main"
    REMOTE = "remote"
    DEPARTMENT = "department"   # a responding body (sở, ngành): answers the wards' recommendations


#: the fields (lĩnh vực) of the wards' recommendations until the admin sets its own list
DEFAULT_FIELDS = ("Đất đai", "Tài chính – ngân sách", "Tổ chức bộ máy", "Đầu tư – xây dựng",
                  "Văn hóa – xã hội", "Khác")
MAX_FIELDS = 100


@dataclass(frozen=True, kw_only=True)
class SiteInfo:
    code: str
    name: str
    parent: str = ""
    kind: SiteKind = SiteKind.REMOTE
    expected_headcount: int = 0
    contact_name: str = ""
    contact_phone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        check_code("code", self.code)
        check_text("name", self.name, max_len=200)
        check_text("parent", self.parent, max_len=200, required=False)
        check_range("expected_headcount", self.expected_headcount, 0, MAX_HEADCOUNT)
        check_text("contact_name", self.contact_name, max_len=200, required=False)
        check_text("contact_phone", self.contact_phone, max_len=40, required=False)
        check_text("email", self.email, max_len=254, required=False)
        if self.email and ("@" not in self.email or " " in self.email):
            raise ValidationError(f"email: {self.email[:60]!r} is not an e-mail address")


@dataclass
class Directory:
    sites: dict[str, SiteInfo] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    fields: tuple[str, ...] = DEFAULT_FIELDS
    version: int = 0
    results: Results = field(default_factory=dict)

    def active(self) -> list[SiteInfo]:
        return [s for code, s in self.sites.items() if code not in self.retired]

    def get(self, code: str) -> SiteInfo:
        site = self.sites.get(code)
        if site is None or code in self.retired:
            raise DomainError(ErrorCode.UNKNOWN_SITE, f"no site with code {code!r} in the directory")
        return site

    def group(self, name: str) -> list[SiteInfo]:
        """Sites of a group: ``all``, ``remote``, or every site whose parent is ``name``."""
        if name == "all":
            return self.active()
        if name == "remote":
            return [s for s in self.active() if s.kind is SiteKind.REMOTE]
        members = [s for s in self.active() if s.parent == name]
        if not members:
            raise DomainError(ErrorCode.UNKNOWN_SITE, f"no site belongs to the group {name[:60]!r}")
        return members

    def groups(self) -> list[str]:
        return sorted({s.parent for s in self.active() if s.parent})


# -- commands -------------------------------------------------------------------------------

@command
@dataclass(frozen=True, kw_only=True)
class RegisterSite(Command):
    TYPE = "register_site"
    site: SiteInfo


@command
@dataclass(frozen=True, kw_only=True)
class UpdateSite(Command):
    TYPE = "update_site"
    site: SiteInfo


@command
@dataclass(frozen=True, kw_only=True)
class RetireSite(Command):
    TYPE = "retire_site"
    code: str

    def check(self) -> None:
        check_code("code", self.code)


@command
@dataclass(frozen=True, kw_only=True)
class ImportSites(Command):
    """CSV with a header row: code,name,parent,kind,expected_headcount,contact_name,contact_phone,email."""

    TYPE = "import_sites"
    csv: str

    def check(self) -> None:
        check_text("csv", self.csv, max_len=2_000_000)


@command
@dataclass(frozen=True, kw_only=True)
class SetRecommendationFields(Command):
    """The list of fields (lĩnh vực) a ward chooses from when it submits a recommendation."""

    TYPE = "set_recommendation_fields"
    fields: tuple[str, ...]

    def check(self) -> None:
        if not 1 <= len(self.fields) <= MAX_FIELDS:
            raise ValidationError(f"fields: between 1 and {MAX_FIELDS}, got {len(self.fields)}")
        for i, name in enumerate(self.fields):
            check_text(f"fields[{i}]", name, max_len=100)
        if len(set(self.fields)) != len(self.fields):
            raise ValidationError("fields: duplicates are not allowed")


# -- events ---------------------------------------------------------------------------------

@event
@dataclass(frozen=True, kw_only=True)
class SiteRegistered(Event):
    TYPE = "site_registered"
    site: SiteInfo


@event
@dataclass(frozen=True, kw_only=True)
class SiteUpdated(Event):
    TYPE = "site_updated"
    site: SiteInfo


@event
@dataclass(frozen=True, kw_only=True)
class SiteRetired(Event):
    TYPE = "site_retired"
    code: str


@event
@dataclass(frozen=True, kw_only=True)
class RecommendationFieldsSet(Event):
    TYPE = "recommendation_fields_set"
    fields: tuple[str, ...]


DIRECTORY_COMMANDS = (RegisterSite, UpdateSite, RetireSite, ImportSites, SetRecommendationFields)


def decide_directory(state: Directory, cmd: Command, actor: Actor, *, now: datetime) -> list[Event]:
    require(None, actor, Role.ADMIN, what="change the site directory")
    meta: dict[str, Any] = {"at": now, "actor": actor.ref, "key": cmd.key}
    match cmd:
        case RegisterSite(site=site):
            if site.code in state.sites and site.code not in state.retired:
                raise DomainError(ErrorCode.SITE_EXISTS, f"a site with code {site.code} already exists")
            return [SiteRegistered(site=site, **meta)]
        case UpdateSite(site=site):
            state.get(site.code)
            return [SiteUpdated(site=site, **meta)]
        case RetireSite(code=code):
            state.get(code)
            return [SiteRetired(code=code, **meta)]
        case ImportSites(csv=text):
            out: list[Event] = []
            for site in parse_sites_csv(text):
                known = site.code in state.sites and site.code not in state.retired
                if known and state.sites[site.code] == site:
                    continue
                out.append(SiteUpdated(site=site, **meta) if known else SiteRegistered(site=site, **meta))
            return out
        case SetRecommendationFields(fields=names):
            return [] if names == state.fields else [RecommendationFieldsSet(fields=names, at=now, actor=actor.ref, key=cmd.key)]
    raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not a directory command")


def evolve_directory(state: Directory, ev: Event) -> Directory:
    match ev:
        case SiteRegistered(site=site) | SiteUpdated(site=site):
            state.sites[site.code] = site
            state.retired.discard(site.code)
        case SiteRetired(code=code):
            state.retired.add(code)
        case RecommendationFieldsSet(fields=names):
            state.fields = names
    state.version += 1
    record_result(state.results, ev, state.version)
    return state


CSV_COLUMNS = ("code", "name", "parent", "kind", "expected_headcount", "contact_name", "contact_phone", "email")


def parse_sites_csv(text: str) -> list[SiteInfo]:
    """Parse a directory CSV; every bad row is reported, and nothing is taken if any is bad."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise DomainError(ErrorCode.BAD_CSV, f"line 1: {exc}") from None
    missing = [c for c in ("code", "name") if c not in header]
    if missing:
        raise DomainError(ErrorCode.BAD_CSV, f"header row lacks column(s): {', '.join(missing)}")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise DomainError(ErrorCode.BAD_CSV, f"unknown column(s): {', '.join(unknown)}")
    twice = sorted(h for h, n in Counter(header).items() if n > 1)
    if twice:
        raise DomainError(ErrorCode.BAD_CSV, f"column(s) named twice: {', '.join(twice)}")
    sites: list[SiteInfo] = []
    problems: list[str] = []
    seen: set[str] = set()
    try:
        for count, raw in enumerate(reader, start=1):
            line_no = reader.line_num   # the physical line: blank lines and quoted newlines count
            if count > MAX_IMPORT_ROWS:
                raise DomainError(ErrorCode.BAD_CSV, f"at most {MAX_IMPORT_ROWS} rows per import")
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            if None in raw:
                problems.append(f"line {line_no}: more cells than columns")
                continue
            try:
                site = _site_from_row(row)
            except DomainError as exc:
                problems.append(f"line {line_no}: {exc.message}")
                continue
            if site.code in seen:
                problems.append(f"line {line_no}: code {site.code} appears twice")
                continue
            seen.add(site.code)
            sites.append(site)
    except csv.Error as exc:
        problems.append(f"line {reader.reader.line_num}: {exc}")   # DictReader's own count lags here
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise DomainError(ErrorCode.BAD_CSV, shown)
    if not sites:
        raise DomainError(ErrorCode.BAD_CSV, "no rows")
    return sites


def _site_from_row(row: dict[str, str]) -> SiteInfo:
    headcount_text = row.get("expected_headcount", "") or "0"
    if not (headcount_text.isascii() and headcount_text.isdigit()):   # not "²" nor "٣"
        raise ValidationError(f"expected_headcount: {headcount_text[:20]!r} is not a whole number")
    if len(headcount_text) > 9:   # int() refuses very long digit strings with a ValueError
        raise ValidationError(f"expected_headcount: must be between 0 and {MAX_HEADCOUNT}")
    kind_text = row.get("kind", "") or "remote"
    try:
        kind = SiteKind(kind_text)
    except ValueError:
        raise ValidationError(f"kind: {kind_text[:20]!r} is not main, remote or department") from None
    return SiteInfo(
        code=row.get("code", "").upper(),
        name=row.get("name", ""),
        parent=row.get("parent", ""),
        kind=kind,
        expected_headcount=int(headcount_text),
        contact_name=row.get("contact_name", ""),
        contact_phone=row.get("contact_phone", ""),
        email=row.get("email", ""),
    )


def sites_to_csv(sites: list[SiteInfo]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in sites:
        writer.writerow([s.code, s.name, s.parent, s.kind.value, s.expected_headcount,
                         s.contact_name, s.contact_phone, s.email])
    return out.getvalue()


