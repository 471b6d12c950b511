"""Conference lifecycle: create, edit, invite/uninvite sites, schedule, rehearse, open, end,
cancel. One class per command: the happy path (whole event sequence and resulting state),
who may not, in which phases not, and bad input."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    CONF_ID,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
    INVITED,
    MAIN,
    OBSERVER,
    OTHER_MAIN,
    SECRETARY,
    SITE,
    STRANGER,
    SYSTEM,
    THANH_KHE,
    VN,
    Harness,
    build,
    create_cmd,
    site,
    types,
)

from scheduling import (
    Actor,
    Attendance,
    ConferenceCreated,
    ConferenceEdited,
    ConferenceKind,
    ConferenceState,
    EditConference,
    ErrorCode,
    FloorEnded,
    FloorRequestWithdrawn,
    ItemFinished,
    ItemStatus,
    Phase,
    PhaseChanged,
    SiteMuted,
    SitesInvited,
    SitesUninvited,
    decide,
    parse_command,
)
from scheduling.lifecycle import CREATED_FIELDS, EDITABLE_FIELDS


class TestCreateConference:
    def test_admin_creates_a_conference_in_draft(self) -> None:
        h = Harness()
        events = h.run(ADMIN, create_cmd(max_speakers=2, series="giao-ban-quy"), key="tao-hoi-nghi")
        assert list(events) == [ConferenceCreated(
            conference_id=CONF_ID, title="Hội nghị giao ban trực tuyến quý III năm 2025",
            kind=ConferenceKind.PERIODIC_REVIEW,
            starts_at=datetime(2025, 10, 3, 8, 0, tzinfo=VN), ends_at=datetime(2025, 10, 3, 11, 30, tzinfo=VN),
            timezone="Asia/Ho_Chi_Minh", main_site=SITE[MAIN], chair=CHAIR.id, secretaries=(SECRETARY.id,),
            observers=(OBSERVER.id,), max_speakers=2, series="giao-ban-quy", description="",
            **h.meta(ADMIN, "tao-hoi-nghi"))]
        s = h.s
        assert (s.phase, s.version, s.chair, s.max_speakers) == (Phase.DRAFT, 1, CHAIR.id, 2)
        assert s.sites == {MAIN: SITE[MAIN]}
        assert s.attendance == {MAIN: Attendance()}
        assert s.remote_sites() == []

    def test_defaults_time_zone_kind_and_one_speaker(self) -> None:
        h = Harness()
        cmd = create_cmd()
        del cmd["kind"]
        h.run(ADMIN, cmd)
        assert (h.s.timezone, h.s.kind, h.s.max_speakers) == ("Asia/Ho_Chi_Minh", ConferenceKind.OTHER, 1)

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, STRANGER, site(MAIN), SYSTEM], ids=str)
    def test_only_an_admin_may_create(self, actor: Actor) -> None:
        Harness().refuse(actor, create_cmd(), ErrorCode.FORBIDDEN, "admin", "create a conference")

    def test_a_conference_exists_only_once(self, draft: Harness) -> None:
        draft.refuse(ADMIN, create_cmd(), ErrorCode.CONFERENCE_EXISTS, CONF_ID)

    def test_unknown_main_site(self) -> None:
        Harness().refuse(ADMIN, create_cmd(main_site="DN-KHONG-CO"), ErrorCode.UNKNOWN_SITE, "DN-KHONG-CO")

    def test_main_site_must_be_a_main_bridge(self) -> None:
        Harness().refuse(ADMIN, create_cmd(main_site=HAI_CHAU), ErrorCode.INVALID_COMMAND,
                         HAI_CHAU, "not a main bridge")

    def test_retired_main_site_is_unknown(self) -> None:
        h = Harness()
        from scheduling import decide_directory, evolve_directory
        for ev in decide_directory(h.directory, parse_command({"type": "retire_site", "key": "r", "code": MAIN}),
                                   ADMIN, now=h.now):
            evolve_directory(h.directory, ev)
        h.refuse(ADMIN, create_cmd(), ErrorCode.UNKNOWN_SITE, MAIN)

    def test_a_directory_is_needed(self) -> None:
        cmd = parse_command({**create_cmd(), "key": "k1"})
        with pytest.raises(Exception) as info:
            decide(None, cmd, ADMIN, now=datetime(2025, 10, 1, tzinfo=VN))
        assert getattr(info.value, "code", None) is ErrorCode.UNKNOWN_SITE

    @pytest.mark.parametrize("field", ["chair", "secretaries", "observers"])
    def test_staff_must_be_known_accounts(self, field: str) -> None:
        value = "ba_khong_co" if field == "chair" else ["ba_khong_co"]
        Harness().refuse(ADMIN, create_cmd(**{field: value}), ErrorCode.UNKNOWN_ACCOUNT, "'ba_khong_co'")

    def test_accounts_are_not_checked_when_the_caller_does_not_know_them(self) -> None:
        h = Harness(accounts=None)
        h.run(ADMIN, create_cmd(chair="ba_khong_co"))
        assert h.s.chair == "ba_khong_co"

    @pytest.mark.parametrize(("fields", "message"), [
        ({"title": ""}, "title: must not be empty"),
        ({"conference_id": "hội nghị"}, "conference_id:"),
        ({"ends_at": "2025-10-03T08:00:00+07:00"}, "ends_at: must be after starts_at"),
        ({"ends_at": "2025-10-11T08:00:00+07:00"}, "ends_at: a conference lasts at most 7 days"),
        ({"max_speakers": 17}, "max_speakers: must be between 1 and 16, got 17"),
        ({"secretaries": ["thư ký"]}, "staff[0]:"),
        ({"kind": "party"}, "kind: 'party' is not one of"),
        ({"starts_at": "2025-10-03 08:00"}, "starts_at: date-time needs a UTC offset"),
        ({"title": None}, "title: expected a string, got null"),
    ])
    def test_bad_input(self, fields: dict[str, object], message: str) -> None:
        err = Harness().refuse(ADMIN, create_cmd(**fields), ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message

    def test_missing_field(self) -> None:
        cmd = create_cmd()
        del cmd["main_site"]
        Harness().refuse(ADMIN, cmd, ErrorCode.INVALID_COMMAND, "main_site: missing")


class TestEditConference:
    def test_admin_edits_only_what_changed(self, scheduled: Harness) -> None:
        h = scheduled
        events = h.run(ADMIN, {"type": "edit_conference", "title": "Hội nghị giao ban quý III (điều chỉnh)",
                               "ends_at": "2025-10-03T12:00:00+07:00", "max_speakers": 3,
                               "chair": CHAIR.id, "secretaries": [SECRETARY.id, "thu_ky_2"]}, key="e1")
        assert list(events) == [ConferenceEdited(
            title="Hội nghị giao ban quý III (điều chỉnh)", ends_at=datetime(2025, 10, 3, 12, 0, tzinfo=VN),
            max_speakers=3, secretaries=(SECRETARY.id, "thu_ky_2"), **h.meta(ADMIN, "e1"))]
        assert h.s.title == "Hội nghị giao ban quý III (điều chỉnh)"
        assert (h.s.max_speakers, h.s.secretaries, h.s.chair) == (3, (SECRETARY.id, "thu_ky_2"), CHAIR.id)
        assert h.s.ends_at == datetime(2025, 10, 3, 12, 0, tzinfo=VN)

    def test_an_edit_that_changes_nothing_yields_no_event(self, scheduled: Harness) -> None:
        assert scheduled.run(ADMIN, {"type": "edit_conference", "max_speakers": 1}) == ()
        assert scheduled.s.version == 6

    def test_staff_may_be_cleared(self, draft: Harness) -> None:
        draft.run(ADMIN, {"type": "edit_conference", "observers": []})
        assert draft.s.observers == ()

    def test_new_chair_takes_over(self, live: Harness) -> None:
        live.run(ADMIN, {"type": "edit_conference", "chair": "thu_ky_2"})
        live.refuse(CHAIR, {"type": "mute_all"}, ErrorCode.FORBIDDEN)
        live.run(Actor.account("thu_ky_2"), {"type": "mute_all"})

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM], ids=str)
    def test_only_an_admin_may_edit(self, draft: Harness, actor: Actor) -> None:
        draft.refuse(actor, {"type": "edit_conference", "title": "Khác"}, ErrorCode.FORBIDDEN,
                     "edit the conference")

    @pytest.mark.parametrize("phase", ["ended", "cancelled"])
    def test_not_after_the_end(self, phase: str) -> None:
        build(phase).refuse(ADMIN, {"type": "edit_conference", "title": "Khác"}, ErrorCode.WRONG_PHASE, phase)

    def test_end_before_the_current_start(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "edit_conference", "ends_at": "2025-10-03T07:59:00+07:00"},
                     ErrorCode.INVALID_COMMAND, "ends_at: must be after starts_at")

    def test_start_after_the_current_end(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "edit_conference", "starts_at": "2025-10-03T12:00:00+07:00"},
                     ErrorCode.INVALID_COMMAND, "ends_at: must be after starts_at")

    def test_at_most_7_days_also_when_only_one_end_moves(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "edit_conference", "ends_at": "2025-10-20T08:00:00+07:00"},
                     ErrorCode.INVALID_COMMAND, "ends_at: a conference lasts at most 7 days")
        draft.refuse(ADMIN, {"type": "edit_conference", "starts_at": "2025-09-20T08:00:00+07:00"},
                     ErrorCode.INVALID_COMMAND, "at most 7 days")

    def test_max_speakers_not_below_the_current_speakers(self) -> None:
        h = build("live", max_speakers=2)
        h.give(HAI_CHAU)
        h.give(THANH_KHE)
        h.refuse(ADMIN, {"type": "edit_conference", "max_speakers": 1}, ErrorCode.FLOOR_FULL, "2 sites")
        h.run(ADMIN, {"type": "edit_conference", "max_speakers": 2})

    def test_unknown_account(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "edit_conference", "observers": ["ai_do"]}, ErrorCode.UNKNOWN_ACCOUNT, "ai_do")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"max_speakers": "2"}, "max_speakers: expected an integer, got string"),
        ({"max_speakers": 0}, "max_speakers: must be between 1 and 16"),
        ({"timezone": "GMT+7"}, "timezone: 'GMT+7' is not an IANA time zone"),
        ({"chair": ""}, "chair:"),
        ({"conference_id": "khac"}, "conference_id: unknown field"),
    ])
    def test_bad_input(self, draft: Harness, fields: dict[str, object], message: str) -> None:
        err = draft.refuse(ADMIN, {"type": "edit_conference", **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestInviteSites:
    def test_admin_invites_a_hand_picked_list(self) -> None:
        h = Harness()
        h.run(ADMIN, create_cmd())
        events = h.run(ADMIN, {"type": "invite_sites", "codes": [HAI_CHAU, HOA_BAC]}, key="moi")
        assert list(events) == [SitesInvited(sites=(SITE[HAI_CHAU], SITE[HOA_BAC]), **h.meta(ADMIN, "moi"))]
        assert list(h.s.sites) == [MAIN, HAI_CHAU, HOA_BAC]
        assert h.s.remote_sites() == [HAI_CHAU, HOA_BAC]
        assert h.s.attendance[HAI_CHAU] == Attendance()
        assert h.s.floor.muted == {HAI_CHAU, HOA_BAC}, "invited remote sites start muted"

    def test_admin_invites_a_whole_group(self) -> None:
        h = Harness()
        h.run(ADMIN, create_cmd())
        events = h.run(ADMIN, {"type": "invite_sites", "group": "Huyện Hòa Vang"})
        assert [s.code for s in events[0].sites] == [HOA_BAC, HOA_NINH]  # type: ignore[attr-defined]

    def test_group_remote_takes_every_remote_site(self) -> None:
        h = Harness()
        h.run(ADMIN, create_cmd())
        h.run(ADMIN, {"type": "invite_sites", "group": "remote"})
        assert h.s.remote_sites() == [*INVITED, AN_HAI]
        assert OTHER_MAIN not in h.s.sites

    def test_already_invited_sites_are_left_out(self, draft: Harness) -> None:
        events = draft.run(ADMIN, {"type": "invite_sites", "codes": [HAI_CHAU, AN_HAI]})
        assert [s.code for s in events[0].sites] == [AN_HAI]  # type: ignore[attr-defined]
        assert draft.run(ADMIN, {"type": "invite_sites", "codes": [HAI_CHAU, AN_HAI]}) == ()

    def test_sites_may_join_a_live_conference(self, live: Harness) -> None:
        live.run(ADMIN, {"type": "invite_sites", "codes": [AN_HAI]})
        assert AN_HAI in live.s.floor.muted

    def test_unknown_site(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "invite_sites", "codes": [AN_HAI, "P-KHONG-CO"]}, ErrorCode.UNKNOWN_SITE,
                     "'P-KHONG-CO'")

    def test_unknown_group(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "invite_sites", "group": "Huyện Hoàng Sa"}, ErrorCode.UNKNOWN_SITE,
                     "Huyện Hoàng Sa")

    def test_a_directory_is_needed(self, draft: Harness) -> None:
        cmd = parse_command({"type": "invite_sites", "key": "no-directory", "codes": [AN_HAI]})
        with pytest.raises(Exception) as info:
            decide(draft.state, cmd, ADMIN, now=draft.now)
        assert getattr(info.value, "code", None) is ErrorCode.UNKNOWN_SITE

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, site(AN_HAI), SYSTEM], ids=str)
    def test_only_an_admin_may_invite(self, draft: Harness, actor: Actor) -> None:
        draft.refuse(actor, {"type": "invite_sites", "codes": [AN_HAI]}, ErrorCode.FORBIDDEN)

    def test_not_after_the_end(self, ended: Harness) -> None:
        ended.refuse(ADMIN, {"type": "invite_sites", "codes": [AN_HAI]}, ErrorCode.WRONG_PHASE, "ended")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"codes": []}, "codes/group: give either"),
        ({"codes": [AN_HAI], "group": "remote"}, "codes/group: give either"),
        ({"codes": ["an-hai"]}, "codes[0]: 'an-hai' is not a site code"),
        ({"codes": [AN_HAI, AN_HAI]}, "codes: duplicates are not allowed"),
        ({"group": 7}, "group: expected a string, got integer"),
    ])
    def test_bad_input(self, draft: Harness, fields: dict[str, object], message: str) -> None:
        err = draft.refuse(ADMIN, {"type": "invite_sites", **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestUninviteSites:
    def test_admin_uninvites(self, rehearsal: Harness) -> None:
        h = rehearsal
        h.run(site(HOA_BAC), {"type": "check_in", "site": HOA_BAC, "headcount": 20})
        events = h.run(ADMIN, {"type": "uninvite_sites", "codes": [HOA_BAC, HOA_NINH]}, key="u1")
        assert list(events) == [SitesUninvited(codes=(HOA_BAC, HOA_NINH), **h.meta(ADMIN, "u1"))]
        assert h.s.remote_sites() == [HAI_CHAU, THANH_KHE]
        assert HOA_BAC not in h.s.attendance and HOA_BAC not in h.s.floor.muted

    def test_an_uninvited_site_may_be_invited_again_fresh(self, draft: Harness) -> None:
        draft.run(ADMIN, {"type": "uninvite_sites", "codes": [HOA_BAC]})
        draft.run(ADMIN, {"type": "invite_sites", "codes": [HOA_BAC]})
        assert draft.s.attendance[HOA_BAC] == Attendance() and HOA_BAC in draft.s.floor.muted

    def test_not_the_main_bridge(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "uninvite_sites", "codes": [HAI_CHAU, MAIN]}, ErrorCode.MAIN_BRIDGE,
                     "main bridge")

    def test_not_a_site_that_is_not_invited(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "uninvite_sites", "codes": [HAI_CHAU, AN_HAI]}, ErrorCode.SITE_NOT_INVITED,
                     AN_HAI)

    @pytest.mark.parametrize("phase", ["live", "ended", "cancelled"])
    def test_not_once_the_conference_runs(self, phase: str) -> None:
        build(phase).refuse(ADMIN, {"type": "uninvite_sites", "codes": [HOA_BAC]}, ErrorCode.WRONG_PHASE, phase)

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, site(HOA_BAC), SYSTEM], ids=str)
    def test_only_an_admin(self, draft: Harness, actor: Actor) -> None:
        draft.refuse(actor, {"type": "uninvite_sites", "codes": [HOA_BAC]}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"codes": []}, "codes: at least one is needed"),
        ({}, "codes: missing"),
        ({"codes": HOA_BAC}, "codes: expected an array"),
    ])
    def test_bad_input(self, draft: Harness, fields: dict[str, object], message: str) -> None:
        err = draft.refuse(ADMIN, {"type": "uninvite_sites", **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestScheduleConference:
    def test_admin_schedules(self, draft: Harness) -> None:
        events = draft.run(ADMIN, {"type": "schedule_conference"}, key="s1")
        assert list(events) == [PhaseChanged(phase=Phase.SCHEDULED, **draft.meta(ADMIN, "s1"))]
        assert draft.s.phase is Phase.SCHEDULED

    def test_at_least_one_remote_site(self) -> None:
        h = Harness()
        h.run(ADMIN, create_cmd())
        h.refuse(ADMIN, {"type": "schedule_conference"}, ErrorCode.SITE_NOT_INVITED, "at least one remote site")

    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal", "live", "ended", "cancelled"])
    def test_only_from_draft(self, phase: str) -> None:
        build(phase).refuse(ADMIN, {"type": "schedule_conference"}, ErrorCode.WRONG_PHASE, "draft")

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, site(HAI_CHAU), SYSTEM], ids=str)
    def test_only_an_admin(self, draft: Harness, actor: Actor) -> None:
        draft.refuse(actor, {"type": "schedule_conference"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "schedule_conference", "phase": "live"}, ErrorCode.INVALID_COMMAND,
                     "phase: unknown field")


class TestStartRehearsal:
    @pytest.mark.parametrize("actor", [CHAIR, ADMIN], ids=str)
    def test_chair_or_admin_starts_the_rehearsal(self, scheduled: Harness, actor: Actor) -> None:
        events = scheduled.run(actor, {"type": "start_rehearsal"}, key="r1")
        assert list(events) == [PhaseChanged(phase=Phase.REHEARSAL, **scheduled.meta(actor, "r1"))]
        assert scheduled.s.phase is Phase.REHEARSAL and scheduled.s.opened_at is None

    @pytest.mark.parametrize("phase", ["draft", "rehearsal", "live", "ended", "cancelled"])
    def test_only_from_scheduled(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "start_rehearsal"}, ErrorCode.WRONG_PHASE, "scheduled")

    @pytest.mark.parametrize("actor", [SECRETARY, OBSERVER, site(HAI_CHAU), SYSTEM], ids=str)
    def test_nobody_else(self, scheduled: Harness, actor: Actor) -> None:
        scheduled.refuse(actor, {"type": "start_rehearsal"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, scheduled: Harness) -> None:
        scheduled.refuse(CHAIR, {"type": "start_rehearsal", "key": "k 1"}, ErrorCode.INVALID_COMMAND, "key:")


class TestOpenConference:
    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal"])
    def test_chair_opens(self, phase: str) -> None:
        h = build(phase)
        h.now = datetime(2025, 10, 3, 8, 1, tzinfo=VN)
        events = h.run(CHAIR, {"type": "open_conference"}, key="mo")
        assert list(events) == [PhaseChanged(phase=Phase.LIVE, **h.meta(CHAIR, "mo"))]
        assert (h.s.phase, h.s.opened_at) == (Phase.LIVE, h.now)

    @pytest.mark.parametrize("phase", ["draft", "live", "ended", "cancelled"])
    def test_wrong_phase(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "open_conference"}, ErrorCode.WRONG_PHASE, phase)

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, site(MAIN), SYSTEM], ids=str)
    def test_only_the_chair(self, rehearsal: Harness, actor: Actor) -> None:
        rehearsal.refuse(actor, {"type": "open_conference"}, ErrorCode.FORBIDDEN, "chair")

    def test_bad_input(self, rehearsal: Harness) -> None:
        rehearsal.refuse(CHAIR, {"type": "open_conference", "at": "2025-10-03T08:00:00+07:00"},
                         ErrorCode.INVALID_COMMAND, "at: unknown field")


class TestEndConference:
    def test_chair_ends_and_everything_stops(self) -> None:
        h = build("live", max_speakers=2)
        h.run(CHAIR, {"type": "start_item", "item_id": "i2"})
        h.give(HAI_CHAU)
        h.give(THANH_KHE)
        h.request(HOA_BAC)
        h.request(HOA_NINH)
        h.tick(600)
        events = h.run(CHAIR, {"type": "end_conference"}, key="het")
        m = h.meta(CHAIR, "het")
        assert list(events) == [
            FloorEnded(site=HAI_CHAU, reason="ended", **m),
            SiteMuted(site=HAI_CHAU, **m),
            FloorEnded(site=THANH_KHE, reason="ended", **m),
            SiteMuted(site=THANH_KHE, **m),
            FloorRequestWithdrawn(site=HOA_BAC, **m),
            FloorRequestWithdrawn(site=HOA_NINH, **m),
            ItemFinished(item_id="i2", **m),
            PhaseChanged(phase=Phase.ENDED, **m),
        ]
        s = h.s
        assert (s.phase, s.ended_at) == (Phase.ENDED, h.now)
        assert s.floor.speakers == {} and s.floor.queue == []
        assert {HAI_CHAU, THANH_KHE} <= s.floor.muted, "microphones close when the conference ends"
        assert s.item("i2").status is ItemStatus.DONE  # type: ignore[union-attr]
        assert [(t.site, t.ended) for t in s.floor.turns] == [(HAI_CHAU, h.now), (THANH_KHE, h.now)]

    def test_a_quiet_conference_ends_with_one_event(self, live: Harness) -> None:
        assert types(live.run(CHAIR, {"type": "end_conference"})) == ["phase_changed"]

    @pytest.mark.parametrize("phase", ["draft", "scheduled", "rehearsal", "ended", "cancelled"])
    def test_only_when_live(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "end_conference"}, ErrorCode.WRONG_PHASE, "live")

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, site(MAIN), SYSTEM], ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "end_conference"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "end_conference", "reason": 1}, ErrorCode.INVALID_COMMAND, "reason: unknown")


class TestCancelConference:
    @pytest.mark.parametrize("phase", ["draft", "scheduled", "rehearsal"])
    def test_admin_cancels_before_it_runs(self, phase: str) -> None:
        h = build(phase)
        events = h.run(ADMIN, {"type": "cancel_conference", "reason": "Hoãn do bão số 10"}, key="huy")
        assert list(events) == [PhaseChanged(phase=Phase.CANCELLED, reason="Hoãn do bão số 10",
                                             **h.meta(ADMIN, "huy"))]
        assert h.s.phase is Phase.CANCELLED

    def test_a_cancelled_conference_takes_no_more_connections(self, cancelled: Harness) -> None:
        assert cancelled.run(SYSTEM, {"type": "set_connection", "site": HAI_CHAU, "connection": "online"}) == ()

    @pytest.mark.parametrize("phase", ["live", "ended", "cancelled"])
    def test_not_once_opened(self, phase: str) -> None:
        build(phase).refuse(ADMIN, {"type": "cancel_conference"}, ErrorCode.WRONG_PHASE, phase)

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, site(HAI_CHAU), SYSTEM], ids=str)
    def test_only_an_admin(self, draft: Harness, actor: Actor) -> None:
        draft.refuse(actor, {"type": "cancel_conference"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, draft: Harness) -> None:
        draft.refuse(ADMIN, {"type": "cancel_conference", "reason": "x" * 1001}, ErrorCode.INVALID_COMMAND,
                     "reason: at most 1000 characters")


def test_the_whole_life_of_a_conference() -> None:
    h = build("draft")
    h.run(ADMIN, {"type": "schedule_conference"})
    h.run(CHAIR, {"type": "start_rehearsal"})
    h.now += timedelta(hours=1)
    h.run(CHAIR, {"type": "open_conference"})
    h.run(CHAIR, {"type": "end_conference"})
    phases = [ev.phase for ev in h.log if isinstance(ev, PhaseChanged)]  # type: ignore[attr-defined]
    assert phases == [Phase.SCHEDULED, Phase.REHEARSAL, Phase.LIVE, Phase.ENDED]


class TestEditableFields:
    """One list of a conference's editable fields: the command, its event and the page's
    reducer carry the same."""

    def test_the_command_and_its_event_carry_exactly_the_editable_fields(self) -> None:
        def optional(cls: type) -> set[str]:
            return {f.name for f in dataclasses.fields(cls)} - {"key", "at", "actor", "conference_id"}

        assert optional(EditConference) == set(EDITABLE_FIELDS)
        assert optional(ConferenceEdited) == set(EDITABLE_FIELDS)
        assert set(CREATED_FIELDS) <= {f.name for f in dataclasses.fields(ConferenceState)}

    def test_the_page_s_reducer_edits_the_same_fields(self) -> None:
        js = (Path(__file__).resolve().parents[2] / "client_web" / "static" / "js" / "reducer.js").read_text()
        listed = re.search(r"export const EDITABLE_FIELDS = \[([^\]]*)\]", js)
        assert listed is not None, "reducer.js must export EDITABLE_FIELDS"
        assert tuple(re.findall(r'"(\w+)"', listed.group(1))) == EDITABLE_FIELDS
