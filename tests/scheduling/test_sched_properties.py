"""Property tests: random sequences of commands, valid and not, from random actors, applied
to a conference while the clock moves forward; the invariants hold after every step.

The machine starts from a conference in a random phase and then, step by step, lets time
pass, decides a random command (well-formed, or with one field mangled, or plain garbage)
as a random actor under a fresh or a reused idempotency key, or replays a key it used.
After each step it checks:

- the remote floor holders never exceed ``max_speakers``; the main bridge never holds it;
- no headcount is negative; speaking time per site is never negative;
- an approved minutes version never changes (its content and SHA-256, as first seen) and
  every version is chained to the one before;
- ``version`` equals the number of events recorded (no gaps);
- a refused command leaves the state unchanged, and so does ``decide`` itself;
- a key replayed by its actor yields the events it yielded first, and nothing new;
- replaying the whole log, also after a JSON round trip, gives an equal state.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    INVITED,
    MAIN,
    OBSERVER,
    OTHER_MAIN,
    PROPERTY_SETTINGS,
    SECRETARY,
    STRANGER,
    SYSTEM,
    Harness,
    build,
    site,
)
from ward_builders import (
    WARD_GENERATORS,
    WARD_LIVE_COMMANDS,
    WARD_SECRETARY_COMMANDS,
    WARD_SITE_COMMANDS,
)

from scheduling import (
    COMMANDS,
    Actor,
    DomainError,
    Event,
    ItemStatus,
    MinutesVersion,
    Phase,
    chain_hash,
    command_to_dict,
    decide,
    event_from_dict,
    event_to_dict,
    evolve,
    may_present,
    parse_command,
    replay,
    speaking_seconds,
    totals,
)
from scheduling.minutes import GENESIS
from scheduling.rules import DECIDERS

ITEMS = ("i1", "i2", "i3", "i4", "i5")
NOTES = ("n1", "n2", "n3", "n4", "n5", "c1")
ACTIONS = ("a1", "a2", "a3")
ROUNDS = ("r1", "r2")
DECKS = ("d1", "d2")
CODES = (MAIN, *INVITED, AN_HAI, OTHER_MAIN, "P-KHONG-CO")
ACTORS = (ADMIN, CHAIR, SECRETARY, OBSERVER, STRANGER, SYSTEM, Actor.account("thu_ky_2"),
          *(site(c) for c in (MAIN, *INVITED, AN_HAI)))
KEY_POOL = ("p1", "p2", "p3", "k1", "k2")   # reused keys; k1/k2 were used by the builder

# a failing run may shrink for up to five minutes before Hypothesis reports it: let it finish
pytestmark = pytest.mark.timeout(900)

Draw = Callable[[st.SearchStrategy[Any]], Any]
CONFERENCE_COMMANDS = sorted({cls.TYPE for cls in DECIDERS} | {"create_conference"})


def _site(draw: Draw) -> str:
    return draw(st.sampled_from([*CODES, *INVITED, *INVITED]))  # type: ignore[no-any-return]


def _pick(draw: Draw, existing: list[str], pool: tuple[str, ...]) -> str:
    """Half the time one that exists (when any does), else any of the pool."""
    if existing and draw(st.booleans()):
        return draw(st.sampled_from(existing))  # type: ignore[no-any-return]
    return draw(st.sampled_from(pool))  # type: ignore[no-any-return]


def _queued(h: Harness) -> list[str]:
    return [r.site for r in h.s.floor.queue]


def _speaking(h: Harness) -> list[str]:
    return list(h.s.floor.speakers)


def _items(h: Harness, *statuses: ItemStatus) -> list[str]:
    return [i.item_id for i in h.s.agenda if i.status in statuses]


def _referenced(h: Harness) -> list[str]:
    """Agenda items that notes or action items refer to."""
    s = h.s
    return sorted({x.item_id for x in [*s.notes.values(), *s.actions.values()] if x.item_id is not None})


def _receipts(h: Harness) -> list[str]:
    return [c for r in h.s.minutes.receipts.values() for c in r]


def _when(h: Harness, draw: Draw, lo: int, hi: int) -> str:
    return (h.now + timedelta(seconds=draw(st.integers(lo, hi)))).isoformat()


def _due(h: Harness, draw: Draw) -> str:
    return (h.now.date() + timedelta(days=draw(st.integers(-2, 40)))).isoformat()


def _rev(h: Harness, draw: Draw, note_id: str) -> int:
    note = h.s.notes.get(note_id)
    return draw(st.one_of(st.just(note.rev if note else 1), st.integers(0, 4)))  # type: ignore[no-any-return]


# One generator per conference command: the fields of a plausible command, drawn so that ids
# often hit what exists. Ill-typed values come from BAD_VALUES and garbage() below.
GENERATORS: dict[str, Callable[[Draw, Harness], dict[str, Any]]] = {
    "create_conference": lambda d, h: {"conference_id": "khac", "title": "Hội nghị khác", "main_site": MAIN,
                                       "chair": "chu_tri", "starts_at": _when(h, d, 0, 60),
                                       "ends_at": _when(h, d, 3600, 7200)},
    "edit_conference": lambda d, h: {k: v for k, v in {
        "title": d(st.sampled_from([None, "Hội nghị giao ban (điều chỉnh)"])),
        "max_speakers": d(st.sampled_from([None, 1, 2, 3])),
        "secretaries": d(st.sampled_from([None, ["thu_ky"], ["thu_ky", "thu_ky_2"], ["ai_do"]])),
        "ends_at": d(st.sampled_from([None, "2025-10-03T12:00:00+07:00", "2025-10-03T07:00:00+07:00"])),
    }.items() if v is not None},
    "invite_sites": lambda d, h: d(st.one_of(
        st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True).map(lambda c: {"codes": c}),
        st.sampled_from(["Huyện Hòa Vang", "remote", "Quận Sơn Trà", "Không có"]).map(lambda g: {"group": g}))),
    "uninvite_sites": lambda d, h: {"codes": d(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))},
    "schedule_conference": lambda d, h: {},
    "start_rehearsal": lambda d, h: {},
    "open_conference": lambda d, h: {},
    "end_conference": lambda d, h: {},
    "cancel_conference": lambda d, h: {"reason": "Hoãn"},
    "add_agenda_item": lambda d, h: {"item_id": d(st.sampled_from(ITEMS)), "title": "Mục",
                                     "planned_minutes": d(st.integers(0, 30)),
                                     "position": d(st.sampled_from([None, 0, 1, 9]))},
    "edit_agenda_item": lambda d, h: {"item_id": d(st.sampled_from(ITEMS)), "planned_minutes": d(st.integers(0, 30))},
    "remove_agenda_item": lambda d, h: {"item_id": _pick(d, _referenced(h), ITEMS)},
    "reorder_agenda": lambda d, h: {"order": d(st.one_of(
        st.permutations([i.item_id for i in h.s.agenda]), st.lists(st.sampled_from(ITEMS), max_size=5)))},
    "start_item": lambda d, h: {"item_id": _pick(d, _items(h, ItemStatus.PENDING), ITEMS)},
    "finish_item": lambda d, h: {"item_id": _pick(d, _items(h, ItemStatus.ACTIVE), ITEMS)},
    "skip_item": lambda d, h: {"item_id": _pick(d, _items(h, ItemStatus.PENDING), ITEMS)},
    "reopen_item": lambda d, h: {"item_id": _pick(d, _items(h, ItemStatus.DONE, ItemStatus.SKIPPED), ITEMS)},
    "set_connection": lambda d, h: {"site": _site(d),
                                    "connection": d(st.sampled_from(["online", "reconnecting", "offline"]))},
    "set_connections": lambda d, h: {"sites": [_site(d) for _ in range(d(st.integers(1, 4)))],
                                     "connection": d(st.sampled_from(["online", "reconnecting", "offline"]))},
    "check_in": lambda d, h: {"site": _site(d), "headcount": d(st.sampled_from([42, 0, 250, -1])),
                              "leaders": d(st.sampled_from([[], [{"name": "Nguyễn Thị Lan"}],
                                                            [{"name": "Lê Văn Hùng", "present": False,
                                                              "reason": "Ốm"}]]))},
    "open_roll_call": lambda d, h: {"round_id": d(st.sampled_from(ROUNDS)), "deadline": _when(h, d, -60, 1800)},
    "answer_roll_call": lambda d, h: {"round_id": d(st.sampled_from(ROUNDS)), "site": _site(d),
                                      "headcount": d(st.sampled_from([42, 0, 250, -1]))},
    "close_roll_call": lambda d, h: {"round_id": d(st.sampled_from(ROUNDS))},
    "request_floor": lambda d, h: {"site": _site(d), "item_id": d(st.sampled_from([None, *ITEMS])),
                                   "topic": d(st.sampled_from(["", "Kiến nghị"]))},
    "withdraw_floor_request": lambda d, h: {"site": _pick(d, _queued(h), CODES)},
    "grant_floor": lambda d, h: {"site": _pick(d, _queued(h), CODES),
                                 "limit_seconds": d(st.sampled_from([None, 10, 60, 300, 0])),
                                 "replace": d(st.booleans())},
    "give_floor": lambda d, h: {"site": _site(d), "limit_seconds": d(st.sampled_from([None, 10, 120])),
                                "replace": d(st.booleans())},
    "revoke_floor": lambda d, h: {"site": _pick(d, _speaking(h), CODES)},
    "release_floor": lambda d, h: {"site": _pick(d, _speaking(h), CODES)},
    "expire_floor": lambda d, h: {"site": _pick(d, _speaking(h), CODES)},
    "mute_site": lambda d, h: {"site": _pick(d, _speaking(h), CODES)},
    "unmute_site": lambda d, h: {"site": _site(d)},
    "mute_all": lambda d, h: {},
    "add_note": lambda d, h: {"note_id": d(st.sampled_from(NOTES)),
                              "item_id": d(st.sampled_from([None, *_items(h, ItemStatus.PENDING), *ITEMS])),
                              "kind": d(st.sampled_from(["note", "conclusion"])), "text": "Ghi chép"},
    "edit_note": lambda d, h: (lambda n: {"note_id": n, "text": d(st.sampled_from(["Sửa 1", "Sửa 2"])),
                                          "rev": _rev(h, d, n)})(_pick(d, list(h.s.notes), NOTES)),
    "delete_note": lambda d, h: (lambda n: {"note_id": n, "rev": _rev(h, d, n)})(_pick(d, list(h.s.notes), NOTES)),
    "approve_minutes": lambda d, h: {},
    "open_correction": lambda d, h: {"reason": "Đính chính"},
    "distribute_minutes": lambda d, h: {"version": d(st.integers(0, 3)),
                                        "sites": d(st.lists(st.sampled_from(CODES), max_size=2, unique=True))},
    "open_minutes": lambda d, h: {"version": d(st.integers(1, 3)), "site": _pick(d, _receipts(h), CODES)},
    "acknowledge_minutes": lambda d, h: {"version": d(st.integers(1, 3)), "site": _pick(d, _receipts(h), CODES)},
    "remind_minutes": lambda d, h: {"version": d(st.integers(1, 3)),
                                    "sites": d(st.lists(st.sampled_from(CODES), max_size=2, unique=True))},
    "record_minutes_mail": lambda d, h: {"version": d(st.integers(1, 3)), "results": [
        {"recipient": f"site:{_pick(d, _receipts(h), CODES)}", "error": d(st.sampled_from(["", "550 no mailbox"]))}]},
    "create_action_item": lambda d, h: {"action_id": d(st.sampled_from(ACTIONS)),
                                        "item_id": d(st.sampled_from([None, *ITEMS])), "title": "Nhiệm vụ",
                                        "assignees": d(st.lists(st.sampled_from(CODES), min_size=1, max_size=2,
                                                                unique=True)), "due": _due(h, d)},
    "edit_action_item": lambda d, h: {"action_id": _pick(d, list(h.s.actions), ACTIONS), "due": _due(h, d)},
    "post_progress": lambda d, h: {"action_id": _pick(d, list(h.s.actions), ACTIONS), "site": _site(d), "text": "Tiến độ",
                                   "status": d(st.sampled_from([None, "in_progress", "done"])),
                                   "percent": d(st.sampled_from([None, 0, 50, 100, -1, 101]))},
    "confirm_action_done": lambda d, h: {"action_id": _pick(d, list(h.s.actions), ACTIONS)},
    "reopen_action": lambda d, h: {"action_id": _pick(d, list(h.s.actions), ACTIONS)},
    "cancel_action": lambda d, h: {"action_id": _pick(d, list(h.s.actions), ACTIONS)},
    "report_readiness": lambda d, h: {"site": _site(d), "camera": d(st.booleans()), "microphone": d(st.booleans()),
                                      "mic_level": d(st.sampled_from([None, 0, 40, 101])),
                                      "rtt_ms": d(st.sampled_from([None, 30, 900])),
                                      "loss_pct": d(st.sampled_from([None, 0.0, 12.5])),
                                      "bitrate_kbps": d(st.sampled_from([None, 150, 2500])),
                                      "relay": d(st.booleans())},
    # presentation
    "attach_deck": lambda d, h: {"deck_id": d(st.sampled_from(DECKS)), "name": "Báo cáo quý III.pdf",
                                 "size": 48_213, "pages": d(st.sampled_from([1, 3, 12])), "sha256": "ab" * 32,
                                 "item_id": d(st.sampled_from([None, *ITEMS]))},
    "detach_deck": lambda d, h: {"deck_id": _pick(d, list(h.s.presentation.decks), DECKS)},
    "allow_presenting": lambda d, h: {"site": _pick(d, _speaking(h), CODES)},
    "disallow_presenting": lambda d, h: {"site": _pick(d, sorted(h.s.presentation.allowed), CODES)},
    "start_presentation": lambda d, h: {"site": _pick(d, [MAIN, *h.s.presentation.allowed], CODES),
                                        "deck_id": _pick(d, list(h.s.presentation.decks), DECKS),
                                        "page": d(st.sampled_from([1, 2, 3, 12, 13]))},
    "show_slide": lambda d, h: {"site": _pick(d, [h.s.presentation.presenter or MAIN], CODES),
                                "page": d(st.sampled_from([1, 2, 3, 12, 13]))},
    "stop_presentation": lambda d, h: {},
    "start_share": lambda d, h: {"site": _pick(d, [MAIN, *h.s.presentation.allowed], CODES)},
    "stop_share": lambda d, h: {},
}
GENERATORS.update(WARD_GENERATORS)   # recommendations, documents, votes (ward_builders.py)

# who would normally send each command (the actor is that one three times in four, anyone
# at all otherwise)
ADMIN_COMMANDS = {"create_conference", "edit_conference", "invite_sites", "uninvite_sites", "schedule_conference",
                  "cancel_conference"}
SYSTEM_COMMANDS = {"set_connection", "set_connections", "expire_floor", "record_minutes_mail"}
SITE_COMMANDS = {"start_presentation", "show_slide", "start_share", "check_in", "answer_roll_call", "request_floor",
                 "withdraw_floor_request", "release_floor", "mute_site", "unmute_site", "open_minutes",
                 "acknowledge_minutes", "post_progress", "report_readiness"}
SECRETARY_COMMANDS = {"attach_deck", "detach_deck", "add_agenda_item", "edit_agenda_item", "remove_agenda_item", "reorder_agenda", "add_note",
                      "edit_note", "delete_note", "open_correction", "distribute_minutes", "remind_minutes",
                      "create_action_item",
                      "edit_action_item", "confirm_action_done", "reopen_action", "cancel_action",
                      *WARD_SECRETARY_COMMANDS}
SITE_COMMANDS |= WARD_SITE_COMMANDS


# what usually happens in each phase: most drawn commands come from here, so that random runs
# get far (a floor granted, minutes approved, corrected and distributed); the rest from anywhere
PRESENTING = ["attach_deck", "allow_presenting", "disallow_presenting", "start_presentation", "show_slide",
              "show_slide", "show_slide", "stop_presentation", "start_share", "stop_share"]
RUNNING_COMMANDS = [*PRESENTING, "set_connection", "set_connections", "check_in", "mute_site", "unmute_site", "mute_all", "add_note", "edit_note",
                    "create_action_item", "post_progress", "edit_agenda_item", "add_agenda_item",
                    "remove_agenda_item", "remove_agenda_item"]
PHASE_COMMANDS: dict[Phase, list[str]] = {
    Phase.DRAFT: ["edit_conference", "invite_sites", "uninvite_sites", "schedule_conference", "add_agenda_item",
                  "remove_agenda_item", "reorder_agenda"],
    Phase.SCHEDULED: ["start_rehearsal", "open_conference", "invite_sites", "uninvite_sites", "add_agenda_item",
                      "remove_agenda_item", "reorder_agenda", "add_note", "edit_conference", "set_connection",
                      "report_readiness"],
    Phase.REHEARSAL: [*RUNNING_COMMANDS, "open_conference", "uninvite_sites", "report_readiness"],
    Phase.LIVE: [*RUNNING_COMMANDS, "start_item", "finish_item", "skip_item", "reopen_item", "reorder_agenda",
                 "open_roll_call", "answer_roll_call", "close_roll_call", *["request_floor"] * 4,
                 "withdraw_floor_request", *["grant_floor"] * 4, *["give_floor"] * 2, "revoke_floor",
                 "release_floor", "expire_floor", "edit_conference", "invite_sites", "delete_note",
                 *WARD_LIVE_COMMANDS],
    Phase.ENDED: ["add_note", "edit_note", "delete_note", "approve_minutes", "approve_minutes", "open_correction",
                  "distribute_minutes", "distribute_minutes", "open_minutes", "acknowledge_minutes",
                  "remind_minutes", "record_minutes_mail",
                  "create_action_item", "edit_action_item", "post_progress", "confirm_action_done", "reopen_action",
                  "cancel_action", "set_connection"],
    Phase.CANCELLED: CONFERENCE_COMMANDS,
}


def natural_actor(kind: str, fields: dict[str, Any]) -> Actor:
    if kind in ADMIN_COMMANDS:
        return ADMIN
    if kind in SYSTEM_COMMANDS:
        return SYSTEM
    if kind in SITE_COMMANDS:
        return site(fields["site"])
    if kind in SECRETARY_COMMANDS:
        return SECRETARY
    return CHAIR


# values of the wrong type or shape, for mangled fields and garbage commands
BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["3", "2025-10-03T08:00:00", "31/10/2025", "", "\x00", "x" * 400, "P HAI CHAU"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def garbage(draw: Draw) -> dict[str, Any]:
    """A dict that names a command (any stream's) and has arbitrary fields."""
    kind = draw(st.sampled_from(sorted(COMMANDS)))
    fields = draw(st.dictionaries(st.sampled_from(["site", "item_id", "version", "codes", "headcount", "due", "text",
                                                   "rev", "deadline", "note_id", "zzz"]), BAD_VALUES, max_size=3))
    return {"type": kind, **fields}


class ConferenceMachine(RuleBasedStateMachine):
    h: Harness

    @initialize(phase=st.sampled_from(["live", "draft", "live", "scheduled", "live", "rehearsal", "live", "ended"]),
                max_speakers=st.integers(1, 3))
    def start(self, phase: str, max_speakers: int) -> None:
        self.h = build(phase, max_speakers=max_speakers)
        self.fresh = itertools.count()
        # (actor ref, key) -> the events that key produced, from the log itself
        self.produced: dict[tuple[str, str], tuple[Event, ...]] = {}
        for ev in self.h.log:
            k = (ev.actor, ev.key)
            self.produced[k] = self.produced.get(k, ()) + (ev,)
        self.sent: list[tuple[Actor, dict[str, Any]]] = []
        self.approved: list[tuple[MinutesVersion, str]] = []   # deep copy and canonical JSON of each version
        # the same log folded event by event after a JSON round trip: an independent copy of
        # the state (no object shared with it) that is also the "before" of every decide
        self.shadow = replay(_through_json(self.h.log))
        assert self.shadow == self.h.state

    # -- steps ----------------------------------------------------------------------------
    @rule(seconds=st.sampled_from([0, 1, 5, 30, 61, 300, 900, 3600]))
    def time_passes(self, seconds: int) -> None:
        self.h.tick(seconds)

    @rule(data=st.data())
    def send_a_command(self, data: st.DataObject) -> None:
        draw = data.draw
        how = draw(st.sampled_from(["plain"] * 16 + ["mangled", "mangled", "garbage", "replay"]))
        if how == "replay" and self.sent:   # a client retrying after a reconnect
            actor, cmd = draw(st.sampled_from(self.sent))
            self.decide_and_check(actor, cmd)
            return
        if how == "garbage":
            cmd = draw(garbage())
            actor = draw(st.sampled_from(ACTORS))
        else:
            usual = draw(st.sampled_from([True, True, True, False]))
            kind = draw(st.sampled_from(PHASE_COMMANDS[self.h.s.phase] if usual else CONFERENCE_COMMANDS))
            fields = GENERATORS[kind](draw, self.h)
            cmd = {"type": kind, **fields}
            natural = draw(st.sampled_from([True, True, True, False]))
            actor = natural_actor(kind, fields) if natural else draw(st.sampled_from(ACTORS))
            if how == "mangled" and fields:
                name = draw(st.sampled_from(sorted(fields)))
                cmd[name] = draw(BAD_VALUES)
        key = draw(st.sampled_from(["fresh", *KEY_POOL, *["fresh"] * 30]))
        if key == "fresh":
            key = f"h{next(self.fresh)}"
        self.decide_and_check(actor, {**cmd, "key": key})

    def decide_and_check(self, actor: Actor, data: dict[str, Any]) -> None:
        h = self.h
        before = self.shadow
        assert h.state == before
        try:
            cmd = parse_command(data)
        except DomainError:
            return
        assert parse_command(json.loads(json.dumps(command_to_dict(cmd)))) == cmd
        earlier = self.produced.get((actor.ref, cmd.key))
        try:
            decision = decide(h.state, cmd, actor, now=h.now, directory=h.directory, accounts=h.accounts)
        except DomainError:
            assert h.state == before, f"refused {data['type']} changed the state"
            assert earlier is None, "a key that produced events must replay, not be decided again"
            return
        assert h.state == before, f"decide({data['type']}) changed the state"
        if earlier is not None:
            assert decision.replayed, f"key {cmd.key} of {actor.ref} was decided again"
            assert decision.events == earlier
            seq = max(i for i, ev in enumerate(h.log, 1) if (ev.actor, ev.key) == (actor.ref, cmd.key))
            assert decision.seq == seq
            return
        assert not decision.replayed
        for ev in decision.events:
            assert (ev.actor, ev.key, ev.at) == (actor.ref, cmd.key, h.now)
        h.apply(decision.events)
        for ev in _through_json(decision.events):
            self.shadow = evolve(self.shadow, ev)
        if decision.events:
            self.produced[(actor.ref, cmd.key)] = decision.events
            self.sent.append((actor, data))

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def seq_has_no_gaps(self) -> None:
        assert self.h.s.version == len(self.h.log)

    @invariant()
    def floor_is_within_limits(self) -> None:
        s = self.h.s
        speakers = s.floor.speakers
        assert len(speakers) <= s.max_speakers
        assert s.main_site not in speakers
        assert set(speakers) <= set(s.sites)
        queued = [r.site for r in s.floor.queue]
        assert len(queued) == len(set(queued)) and not set(queued) & set(speakers)
        assert set(queued) <= set(s.sites) and s.floor.muted <= set(s.sites)
        if s.phase is not Phase.LIVE:
            assert not speakers and not queued
        assert all(v >= 0 for v in speaking_seconds(s, self.h.now).values())
        assert all(t.ended >= t.started for t in s.floor.turns)

    @invariant()
    def only_who_may_presents(self) -> None:
        s = self.h.s
        p = s.presentation
        assert p.allowed <= set(s.floor.speakers)
        if p.sharer is not None:
            assert may_present(s, p.sharer)
        if p.presenter is not None:
            assert may_present(s, p.presenter)
            assert p.deck_id in p.decks and 1 <= p.page <= p.decks[p.deck_id].pages
        assert all(x.ended is not None for x in p.shown[:-1])
        assert all(x.ended is None or x.ended >= x.at for x in p.shown)
        if s.phase is Phase.ENDED:
            assert p.presenter is None and not p.allowed

    @invariant()
    def headcounts_are_never_negative(self) -> None:
        s = self.h.s
        assert all(a.headcount >= 0 for a in s.attendance.values())
        assert all(n >= 0 for rc in s.roll_calls.values() for n in rc.answers.values())
        assert totals(s).people >= 0
        assert set(s.attendance) == set(s.sites)

    @invariant()
    def agenda_is_consistent(self) -> None:
        s = self.h.s
        assert sum(1 for i in s.agenda if i.status is ItemStatus.ACTIVE) <= (1 if s.phase is Phase.LIVE else 0)
        ids = {i.item_id for i in s.agenda}
        assert len(ids) == len(s.agenda)
        assert all(n.item_id is None or n.item_id in ids for n in s.notes.values()), "a note lost its item"
        assert all(a.item_id is None or a.item_id in ids for a in s.actions.values()), "an action lost its item"

    @invariant()
    def approved_minutes_never_change(self) -> None:
        approved = self.h.s.minutes.approved
        assert len(approved) >= len(self.approved)
        for (snapshot, content_json), now in zip(self.approved, approved, strict=False):
            assert now == snapshot
            assert json.dumps(now.content, sort_keys=True, ensure_ascii=False) == content_json
        for v in approved[len(self.approved):]:
            self.approved.append((copy.deepcopy(v), json.dumps(v.content, sort_keys=True, ensure_ascii=False)))
        prev = GENESIS
        for n, v in enumerate(approved, 1):
            assert v.version == n and v.prev_sha256 == prev and v.sha256 == chain_hash(prev, v.content)
            prev = v.sha256

    @invariant()
    def the_log_through_json_folds_to_the_state(self) -> None:
        assert self.shadow == self.h.state

    def teardown(self) -> None:
        if hasattr(self, "h"):
            assert replay(self.h.log) == self.h.state
            assert replay(_through_json(self.h.log)) == self.h.state


def _through_json(events: Iterable[Event]) -> list[Event]:
    return [event_from_dict(json.loads(json.dumps(event_to_dict(ev), ensure_ascii=False))) for ev in events]


ConferenceMachine.TestCase.settings = PROPERTY_SETTINGS
TestConferenceMachine = ConferenceMachine.TestCase


@PROPERTY_SETTINGS
@given(st.one_of(garbage(), BAD_VALUES,
                 st.dictionaries(st.one_of(st.text(max_size=5), st.integers(), st.none()), BAD_VALUES, max_size=4)))
def test_parse_command_refuses_with_a_domain_error_or_accepts(data: Any) -> None:
    try:
        cmd = parse_command(data)
    except DomainError as exc:
        assert exc.message
        return
    assert parse_command(command_to_dict(cmd)) == cmd


def test_every_conference_command_is_generated() -> None:
    assert set(GENERATORS) == set(CONFERENCE_COMMANDS)
