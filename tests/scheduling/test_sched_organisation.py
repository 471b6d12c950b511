"""The organisation that issues the minutes: its settings (the admin's) and its document
numbers (the server's: per year, gap-free, one per conference version, never reused)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scheduling import (
    SYSTEM,
    Actor,
    DomainError,
    ErrorCode,
    NumberReserved,
    Organisation,
    OrganisationSet,
    OrgSettings,
    ValidationError,
    decide_organisation,
    evolve_organisation,
    parse_command,
)

NOW = datetime(2025, 10, 20, 3, 0, tzinfo=UTC)
ADMIN = Actor.account("quan-tri", admin=True)
CHAIR = Actor.account("chu-tri")
SETTINGS = {"governing_body": "UBND THÀNH PHỐ HÀ NỘI", "issuing_body": "VĂN PHÒNG", "symbol": "BB-VP",
            "place": "Hà Nội", "chair_title": "CHỦ TỌA", "secretary_title": "THƯ KÝ",
            "recipients": ["Như trên;", "Lưu: VT, VP."]}


def run(state: Organisation, actor: Actor, data: dict[str, Any]) -> list[Any]:
    events = decide_organisation(state, parse_command({"key": "k", **data}), actor, now=NOW)
    for ev in events:
        evolve_organisation(state, ev)
    return events


def reserve(state: Organisation, conf: str, version: int, year: int = 2025) -> list[Any]:
    return run(state, SYSTEM, {"type": "reserve_number", "conference_id": conf, "version": version, "year": year})


class TestSetOrganisation:
    def test_the_admin_sets_the_settings(self) -> None:
        state = Organisation()
        (ev,) = run(state, ADMIN, {"type": "set_organisation", "settings": SETTINGS})
        assert isinstance(ev, OrganisationSet)
        assert state.settings == OrgSettings(**{**SETTINGS, "recipients": ("Như trên;", "Lưu: VT, VP.")})
        assert run(state, ADMIN, {"type": "set_organisation", "settings": SETTINGS}) == []

    @pytest.mark.parametrize("actor", [CHAIR, SYSTEM], ids=str)
    def test_only_the_admin(self, actor: Actor) -> None:
        with pytest.raises(DomainError) as err:
            run(Organisation(), actor, {"type": "set_organisation", "settings": SETTINGS})
        assert err.value.code is ErrorCode.FORBIDDEN

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("symbol", "bb/vp", "symbol:"),
        ("symbol", "", "symbol:"),
        ("place", "x" * 201, "place:"),
        ("recipients", ["a"] * 21, "recipients: at most 20"),
        ("recipients", [""], "recipients[0]:"),
    ])
    def test_bad_input(self, field: str, value: Any, message: str) -> None:
        with pytest.raises(ValidationError) as err:
            parse_command({"key": "k", "type": "set_organisation", "settings": {**SETTINGS, field: value}})
        assert err.value.message.startswith(message), err.value.message


class TestReserveNumber:
    def test_numbers_follow_each_other_per_year(self) -> None:
        state = Organisation()
        assert [e.number for c in ("a", "b", "c") for e in reserve(state, c, 1)] == [1, 2, 3]
        (ev,) = reserve(state, "d", 1, 2026)
        assert ev == NumberReserved(conference_id="d", version=1, year=2026, number=1, at=NOW, actor=SYSTEM.ref,
                                    key="k")
        assert state.last_number == {2025: 3, 2026: 1}

    def test_a_retry_for_the_same_version_gets_the_same_number(self) -> None:
        state = Organisation()
        reserve(state, "a", 1)
        reserve(state, "b", 1)
        assert reserve(state, "a", 1) == [] and state.reservation("a", 1) == (2025, 1)
        assert [e.number for e in reserve(state, "a", 2)] == [3]   # a correction is a new document

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR], ids=str)
    def test_only_the_server(self, actor: Actor) -> None:
        with pytest.raises(DomainError) as err:
            run(Organisation(), actor, {"type": "reserve_number", "conference_id": "a", "version": 1, "year": 2025})
        assert err.value.code is ErrorCode.FORBIDDEN

    @pytest.mark.parametrize(("fields", "message"), [
        ({"version": 0}, "version: at least 1"),
        ({"year": 1999}, "year: between"),
        ({"conference_id": "có dấu"}, "conference_id:"),
    ])
    def test_bad_input(self, fields: dict[str, Any], message: str) -> None:
        data = {"key": "k", "type": "reserve_number", "conference_id": "a", "version": 1, "year": 2025, **fields}
        with pytest.raises(ValidationError) as err:
            parse_command(data)
        assert err.value.message.startswith(message), err.value.message
