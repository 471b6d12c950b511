"""Builders for the domain tests: a site directory, a conference in each phase, and a
harness that runs command dicts as an actor and folds their events.

The module is imported by its own name (pytest puts this folder on ``sys.path``); its name is
long so that it cannot collide with a helper module of another test folder.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings

from scheduling import (
    Actor,
    ConferenceState,
    Decision,
    Directory,
    DomainError,
    ErrorCode,
    Event,
    SiteInfo,
    SiteKind,
    decide,
    decide_directory,
    evolve,
    evolve_directory,
    parse_command,
)
from scheduling.codec import to_plain

VN = ZoneInfo("Asia/Ho_Chi_Minh")
#: the morning before the conference: everything is set up from here on
T0 = datetime(2025, 10, 3, 7, 0, tzinfo=VN)
S = TypeVar("S")
CONF_ID = "giao-ban-q3-2025"

# -- the directory ------------------------------------------------------------------------

MAIN = "DN-TTHC"
HAI_CHAU = "P-HAI-CHAU"
THANH_KHE = "P-THANH-KHE-DONG"
HOA_BAC = "X-HOA-BAC"
HOA_NINH = "X-HOA-NINH"
AN_HAI = "P-AN-HAI-BAC"        # in the directory, never invited by the builders
OTHER_MAIN = "DN-HDND"         # a second main bridge, never invited

INVITED = (HAI_CHAU, THANH_KHE, HOA_BAC, HOA_NINH)

SITES: tuple[SiteInfo, ...] = (
    SiteInfo(code=MAIN, name="Trung tâm Hành chính thành phố Đà Nẵng", parent="Thành phố Đà Nẵng",
             kind=SiteKind.MAIN, expected_headcount=60, contact_name="Nguyễn Văn Thành",
             contact_phone="0236 3822 111", email="vanphong@danang.gov.vn"),
    SiteInfo(code=HAI_CHAU, name="UBND phường Hải Châu", parent="Quận Hải Châu", expected_headcount=45,
             contact_name="Trần Thị Hạnh", contact_phone="0905 111 222"),
    SiteInfo(code=THANH_KHE, name="UBND phường Thanh Khê Đông", parent="Quận Thanh Khê", expected_headcount=38,
             contact_name="Lê Quốc Dũng"),
    SiteInfo(code=HOA_BAC, name="UBND xã Hòa Bắc", parent="Huyện Hòa Vang", expected_headcount=25,
             contact_name="Phạm Ngọc Ánh"),
    SiteInfo(code=HOA_NINH, name="UBND xã Hòa Ninh", parent="Huyện Hòa Vang", expected_headcount=30,
             contact_name="Võ Thị Tuyết"),
    SiteInfo(code=AN_HAI, name="UBND phường An Hải Bắc", parent="Quận Sơn Trà", expected_headcount=40),
    SiteInfo(code=OTHER_MAIN, name="Hội trường Hội đồng nhân dân thành phố", parent="Thành phố Đà Nẵng",
             kind=SiteKind.MAIN, expected_headcount=80),
)
SITE = {s.code: s for s in SITES}

# -- who acts ---------------------------------------------------------------------------------

ADMIN = Actor.account("quan_tri", admin=True)
CHAIR = Actor.account("chu_tri")
SECRETARY = Actor.account("thu_ky")
OBSERVER = Actor.account("quan_sat")
STRANGER = Actor.account("nguoi_la")
SYSTEM = Actor.system()
ACCOUNTS = frozenset({"quan_tri", "chu_tri", "thu_ky", "thu_ky_2", "quan_sat", "nguoi_la"})


def site(code: str) -> Actor:
    return Actor.site(code)


# -- the agenda the builders add ----------------------------------------------------------

AGENDA = (
    ("i1", "Báo cáo tình hình kinh tế – xã hội quý III", "Sở Kế hoạch và Đầu tư", 20),
    ("i2", "Thảo luận của các phường, xã", "", 45),
    ("i3", "Kết luận của Chủ tịch UBND thành phố", "Chủ tịch UBND thành phố", 15),
)

PHASES = ("draft", "scheduled", "rehearsal", "live", "ended", "cancelled")


def make_directory(now: datetime = T0 - timedelta(days=30)) -> Directory:
    """The directory, built through the directory's own commands."""
    directory = Directory()
    for i, info in enumerate(SITES):
        cmd = parse_command({"type": "register_site", "key": f"dir-{i}", "site": _plain_site(info)})
        for ev in decide_directory(directory, cmd, ADMIN, now=now):
            evolve_directory(directory, ev)
    return directory


