"""Attendance: connection changes (reported by the server), check-in by a site (or by the
main bridge on its behalf), and roll-call rounds opened by the chair."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    MAIN,
    OBSERVER,
    SECRETARY,
    STRANGER,
    SYSTEM,
    THANH_KHE,
    Harness,
    build,
    site,
)

from scheduling import (
    Actor,
    CheckedIn,
    Connection,
    ConnectionChanged,
    ErrorCode,
    Leader,
    RollCall,
    RollCallAnswered,
    RollCallClosed,
    RollCallOpened,
    totals,
)

LEADERS = [
    {"name": "Nguyễn Thị Lan", "title": "Chủ tịch UBND phường"},
    {"name": "Lê Văn Hùng", "title": "Phó Chủ tịch UBND phường", "present": False, "reason": "Đi công tác Hà Nội"},
]


def connection(code: str, state: str) -> dict[str, Any]:
    return {"type": "set_connection", "site": code, "connection": state}


class TestSetConnection:
    def test_the_server_reports_a_site_online_then_offline(self, rehearsal: Harness) -> None:
        h = rehearsal
        events = h.run(SYSTEM, connection(HAI_CHAU, "online"), key="c1")
        assert list(events) == [ConnectionChanged(site=HAI_CHAU, connection=Connection.ONLINE,
                                                  **h.meta(SYSTEM, "c1"))]
        joined = h.now
        att = h.s.attendance[HAI_CHAU]
        assert (att.connection, att.first_joined, att.last_left) == (Connection.ONLINE, joined, None)
        h.tick(30)
        h.run(SYSTEM, connection(HAI_CHAU, "reconnecting"))
        h.tick(30)
        h.run(SYSTEM, connection(HAI_CHAU, "offline"))
        h.tick(30)
        h.run(SYSTEM, connection(HAI_CHAU, "online"))
        att = h.s.attendance[HAI_CHAU]
        assert att.connection is Connection.ONLINE
        assert att.first_joined == joined, "the first join is kept"
        assert att.last_left == h.now - timedelta(seconds=30)
        assert totals(h.s).online == 1

    def test_the_same_state_again_yields_nothing(self, rehearsal: Harness) -> None:
        rehearsal.online(HAI_CHAU)
        assert rehearsal.run(SYSTEM, connection(HAI_CHAU, "online")) == ()

    def test_every_phase_but_cancelled(self) -> None:
        for phase in ("draft", "scheduled", "live", "ended"):
            assert build(phase).run(SYSTEM, connection(HAI_CHAU, "online")) != ()
        assert build("cancelled").run(SYSTEM, connection(HAI_CHAU, "online")) == ()

    def test_an_uninvited_site(self, rehearsal: Harness) -> None:
        rehearsal.refuse(SYSTEM, connection(AN_HAI, "online"), ErrorCode.SITE_NOT_INVITED, AN_HAI)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, site(HAI_CHAU), STRANGER], ids=str)
    def test_only_the_server(self, rehearsal: Harness, actor: Actor) -> None:
        rehearsal.refuse(actor, connection(HAI_CHAU, "online"), ErrorCode.FORBIDDEN, "system")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"connection": "flaky"}, "connection: 'flaky' is not one of online, reconnecting, offline"),
        ({"connection": None}, "connection: None is not one of"),
        ({"site": "p-hai-chau"}, "site: 'p-hai-chau' is not a site code"),
    ])
    def test_bad_input(self, rehearsal: Harness, fields: dict[str, Any], message: str) -> None:
        err = rehearsal.refuse(SYSTEM, {**connection(HAI_CHAU, "online"), **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestSetConnections:
    """Several sites at once (the server's presence, when many come online together)."""

    def test_each_invited_site_as_set_connection_would_in_one_command(self, rehearsal: Harness) -> None:
        h = rehearsal
        h.run(SYSTEM, connection(THANH_KHE, "online"))
        events = h.run(SYSTEM, {"type": "set_connections", "connection": "online",
                                "sites": [HAI_CHAU, AN_HAI, THANH_KHE, HAI_CHAU]}, key="c2")
        # AN_HAI is not invited (left out, not a refusal); THANH_KHE is online already; HAI_CHAU once
        assert list(events) == [ConnectionChanged(site=HAI_CHAU, connection=Connection.ONLINE,
                                                  **h.meta(SYSTEM, "c2"))]
        assert h.s.attendance[HAI_CHAU].first_joined == h.now

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, site(HAI_CHAU), STRANGER], ids=str)
    def test_only_the_server(self, rehearsal: Harness, actor: Actor) -> None:
        rehearsal.refuse(actor, {"type": "set_connections", "sites": [HAI_CHAU], "connection": "online"},
                         ErrorCode.FORBIDDEN, "system")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"sites": []}, "sites: 1 to 1000"),
        ({"sites": [HAI_CHAU] * 1001}, "sites: 1 to 1000"),
        ({"sites": [HAI_CHAU, "p-hai-chau"]}, "sites[1]: 'p-hai-chau' is not a site code"),
    ])
    def test_bad_input(self, rehearsal: Harness, fields: dict[str, Any], message: str) -> None:
        cmd = {"type": "set_connections", "sites": [HAI_CHAU], "connection": "online", **fields}
        err = rehearsal.refuse(SYSTEM, cmd, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


def check_in(code: str, headcount: int | Any = 42, leaders: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "check_in", "site": code, "headcount": headcount, "leaders": leaders or []}


class TestCheckIn:
    def test_a_site_checks_itself_in_with_its_leaders(self, live: Harness) -> None:
        h = live
        events = h.run(site(HAI_CHAU), check_in(HAI_CHAU, 42, LEADERS), key="diem-danh")
        leaders = (Leader(name="Nguyễn Thị Lan", title="Chủ tịch UBND phường"),
                   Leader(name="Lê Văn Hùng", title="Phó Chủ tịch UBND phường", present=False,
                          reason="Đi công tác Hà Nội"))
        assert list(events) == [CheckedIn(site=HAI_CHAU, headcount=42, leaders=leaders,
                                          **h.meta(site(HAI_CHAU), "diem-danh"))]
        att = h.s.attendance[HAI_CHAU]
        assert (att.headcount, att.leaders, att.checked_in_at) == (42, leaders, h.now)
        assert totals(h.s).people == 42 and totals(h.s).checked_in == 1

    def test_a_later_check_in_replaces_the_first(self, live: Harness) -> None:
        live.run(site(HAI_CHAU), check_in(HAI_CHAU, 42, LEADERS))
        live.run(site(HAI_CHAU), check_in(HAI_CHAU, 45))
        assert live.s.attendance[HAI_CHAU].headcount == 45 and live.s.attendance[HAI_CHAU].leaders == ()

    def test_zero_people_is_a_check_in(self, live: Harness) -> None:
        live.run(site(HAI_CHAU), check_in(HAI_CHAU, 0))
        assert totals(live.s).checked_in == 1 and totals(live.s).people == 0

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY], ids=str)
    def test_the_main_bridge_checks_a_site_in_on_its_behalf(self, rehearsal: Harness, actor: Actor) -> None:
        rehearsal.run(actor, check_in(THANH_KHE, 30))
        assert rehearsal.s.attendance[THANH_KHE].headcount == 30

    def test_the_main_bridge_checks_itself_in(self, live: Harness) -> None:
        live.run(site(MAIN), check_in(MAIN, 58))
        assert live.s.attendance[MAIN].headcount == 58

    def test_not_for_another_site(self, live: Harness) -> None:
        live.refuse(site(THANH_KHE), check_in(HAI_CHAU), ErrorCode.NOT_OWN_SITE, THANH_KHE, HAI_CHAU)

    def test_not_an_uninvited_site(self, live: Harness) -> None:
        live.refuse(site(AN_HAI), check_in(AN_HAI), ErrorCode.SITE_NOT_INVITED, AN_HAI)
        live.refuse(CHAIR, check_in(AN_HAI), ErrorCode.SITE_NOT_INVITED, AN_HAI)

    @pytest.mark.parametrize("actor", [ADMIN, OBSERVER, STRANGER, SYSTEM], ids=str)
    def test_nobody_else(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, check_in(HAI_CHAU), ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize("phase", ["draft", "scheduled", "ended", "cancelled"])
    def test_only_in_rehearsal_or_live(self, phase: str) -> None:
        build(phase).refuse(site(HAI_CHAU), check_in(HAI_CHAU), ErrorCode.WRONG_PHASE, phase)

    @pytest.mark.parametrize(("cmd", "message"), [
        (check_in(HAI_CHAU, -3), "headcount: must be between 0 and 100000, got -3"),
        (check_in(HAI_CHAU, 100_001), "headcount: must be between 0 and 100000"),
        (check_in(HAI_CHAU, "42"), "headcount: expected an integer, got string"),
        (check_in(HAI_CHAU, 41.5), "headcount: expected an integer, got number"),
        (check_in(HAI_CHAU, leaders=[{"name": ""}]), "leaders[0].name: must not be empty"),
        (check_in(HAI_CHAU, leaders=[{"name": "Lê Văn Hùng", "present": False}]), "leaders[0].reason: must not be empty"),
        (check_in(HAI_CHAU, leaders=[{"name": "Lê Văn Hùng", "age": 50}]), "leaders[0].age: unknown field"),
        (check_in(HAI_CHAU, leaders=[{"name": f"Cán bộ {n}"} for n in range(51)]), "leaders: at most 50"),
        ({"type": "check_in", "site": HAI_CHAU}, "headcount: missing"),
    ])
    def test_bad_input(self, live: Harness, cmd: dict[str, Any], message: str) -> None:
        err = live.refuse(site(HAI_CHAU), cmd, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


def open_round(h: Harness, round_id: str = "r1", minutes: int = 5) -> None:
    h.run(CHAIR, {"type": "open_roll_call", "round_id": round_id,
                  "deadline": (h.now + timedelta(minutes=minutes)).isoformat()})


class TestOpenRollCall:
    def test_the_chair_opens_a_round(self, live: Harness) -> None:
        deadline = live.now + timedelta(minutes=5)
        events = live.run(CHAIR, {"type": "open_roll_call", "round_id": "r1", "deadline": deadline.isoformat()},
                          key="rc")
        assert list(events) == [RollCallOpened(round_id="r1", deadline=deadline, **live.meta(CHAIR, "rc"))]
        assert live.s.roll_calls == {"r1": RollCall(round_id="r1", opened_at=live.now, deadline=deadline)}
        assert live.s.roll_calls["r1"].is_open(live.now)
        assert not live.s.roll_calls["r1"].is_open(deadline + timedelta(seconds=1))

    def test_round_ids_are_unique(self, live: Harness) -> None:
        open_round(live)
        live.refuse(CHAIR, {"type": "open_roll_call", "round_id": "r1",
                            "deadline": (live.now + timedelta(minutes=5)).isoformat()},
                    ErrorCode.ROLL_CALL_EXISTS, "'r1'")

    @pytest.mark.parametrize("seconds", [0, -60])
    def test_deadline_in_the_past(self, live: Harness, seconds: int) -> None:
        live.refuse(CHAIR, {"type": "open_roll_call", "round_id": "r1",
                            "deadline": (live.now + timedelta(seconds=seconds)).isoformat()},
                    ErrorCode.DEADLINE_IN_PAST, "future")

    def test_deadline_too_far(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "open_roll_call", "round_id": "r1",
                            "deadline": (live.now + timedelta(hours=12, seconds=1)).isoformat()},
                    ErrorCode.INVALID_COMMAND, "deadline: at most 12 hours")

    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal", "ended"])
    def test_only_live(self, phase: str) -> None:
        h = build(phase)
        h.refuse(CHAIR, {"type": "open_roll_call", "round_id": "r1",
                         "deadline": (h.now + timedelta(minutes=5)).isoformat()}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, site(HAI_CHAU), SYSTEM], ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "open_roll_call", "round_id": "r1",
                            "deadline": (live.now + timedelta(minutes=5)).isoformat()}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"deadline": "2025-10-03T08:05:00"}, "deadline: date-time needs a UTC offset"),
        ({"deadline": "08:05"}, "deadline: '08:05' is not an ISO 8601 date-time"),
        ({"round_id": "vòng 1"}, "round_id: 'vòng 1' is not an id"),
    ])
    def test_bad_input(self, live: Harness, fields: dict[str, Any], message: str) -> None:
        cmd = {"type": "open_roll_call", "round_id": "r1", "deadline": (live.now + timedelta(minutes=5)).isoformat()}
        err = live.refuse(CHAIR, {**cmd, **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


def answer(code: str, headcount: Any = 40, round_id: str = "r1") -> dict[str, Any]:
    return {"type": "answer_roll_call", "round_id": round_id, "site": code, "headcount": headcount}


class TestAnswerRollCall:
    def test_a_site_answers(self, live: Harness) -> None:
        open_round(live)
        live.tick(60)
        events = live.run(site(HAI_CHAU), answer(HAI_CHAU, 40), key="co-mat")
        assert list(events) == [RollCallAnswered(round_id="r1", site=HAI_CHAU, headcount=40,
                                                 **live.meta(site(HAI_CHAU), "co-mat"))]
        assert live.s.roll_calls["r1"].answers == {HAI_CHAU: 40}

    def test_a_secretary_answers_for_a_site_and_a_later_answer_wins(self, live: Harness) -> None:
        open_round(live)
        live.run(SECRETARY, answer(THANH_KHE, 30))
        live.run(site(THANH_KHE), answer(THANH_KHE, 31))
        assert live.s.roll_calls["r1"].answers == {THANH_KHE: 31}

    def test_not_after_the_deadline(self, live: Harness) -> None:
        open_round(live, minutes=5)
        live.tick(5 * 60 + 1)
        live.refuse(site(HAI_CHAU), answer(HAI_CHAU), ErrorCode.DEADLINE_PASSED, "'r1'")

    def test_not_once_closed(self, live: Harness) -> None:
        open_round(live)
        live.run(CHAIR, {"type": "close_roll_call", "round_id": "r1"})
        live.refuse(site(HAI_CHAU), answer(HAI_CHAU), ErrorCode.ROLL_CALL_CLOSED, "'r1'")

    def test_unknown_round(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), answer(HAI_CHAU, round_id="r9"), ErrorCode.UNKNOWN_ROLL_CALL, "'r9'")

    def test_not_for_another_site(self, live: Harness) -> None:
        open_round(live)
        live.refuse(site(THANH_KHE), answer(HAI_CHAU), ErrorCode.NOT_OWN_SITE)

    def test_not_an_uninvited_site(self, live: Harness) -> None:
        open_round(live)
        live.refuse(site(AN_HAI), answer(AN_HAI), ErrorCode.SITE_NOT_INVITED)
        live.refuse(SECRETARY, answer(AN_HAI), ErrorCode.SITE_NOT_INVITED)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, OBSERVER, STRANGER, SYSTEM], ids=str)
    def test_nobody_else(self, live: Harness, actor: Actor) -> None:
        open_round(live)
        live.refuse(actor, answer(HAI_CHAU), ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("cmd", "message"), [
        (answer(HAI_CHAU, -1), "headcount: must be between 0 and 100000, got -1"),
        (answer(HAI_CHAU, "40"), "headcount: expected an integer, got string"),
        (answer(HAI_CHAU, None), "headcount: expected an integer, got null"),
        ({"type": "answer_roll_call", "site": HAI_CHAU, "headcount": 1}, "round_id: missing"),
    ])
    def test_bad_input(self, live: Harness, cmd: dict[str, Any], message: str) -> None:
        open_round(live)
        err = live.refuse(site(HAI_CHAU), cmd, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestCloseRollCall:
    def test_the_chair_closes_a_round(self, live: Harness) -> None:
        open_round(live)
        live.run(site(HAI_CHAU), answer(HAI_CHAU, 40))
        live.tick(120)
        events = live.run(CHAIR, {"type": "close_roll_call", "round_id": "r1"}, key="dong")
        assert list(events) == [RollCallClosed(round_id="r1", **live.meta(CHAIR, "dong"))]
        rc = live.s.roll_calls["r1"]
        assert rc.closed_at == live.now and not rc.is_open(live.now) and rc.answers == {HAI_CHAU: 40}

    def test_a_round_past_its_deadline_may_still_be_closed(self, live: Harness) -> None:
        open_round(live, minutes=1)
        live.tick(600)
        live.run(CHAIR, {"type": "close_roll_call", "round_id": "r1"})

    def test_not_twice(self, live: Harness) -> None:
        open_round(live)
        live.run(CHAIR, {"type": "close_roll_call", "round_id": "r1"})
        live.refuse(CHAIR, {"type": "close_roll_call", "round_id": "r1"}, ErrorCode.ROLL_CALL_CLOSED, "already")

    def test_unknown_round(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "close_roll_call", "round_id": "r9"}, ErrorCode.UNKNOWN_ROLL_CALL, "'r9'")

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, site(HAI_CHAU), SYSTEM], ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        open_round(live)
        live.refuse(actor, {"type": "close_roll_call", "round_id": "r1"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        open_round(live)
        live.refuse(CHAIR, {"type": "close_roll_call", "round_id": 1}, ErrorCode.INVALID_COMMAND,
                    "round_id: expected a string, got integer")
