"""parse_command and the event codec: untrusted plain data in, strictly typed commands out.
No coercion ("3" is not an integer, a date-time needs an offset), and every refusal names the
field that is wrong."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from scheduling_builders import HAI_CHAU, MAIN, build, create_cmd

from scheduling import (
    COMMANDS,
    EVENTS,
    CheckIn,
    DomainError,
    ErrorCode,
    OpenRollCall,
    ValidationError,
    command_to_dict,
    event_from_dict,
    event_to_dict,
    parse_command,
)


def refused(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_command(data)
    assert info.value.code is ErrorCode.INVALID_COMMAND
    return info.value


def cmd(type_: str, /, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "key": "k1", **fields}


CHECK_IN = {"site": HAI_CHAU, "headcount": 42}
ROLL_CALL = {"round_id": "r1", "deadline": "2025-10-03T09:00:00+07:00"}
ACTION = {"action_id": "a1", "title": "Rà soát hộ nghèo", "assignees": [HAI_CHAU], "due": "2025-10-31"}

# (command, the start of the message that names the bad field)
BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("string for an int", cmd("check_in", **{**CHECK_IN, "headcount": "3"}),
     "headcount: expected an integer, got string"),
    ("float for an int", cmd("check_in", **{**CHECK_IN, "headcount": 3.0}),
     "headcount: expected an integer, got number"),
    ("boolean for an int", cmd("check_in", **{**CHECK_IN, "headcount": True}),
     "headcount: expected an integer, got boolean"),
    ("null for an int", cmd("check_in", **{**CHECK_IN, "headcount": None}),
     "headcount: expected an integer, got null"),
    ("negative headcount", cmd("check_in", **{**CHECK_IN, "headcount": -1}),
     "headcount: must be between 0 and"),
    ("missing field", cmd("check_in", site=HAI_CHAU), "headcount: missing"),
    ("missing key", {"type": "mute_all"}, "key: missing"),
    ("empty key", {"type": "mute_all", "key": ""}, "key: 1-64 characters"),
    ("key with a space", {"type": "mute_all", "key": "k 1"}, "key: 1-64 characters"),
    ("key too long", {"type": "mute_all", "key": "k" * 65}, "key: 1-64 characters"),
    ("unknown field", cmd("mute_all", site=HAI_CHAU), "site: unknown field"),
    ("naive date-time", cmd("open_roll_call", **{**ROLL_CALL, "deadline": "2025-10-03T09:00:00"}),
     "deadline: date-time needs a UTC offset"),
    ("bare date for a date-time", cmd("open_roll_call", **{**ROLL_CALL, "deadline": "2025-10-03"}),
     "deadline: date-time needs a UTC offset"),
    ("epoch number for a date-time", cmd("open_roll_call", **{**ROLL_CALL, "deadline": 1759456800}),
     "deadline: expected an ISO 8601 date-time string, got integer"),
    ("garbage date-time", cmd("open_roll_call", **{**ROLL_CALL, "deadline": "9 giờ sáng"}),
     "deadline: '9 giờ sáng' is not an ISO 8601 date-time"),
    ("local date format", cmd("create_action_item", **{**ACTION, "due": "31/10/2025"}),
     "due: '31/10/2025' is not an ISO 8601 date"),
    ("date-time for a date", cmd("create_action_item", **{**ACTION, "due": "2025-10-31T17:00:00+07:00"}),
     "due: '2025-10-31T17:00:00+07:00' is not an ISO 8601 date"),
    ("string for a list", cmd("invite_sites", codes=HAI_CHAU), "codes: expected an array, got string"),
    ("number in a list", cmd("invite_sites", codes=[HAI_CHAU, 7]), "codes[1]: expected a string, got integer"),
    ("lower-case site code", cmd("invite_sites", codes=["p-hai-chau"]), "codes[0]: 'p-hai-chau' is not a site code"),
    ("duplicate codes", cmd("invite_sites", codes=[HAI_CHAU, HAI_CHAU]), "codes: duplicates are not allowed"),
    ("string for a boolean", cmd("grant_floor", site=HAI_CHAU, replace="true"),
     "replace: expected a boolean, got string"),
    ("string for an optional int", cmd("grant_floor", site=HAI_CHAU, limit_seconds="60"),
     "limit_seconds: expected an integer, got string"),
    ("nested field", cmd("check_in", **CHECK_IN, leaders=[{"name": "Lê Văn Hùng", "present": "có"}]),
     "leaders[0].present: expected a boolean, got string"),
    ("nested object is a string", cmd("check_in", **CHECK_IN, leaders=["Lê Văn Hùng"]),
     "leaders[0]: expected an object, got string"),
    ("enum value", cmd("set_connection", site=HAI_CHAU, connection="flaky"),
     "connection: 'flaky' is not one of online, reconnecting, offline"),
    ("enum as int", cmd("add_note", note_id="n1", text="x", kind=1), "kind: 1 is not one of note, conclusion"),
    ("literal value", cmd("post_progress", action_id="a1", site=HAI_CHAU, text="x", status="cancelled"),
     "status: expected one of ['in_progress', 'done']"),
    ("string for a revision", cmd("edit_note", note_id="n1", text="x", rev="1"),
     "rev: expected an integer, got string"),
    ("nested site field", cmd("register_site", site={"code": "P-MOI", "name": "Phường Mới", "expected_headcount": "40"}),
     "site.expected_headcount: expected an integer, got string"),
    ("control character", cmd("add_note", note_id="n1", text="biên bản\x00"), "text: control characters"),
    ("empty text", cmd("add_note", note_id="n1", text="   "), "text: must not be empty"),
    ("text too long", cmd("add_note", note_id="n1", text="x" * 20_001), "text: at most 20000 characters"),
    ("bad id", cmd("add_agenda_item", item_id="mục 1", title="x"), "item_id: 'mục 1' is not an id"),
    ("minutes out of range", cmd("add_agenda_item", item_id="i9", title="x", planned_minutes=-5),
     "planned_minutes: must be between 0 and 1440, got -5"),
    ("percent out of range", cmd("post_progress", action_id="a1", site=HAI_CHAU, text="x", percent=101),
     "percent: must be between 0 and 100, got 101"),
    ("limit too short", cmd("give_floor", site=HAI_CHAU, limit_seconds=5),
     "limit_seconds: must be between 10 and 14400, got 5"),
    ("absent leader without reason", cmd("check_in", **CHECK_IN, leaders=[{"name": "Lê Văn Hùng", "present": False}]),
     "leaders[0].reason: must not be empty"),
    ("unknown time zone", create_cmd(key="k1", timezone="Asia/Hanoi_City"),
     "timezone: 'Asia/Hanoi_City' is not an IANA time zone"),
    ("ends before start", create_cmd(key="k1", ends_at="2025-10-03T07:00:00+07:00"),
     "ends_at: must be after starts_at"),
    ("max_speakers zero", create_cmd(key="k1", max_speakers=0), "max_speakers: must be between 1 and 16"),
    ("codes and group", cmd("invite_sites", codes=[HAI_CHAU], group="Huyện Hòa Vang"),
     "codes/group: give either"),
    ("neither codes nor group", cmd("invite_sites"), "codes/group: give either"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in BAD_INPUT], ids=[n for n, _, _ in BAD_INPUT])
def test_parse_refuses_and_names_the_field(data: dict[str, Any], message: str) -> None:
    err = refused(data)
    assert err.message.startswith(message), err.message


@pytest.mark.parametrize("data", [None, [], "mute_all", 42, [{"type": "mute_all"}]])
def test_parse_refuses_what_is_not_an_object(data: Any) -> None:
    assert refused(data).message == "command: expected an object"


@pytest.mark.parametrize("data", [{"key": "k1"}, {"type": 7, "key": "k1"}, {"type": None}])
def test_parse_refuses_a_missing_type(data: Any) -> None:
    assert refused(data).message == "type: missing or not a string"


def test_parse_names_an_unknown_field_whatever_its_key() -> None:
    assert refused({"type": "mute_all", "key": "k1", 1: "a", "b": 2}).message == "1: unknown field"


def test_parse_refuses_an_unknown_type_and_names_it() -> None:
    with pytest.raises(DomainError) as info:
        parse_command({"type": "drop_database", "key": "k1"})
    assert info.value.code is ErrorCode.UNKNOWN_COMMAND
    assert "'drop_database'" in info.value.message


def test_parse_accepts_well_typed_input() -> None:
    c = parse_command(cmd("check_in", **CHECK_IN, leaders=[
        {"name": "Nguyễn Thị Lan", "title": "Chủ tịch UBND phường"},
        {"name": "Lê Văn Hùng", "title": "Phó Chủ tịch", "present": False, "reason": "Đi công tác"}]))
    assert isinstance(c, CheckIn)
    assert c.headcount == 42 and c.leaders[1].present is False
    rc = parse_command(cmd("open_roll_call", **ROLL_CALL))
    assert isinstance(rc, OpenRollCall)
    assert rc.deadline == datetime.fromisoformat("2025-10-03T02:00:00+00:00")
    action = parse_command(cmd("create_action_item", **ACTION))
    assert action.due == date(2025, 10, 31)  # type: ignore[attr-defined]


SAMPLES: list[dict[str, Any]] = [
    create_cmd(key="k1"),
    cmd("edit_conference", title="Hội nghị sơ kết", max_speakers=2),
    cmd("invite_sites", group="Huyện Hòa Vang"),
    cmd("add_agenda_item", item_id="i9", title="Mục mới", documents=["bao-cao-q3.pdf"], position=0),
    cmd("check_in", **CHECK_IN, leaders=[{"name": "Lê Văn Hùng", "present": False, "reason": "Ốm"}]),
    cmd("open_roll_call", **ROLL_CALL),
    cmd("request_floor", site=HAI_CHAU, item_id="i2", topic="Giải phóng mặt bằng"),
    cmd("give_floor", site=HAI_CHAU, limit_seconds=300, replace=False),
    cmd("add_note", note_id="n1", item_id=None, kind="conclusion", text="Kết luận"),
    cmd("distribute_minutes", version=1, sites=[HAI_CHAU, MAIN], accounts=["thu_ky"]),
    cmd("create_action_item", **ACTION),
    cmd("post_progress", action_id="a1", site=HAI_CHAU, text="Đã xong 50%", percent=50, status="in_progress"),
]


@pytest.mark.parametrize("data", SAMPLES, ids=[d["type"] for d in SAMPLES])
def test_command_round_trip(data: dict[str, Any]) -> None:
    c = parse_command(data)
    again = parse_command(json.loads(json.dumps(command_to_dict(c))))
    assert again == c


def test_every_event_of_a_conference_round_trips_through_json() -> None:
    h = build("ended")
    h.now = h.now.replace(hour=9, minute=30)
    from scheduling_builders import CHAIR, SECRETARY
    h.run(CHAIR, {"type": "approve_minutes"})
    h.run(SECRETARY, {"type": "distribute_minutes", "version": 1})
    seen = set()
    for ev in h.log:
        data = json.loads(json.dumps(event_to_dict(ev), ensure_ascii=False))
        assert data["type"] == ev.TYPE
        assert event_from_dict(data) == ev
        seen.add(ev.TYPE)
    assert {"conference_created", "sites_invited", "minutes_approved", "minutes_distributed"} <= seen


def test_event_from_dict_refuses_an_unknown_type() -> None:
    with pytest.raises(ValidationError, match="unknown event type 'meteor_strike'"):
        event_from_dict({"type": "meteor_strike", "at": "2025-10-03T08:00:00+07:00", "actor": "x", "key": "k"})


def test_event_from_dict_ignores_the_store_seq() -> None:
    ev = build("draft").log[0]
    assert event_from_dict({**event_to_dict(ev), "seq": 1}) == ev


def test_registries_name_every_class_once() -> None:
    assert all(name == cls.TYPE for name, cls in COMMANDS.items())
    assert all(name == cls.TYPE for name, cls in EVENTS.items())
    assert not set(COMMANDS) & set(EVENTS)


def test_a_command_built_in_python_with_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError, match="deadline: date-time needs a UTC offset"):
        OpenRollCall(key="k1", round_id="r1", deadline=datetime(2025, 10, 3, 9, 0))