def _plain_site(info: SiteInfo) -> dict[str, Any]:
    return to_plain(info)  # type: ignore[no-any-return]


# -- the harness ------------------------------------------------------------------------------

@dataclass
class Harness:
    """A conference under test: its state, its log, the directory and the clock.

    ``run`` parses a command dict, decides it as ``actor`` at ``now`` and folds the events;
    ``refuse`` asserts that a command is refused with a code and leaves the state unchanged.
    """

    directory: Directory = field(default_factory=make_directory)
    state: ConferenceState | None = None
    log: list[Event] = field(default_factory=list)
    now: datetime = T0
    accounts: frozenset[str] | None = ACCOUNTS
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def s(self) -> ConferenceState:
        assert self.state is not None
        return self.state

    def key(self) -> str:
        return f"k{next(self._keys)}"

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def decide(self, actor: Actor, cmd: dict[str, Any], *, key: str | None = None) -> Decision:
        data = dict(cmd)
        data.setdefault("key", key or self.key())
        return decide(self.state, parse_command(data), actor, now=self.now, directory=self.directory,
                      accounts=self.accounts)

    def apply(self, events: tuple[Event, ...] | list[Event]) -> None:
        for ev in events:
            self.state = evolve(self.state, ev)
            self.log.append(ev)

    def run(self, actor: Actor, cmd: dict[str, Any], *, key: str | None = None) -> tuple[Event, ...]:
        """Decide and fold; return the events (none are folded when the key was replayed)."""
        decision = self.decide(actor, cmd, key=key)
        if not decision.replayed:
            self.apply(decision.events)
        return decision.events

    def refuse(self, actor: Actor, cmd: dict[str, Any], code: ErrorCode, *needles: str,
               key: str | None = None) -> DomainError:
        """The command is refused with ``code``, its message names each of ``needles``, and
        the state is exactly what it was."""
        before = copy.deepcopy(self.state)
        version = self.state.version if self.state else 0
        with pytest.raises(DomainError) as info:
            self.decide(actor, cmd, key=key)
        err = info.value
        assert err.code is code, f"expected {code}, got {err.code}: {err.message}"
        for needle in needles:
            assert needle in err.message, f"{needle!r} not in {err.message!r}"
        assert self.state == before, "a refused command changed the state"
        assert (self.state.version if self.state else 0) == version
        return err

    def meta(self, actor: Actor, key: str) -> dict[str, Any]:
        """The ``at``/``actor``/``key`` every event of a command carries."""
        return {"at": self.now, "actor": actor.ref, "key": key}

    # -- shortcuts used by many tests -----------------------------------------------------
    def online(self, *codes: str) -> None:
        for code in codes:
            self.run(SYSTEM, {"type": "set_connection", "site": code, "connection": "online"})

    def give(self, code: str, *, limit: int | None = None) -> None:
        cmd: dict[str, Any] = {"type": "give_floor", "site": code}
        if limit is not None:
            cmd["limit_seconds"] = limit
        self.run(CHAIR, cmd)

    def request(self, code: str, topic: str = "") -> None:
        self.run(site(code), {"type": "request_floor", "site": code, "topic": topic})

    def note(self, note_id: str, text: str, item_id: str | None = "i1", kind: str = "note") -> None:
        self.run(SECRETARY, {"type": "add_note", "note_id": note_id, "item_id": item_id, "kind": kind,
                             "text": text})

    def action(self, action_id: str, *assignees: str, due: str = "2025-10-31", item_id: str | None = "i2",
               title: str = "Báo cáo tiến độ giải phóng mặt bằng") -> None:
        self.run(SECRETARY, {"type": "create_action_item", "action_id": action_id, "item_id": item_id,
                             "title": title, "assignees": list(assignees or (HAI_CHAU,)), "due": due})


