"""The authorization matrix: every role against every conference command.

Each command runs in a scenario where it would succeed for someone allowed, so the actor is
the only thing that varies. ``ok`` means the command is decided and yields events; any other
cell is the error code of the refusal (and the state is left as it was).

Columns:
  admin     an account with the admin flag, holding no role in the conference
  chair     the conference's chair
  secr      a secretary of the conference
  site      the operator of the invited site the command is about (P-HAI-CHAU)
  other     the operator of another invited site (P-THANH-KHE-DONG) acting on P-HAI-CHAU
  obs       an observer of the conference
  system    the server itself (connection changes, timers)
  stranger  an account that has no role at all
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_NINH,
    OBSERVER,
    SECRETARY,
    STRANGER,
    SYSTEM,
    THANH_KHE,
    Harness,
    build,
    create_cmd,
    site,
)
from ward_scenarios import WARD_SCENARIOS

from scheduling import Actor, ErrorCode
from scheduling.rules import DECIDERS

#  ok = allowed    F = forbidden    N = not_own_site    P = not_presenter
MATRIX = """
command                  admin  chair  secr   site   other  obs    system stranger
create_conference        ok     F      F      F      F      F      F      F
edit_conference          ok     F      F      F      F      F      F      F
invite_sites             ok     F      F      F      F      F      F      F
uninvite_sites           ok     F      F      F      F      F      F      F
schedule_conference      ok     F      F      F      F      F      F      F
start_rehearsal          ok     ok     F      F      F      F      F      F
open_conference          F      ok     F      F      F      F      F      F
end_conference           F      ok     F      F      F      F      F      F
cancel_conference        ok     F      F      F      F      F      F      F
add_agenda_item          ok     ok     ok     F      F      F      F      F
edit_agenda_item         ok     ok     ok     F      F      F      F      F
remove_agenda_item       ok     ok     ok     F      F      F      F      F
reorder_agenda           ok     ok     ok     F      F      F      F      F
start_item               F      ok     F      F      F      F      F      F
finish_item              F      ok     F      F      F      F      F      F
skip_item                F      ok     F      F      F      F      F      F
reopen_item              F      ok     F      F      F      F      F      F
set_connection           F      F      F      F      F      F      ok     F
set_connections          F      F      F      F      F      F      ok     F
check_in                 F      ok     ok     ok     N      F      F      F
open_roll_call           F      ok     F      F      F      F      F      F
answer_roll_call         F      F      ok     ok     N      F      F      F
close_roll_call          F      ok     F      F      F      F      F      F
request_floor            F      F      F      ok     N      F      F      F
withdraw_floor_request   F      ok     F      ok     N      F      F      F
grant_floor              F      ok     F      F      F      F      F      F
give_floor               F      ok     F      F      F      F      F      F
revoke_floor             F      ok     F      F      F      F      F      F
release_floor            F      ok     F      ok     N      F      F      F
expire_floor             F      F      F      F      F      F      ok     F
mute_site                F      ok     F      ok     N      F      F      F
unmute_site              F      ok     F      ok     N      F      F      F
mute_all                 F      ok     F      F      F      F      F      F
add_note                 F      ok     ok     F      F      F      F      F
edit_note                F      ok     ok     F      F      F      F      F
delete_note              F      ok     ok     F      F      F      F      F
approve_minutes          F      ok     F      F      F      F      F      F
open_correction          F      ok     ok     F      F      F      F      F
distribute_minutes       F      ok     ok     F      F      F      F      F
open_minutes             F      F      F      ok     N      F      F      F
acknowledge_minutes      F      F      F      ok     N      F      F      F
remind_minutes           F      ok     ok     F      F      F      F      F
record_minutes_mail      F      F      F      F      F      F      ok     F
create_action_item       F      ok     ok     F      F      F      F      F
edit_action_item         F      ok     ok     F      F      F      F      F
post_progress            F      ok     ok     ok     N      F      F      F
confirm_action_done      F      ok     ok     F      F      F      F      F
reopen_action            F      ok     ok     F      F      F      F      F
cancel_action            F      ok     ok     F      F      F      F      F
report_readiness         F      F      F      ok     N      F      F      F
submit_recommendation    F      ok     ok     ok     N      F      F      F
merge_recommendations    F      ok     ok     F      F      F      F      F
assign_recommendation    F      ok     ok     F      F      F      F      F
mark_recommendation_for_meeting F ok   ok     F      F      F      F      F
answer_recommendation    F      ok     ok     ok     N      F      F      F
decide_answer            F      ok     F      F      F      F      F      F
give_recommendation_feedback F  F      F      ok     N      F      F      F
carry_recommendations    F      ok     ok     F      F      F      F      F
add_document             ok     F      ok     F      F      F      F      F
remove_document          ok     F      ok     F      F      F      F      F
record_document_receipt  F      F      F      ok     N      F      F      F
open_vote                F      ok     F      F      F      F      F      F
cast_vote                F      ok     ok     ok     N      F      F      F
close_vote               F      ok     F      F      F      F      ok     F
attach_deck              ok     ok     ok     ok     P      F      F      F
detach_deck              ok     ok     ok     F      F      F      F      F
allow_presenting         F      ok     F      F      F      F      F      F
disallow_presenting      F      ok     F      F      F      F      F      F
start_presentation       F      F      F      ok     N      F      F      F
show_slide               F      F      F      ok     N      F      F      F
stop_presentation        F      ok     F      ok     P      F      F      F
start_share              F      F      F      ok     N      F      F      F
stop_share               F      ok     F      ok     S      F      F      F
"""

ROLES: dict[str, Actor] = {
    "admin": ADMIN, "chair": CHAIR, "secr": SECRETARY, "site": site(HAI_CHAU), "other": site(THANH_KHE),
    "obs": OBSERVER, "system": SYSTEM, "stranger": STRANGER,
}
CODES = {"F": ErrorCode.FORBIDDEN, "N": ErrorCode.NOT_OWN_SITE, "P": ErrorCode.NOT_PRESENTER,
         "S": ErrorCode.NOT_SHARING}


def _parse(table: str) -> dict[str, dict[str, str]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    assert header == list(ROLES), header
    return {row[0]: dict(zip(header, row[1:], strict=True)) for row in rows}


EXPECTED = _parse(MATRIX)


# -- the scenario of each command: a harness where it succeeds for someone allowed -------------

def _live(*steps: Callable[[Harness], Any]) -> Callable[[], Harness]:
    def make() -> Harness:
        h = build("live")
        for step in steps:
            step(h)
        return h
    return make


def _phase(phase: str, *steps: Callable[[Harness], Any]) -> Callable[[], Harness]:
    def make() -> Harness:
        h = build(phase)
        for step in steps:
            step(h)
        return h
    return make


def _run(actor: Actor, cmd: dict[str, Any]) -> Callable[[Harness], Any]:
    return lambda h: h.run(actor, cmd)


def _approve(h: Harness) -> None:
    h.run(CHAIR, {"type": "approve_minutes"})


def _distribute(h: Harness) -> None:
    h.run(SECRETARY, {"type": "distribute_minutes", "version": 1, "sites": [HAI_CHAU]})


def _roll_call(h: Harness) -> None:
    h.run(CHAIR, {"type": "open_roll_call", "round_id": "r1", "deadline": (h.now + timedelta(minutes=5)).isoformat()})


def _expired_speaker(h: Harness) -> None:
    h.give(HAI_CHAU, limit=10)
    h.tick(11)


_action = _run(SECRETARY, {"type": "create_action_item", "action_id": "a1", "title": "Rà soát hộ nghèo",
                           "assignees": [HAI_CHAU], "due": "2025-10-31"})

DECK = {"deck_id": "d1", "name": "Báo cáo quý III.pdf", "size": 48_213, "pages": 12, "sha256": "ab" * 32}
_deck = _run(SECRETARY, {"type": "attach_deck", **DECK})
_allowed = (lambda h: h.give(HAI_CHAU), _run(CHAIR, {"type": "allow_presenting", "site": HAI_CHAU}))
_presenting = (*_allowed, _deck, _run(site(HAI_CHAU), {"type": "start_presentation", "site": HAI_CHAU, "deck_id": "d1"}))

SCENARIOS: dict[str, tuple[Callable[[], Harness], dict[str, Any]]] = {
    "create_conference": (Harness, create_cmd()),
    "edit_conference": (_phase("draft"), {"title": "Hội nghị giao ban (sửa)"}),
    "invite_sites": (_phase("draft"), {"codes": [AN_HAI]}),
    "uninvite_sites": (_phase("draft"), {"codes": [HOA_NINH]}),
    "schedule_conference": (_phase("draft"), {}),
    "start_rehearsal": (_phase("scheduled"), {}),
    "open_conference": (_phase("rehearsal"), {}),
    "end_conference": (_live(), {}),
    "cancel_conference": (_phase("scheduled"), {"reason": "Hoãn"}),
    "add_agenda_item": (_live(), {"item_id": "i4", "title": "Vấn đề phát sinh"}),
    "edit_agenda_item": (_live(), {"item_id": "i2", "planned_minutes": 30}),
    "remove_agenda_item": (_live(), {"item_id": "i3"}),
    "reorder_agenda": (_live(), {"order": ["i3", "i1", "i2"]}),
    "start_item": (_live(), {"item_id": "i1"}),
    "finish_item": (_live(_run(CHAIR, {"type": "start_item", "item_id": "i1"})), {"item_id": "i1"}),
    "skip_item": (_live(), {"item_id": "i2"}),
    "reopen_item": (_live(_run(CHAIR, {"type": "skip_item", "item_id": "i2"})), {"item_id": "i2"}),
    "set_connection": (_live(), {"site": HAI_CHAU, "connection": "online"}),
    "set_connections": (_live(), {"sites": [HAI_CHAU], "connection": "online"}),
    "check_in": (_live(), {"site": HAI_CHAU, "headcount": 44}),
    "open_roll_call": (_live(), {"round_id": "r1", "deadline": "2025-10-03T08:10:00+07:00"}),
    "answer_roll_call": (_live(_roll_call), {"round_id": "r1", "site": HAI_CHAU, "headcount": 44}),
    "close_roll_call": (_live(_roll_call), {"round_id": "r1"}),
    "request_floor": (_live(), {"site": HAI_CHAU, "topic": "Kiến nghị"}),
    "withdraw_floor_request": (_live(lambda h: h.request(HAI_CHAU)), {"site": HAI_CHAU}),
    "grant_floor": (_live(lambda h: h.request(HAI_CHAU)), {"site": HAI_CHAU}),
    "give_floor": (_live(), {"site": HAI_CHAU}),
    "revoke_floor": (_live(lambda h: h.give(HAI_CHAU)), {"site": HAI_CHAU}),
    "release_floor": (_live(lambda h: h.give(HAI_CHAU)), {"site": HAI_CHAU}),
    "expire_floor": (_live(_expired_speaker), {"site": HAI_CHAU}),
    "mute_site": (_live(lambda h: h.give(HAI_CHAU)), {"site": HAI_CHAU}),
    "unmute_site": (_live(lambda h: h.give(HAI_CHAU), _run(CHAIR, {"type": "mute_site", "site": HAI_CHAU})),
                    {"site": HAI_CHAU}),
    "mute_all": (_live(lambda h: h.give(HAI_CHAU)), {}),
    "add_note": (_live(), {"note_id": "n1", "item_id": "i1", "text": "Ghi chú"}),
    "edit_note": (_phase("ended"), {"note_id": "n1", "text": "Đã sửa", "rev": 1}),
    "delete_note": (_phase("ended"), {"note_id": "n1", "rev": 1}),
    "approve_minutes": (_phase("ended"), {}),
    "open_correction": (_phase("ended", _approve), {"reason": "Sai số liệu"}),
    "distribute_minutes": (_phase("ended", _approve), {"version": 1}),
    "open_minutes": (_phase("ended", _approve, _distribute), {"version": 1, "site": HAI_CHAU}),
    "acknowledge_minutes": (_phase("ended", _approve, _distribute), {"version": 1, "site": HAI_CHAU}),
    "report_readiness": (_phase("rehearsal"), {"site": HAI_CHAU, "camera": True, "microphone": True,
                                               "rtt_ms": 30, "bitrate_kbps": 2000}),
    "remind_minutes": (_phase("ended", _approve, _distribute), {"version": 1}),
    "record_minutes_mail": (_phase("ended", _approve, _distribute),
                            {"version": 1, "results": [{"recipient": f"site:{HAI_CHAU}"}]}),
    "create_action_item": (_live(), {"action_id": "a1", "title": "Rà soát hộ nghèo", "assignees": [HAI_CHAU],
                                     "due": "2025-10-31"}),
    "edit_action_item": (_live(_action), {"action_id": "a1", "due": "2025-11-30"}),
    "post_progress": (_live(_action), {"action_id": "a1", "site": HAI_CHAU, "text": "Đang rà soát", "percent": 40}),
    "confirm_action_done": (_live(_action), {"action_id": "a1"}),
    "reopen_action": (_live(_action, _run(CHAIR, {"type": "cancel_action", "action_id": "a1"})), {"action_id": "a1"}),
    "cancel_action": (_live(_action), {"action_id": "a1"}),
    **WARD_SCENARIOS,
    "attach_deck": (_live(*_allowed), {**DECK, "deck_id": "d2"}),
    "detach_deck": (_live(_deck), {"deck_id": "d1"}),
    "allow_presenting": (_live(lambda h: h.give(HAI_CHAU)), {"site": HAI_CHAU}),
    "disallow_presenting": (_live(*_allowed), {"site": HAI_CHAU}),
    "start_presentation": (_live(*_allowed, _deck), {"site": HAI_CHAU, "deck_id": "d1"}),
    "show_slide": (_live(*_presenting), {"site": HAI_CHAU, "page": 2}),
    "stop_presentation": (_live(*_presenting), {}),
    "start_share": (_live(*_allowed), {"site": HAI_CHAU}),
    "stop_share": (_live(*_allowed, _run(site(HAI_CHAU), {"type": "start_share", "site": HAI_CHAU})), {}),
}

CELLS = [(command, role) for command in EXPECTED for role in ROLES]


@pytest.mark.parametrize(("command", "role"), CELLS, ids=[f"{c}-{r}" for c, r in CELLS])
def test_matrix(command: str, role: str) -> None:
    make, fields = SCENARIOS[command]
    h = make()
    cmd = {"type": command, **fields}
    actor = ROLES[role]
    expected = EXPECTED[command][role]
    if expected == "ok":
        events = h.run(actor, cmd)
        assert events, f"{command} as {role} was allowed but did nothing: the scenario is wrong"
    else:
        h.refuse(actor, cmd, CODES[expected])


def test_the_matrix_lists_every_conference_command() -> None:
    conference_commands = {cls.TYPE for cls in DECIDERS} | {"create_conference"}
    assert set(EXPECTED) == conference_commands
    assert set(SCENARIOS) == conference_commands


def test_observers_and_strangers_may_do_nothing() -> None:
    assert all(row["obs"] != "ok" and row["stranger"] != "ok" for row in EXPECTED.values())


def test_a_site_never_acts_for_another() -> None:
    assert all(row["other"] != "ok" for row in EXPECTED.values())