def create_cmd(**overrides: Any) -> dict[str, Any]:
    cmd: dict[str, Any] = {
        "type": "create_conference", "conference_id": CONF_ID,
        "title": "Hội nghị giao ban trực tuyến quý III năm 2025",
        "kind": "periodic_review",
        "starts_at": "2025-10-03T08:00:00+07:00", "ends_at": "2025-10-03T11:30:00+07:00",
        "main_site": MAIN, "chair": CHAIR.id, "secretaries": [SECRETARY.id], "observers": [OBSERVER.id],
    }
    cmd.update(overrides)
    return cmd


def build(phase: str = "live", *, max_speakers: int = 1, agenda: bool = True) -> Harness:
    """A conference in ``phase`` (one of PHASES): created by the admin with the four remote
    sites invited and the sample agenda; live means opened by the chair at 08:00; ended means
    item i1 was discussed (with a note and a conclusion) and the chair ended at 09:00."""
    if phase not in PHASES:
        raise ValueError(phase)
    h = Harness()
    h.run(ADMIN, create_cmd(max_speakers=max_speakers))
    h.run(ADMIN, {"type": "invite_sites", "codes": list(INVITED)})
    if agenda:
        for item_id, title, presenter, minutes in AGENDA:
            h.run(ADMIN, {"type": "add_agenda_item", "item_id": item_id, "title": title,
                          "presenter": presenter, "planned_minutes": minutes})
    if phase == "draft":
        return h
    if phase == "cancelled":
        h.run(ADMIN, {"type": "cancel_conference", "reason": "Hoãn do bão"})
        return h
    h.run(ADMIN, {"type": "schedule_conference"})
    if phase == "scheduled":
        return h
    h.run(CHAIR, {"type": "start_rehearsal"})
    if phase == "rehearsal":
        return h
    h.now = datetime(2025, 10, 3, 8, 0, tzinfo=VN)
    h.run(CHAIR, {"type": "open_conference"})
    if phase == "live":
        return h
    if agenda:
        h.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        h.note("n1", "Tăng trưởng GRDP quý III đạt 7,2%.")
        h.note("c1", "Các phường, xã đẩy nhanh giải ngân vốn đầu tư công.", kind="conclusion")
    h.now = datetime(2025, 10, 3, 9, 0, tzinfo=VN)
    h.run(CHAIR, {"type": "end_conference"})
    return h


def types(events: tuple[Event, ...] | list[Event]) -> list[str]:
    return [ev.TYPE for ev in events]


# -- hypothesis settings for this folder --------------------------------------------------------

#: BRIDGECONF_HYPOTHESIS_EXAMPLES=1000 runs the property tests harder (e.g. in a nightly job)
EXAMPLES = int(os.environ.get("BRIDGECONF_HYPOTHESIS_EXAMPLES", "60"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


# -- the small streams (directory, accounts, links): one decide and one evolve each ----------------

class StreamRunner(Generic[S]):
    """Runs commands of one small stream against its state, as the server does: ``run``
    decides and folds the events in; ``refuse`` asserts the refusal's code and words and that
    the state did not change."""

    def __init__(self, decide_fn: Callable[..., list[Event]], evolve_fn: Callable[[S, Event], Any],
                 now: datetime = T0) -> None:
        self.decide_fn, self.evolve_fn, self.now = decide_fn, evolve_fn, now

    def run(self, state: S, actor: Actor, cmd: dict[str, Any], key: str = "k1") -> list[Event]:
        events = self.decide_fn(state, parse_command({"key": key, **cmd}), actor, now=self.now)
        for ev in events:
            self.evolve_fn(state, ev)
        return events

    def refuse(self, state: S, actor: Actor, cmd: dict[str, Any], code: ErrorCode, *needles: str) -> DomainError:
        before = copy.deepcopy(state)
        with pytest.raises(DomainError) as info:
            self.decide_fn(state, parse_command({"key": "k1", **cmd}), actor, now=self.now)
        assert info.value.code is code, info.value
        for needle in needles:
            assert needle in info.value.message, (needle, info.value.message)
        assert state == before
        return info.value
