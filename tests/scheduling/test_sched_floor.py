"""Floor control: the queue, grant/give/revoke/release/expire, the number of simultaneous
speakers, and microphones (mute, unmute, mute all)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
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
    ErrorCode,
    FloorEnded,
    FloorGranted,
    FloorRequest,
    FloorRequested,
    FloorRequestWithdrawn,
    SiteMuted,
    SiteUnmuted,
    Speaker,
    Turn,
    may_take_floor,
    speaking_seconds,
)

NOT_CHAIR = [ADMIN, SECRETARY, OBSERVER, STRANGER, site(HAI_CHAU), SYSTEM]


def queue(h: Harness) -> list[str]:
    return [r.site for r in h.s.floor.queue]


class TestRequestFloor:
    def test_a_site_asks_for_the_floor_on_an_item(self, live: Harness) -> None:
        events = live.run(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU, "item_id": "i2",
                                           "topic": "Tiến độ giải phóng mặt bằng"}, key="xin")
        assert list(events) == [FloorRequested(site=HAI_CHAU, item_id="i2", topic="Tiến độ giải phóng mặt bằng",
                                               **live.meta(site(HAI_CHAU), "xin"))]
        assert live.s.floor.queue == [FloorRequest(site=HAI_CHAU, at=live.now, item_id="i2",
                                                   topic="Tiến độ giải phóng mặt bằng")]

    def test_the_queue_keeps_the_order_of_asking(self, live: Harness) -> None:
        for code in (HOA_BAC, HAI_CHAU, THANH_KHE):
            live.request(code)
            live.tick(5)
        assert queue(live) == [HOA_BAC, HAI_CHAU, THANH_KHE]

    def test_not_twice(self, live: Harness) -> None:
        live.request(HAI_CHAU)
        live.refuse(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, ErrorCode.ALREADY_QUEUED, HAI_CHAU)

    def test_not_while_speaking(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.refuse(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, ErrorCode.ALREADY_SPEAKING)

    def test_not_the_main_bridge(self, live: Harness) -> None:
        live.refuse(site(MAIN), {"type": "request_floor", "site": MAIN}, ErrorCode.MAIN_BRIDGE)

    def test_unknown_item(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU, "item_id": "i9"},
                    ErrorCode.UNKNOWN_ITEM, "'i9'")

    @pytest.mark.parametrize("phase", ["scheduled", "rehearsal", "ended"])
    def test_only_live(self, phase: str) -> None:
        build(phase).refuse(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, ErrorCode.WRONG_PHASE)

    def test_only_for_itself(self, live: Harness) -> None:
        live.refuse(site(THANH_KHE), {"type": "request_floor", "site": HAI_CHAU}, ErrorCode.NOT_OWN_SITE)
        live.refuse(site(AN_HAI), {"type": "request_floor", "site": AN_HAI}, ErrorCode.SITE_NOT_INVITED)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_nobody_asks_on_a_sites_behalf(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "request_floor", "site": HAI_CHAU}, ErrorCode.FORBIDDEN, "site itself")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"topic": "x" * 301}, "topic: at most 300 characters"),
        ({"item_id": 2}, "item_id: expected a string, got integer"),
        ({"site": ""}, "site: '' is not a site code"),
    ])
    def test_bad_input(self, live: Harness, fields: dict[str, Any], message: str) -> None:
        err = live.refuse(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU, **fields},
                          ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestWithdrawFloorRequest:
    @pytest.mark.parametrize("actor", [site(HAI_CHAU), CHAIR], ids=str)
    def test_the_site_or_the_chair_withdraws(self, live: Harness, actor: Actor) -> None:
        live.request(THANH_KHE)
        live.request(HAI_CHAU)
        events = live.run(actor, {"type": "withdraw_floor_request", "site": HAI_CHAU}, key="rut")
        assert list(events) == [FloorRequestWithdrawn(site=HAI_CHAU, **live.meta(actor, "rut"))]
        assert queue(live) == [THANH_KHE]

    def test_not_queued(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "withdraw_floor_request", "site": HAI_CHAU}, ErrorCode.NOT_QUEUED)

    def test_not_for_another_site(self, live: Harness) -> None:
        live.request(HAI_CHAU)
        live.refuse(site(THANH_KHE), {"type": "withdraw_floor_request", "site": HAI_CHAU}, ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_nobody_else(self, live: Harness, actor: Actor) -> None:
        live.request(HAI_CHAU)
        live.refuse(actor, {"type": "withdraw_floor_request", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "withdraw_floor_request"}, ErrorCode.INVALID_COMMAND, "site: missing")


class TestGrantFloor:
    def test_the_chair_grants_the_floor_to_a_waiting_site(self, live: Harness) -> None:
        h = live
        h.run(CHAIR, {"type": "start_item", "item_id": "i2"})
        h.request(HAI_CHAU, "Giải ngân vốn đầu tư công")
        h.request(THANH_KHE)
        h.tick(20)
        events = h.run(CHAIR, {"type": "grant_floor", "site": HAI_CHAU, "limit_seconds": 300}, key="cho")
        m = h.meta(CHAIR, "cho")
        assert list(events) == [
            FloorGranted(site=HAI_CHAU, limit_seconds=300, topic="Giải ngân vốn đầu tư công", **m),
            SiteUnmuted(site=HAI_CHAU, **m),
        ]
        assert h.s.floor.speakers == {HAI_CHAU: Speaker(site=HAI_CHAU, since=h.now, until=h.now + timedelta(seconds=300),
                                                        item_id="i2", topic="Giải ngân vốn đầu tư công")}
        assert queue(h) == [THANH_KHE]
        assert HAI_CHAU not in h.s.floor.muted

    def test_a_full_floor_passes_from_the_longest_speaker(self, live: Harness) -> None:
        h = live
        h.request(HAI_CHAU)
        h.run(CHAIR, {"type": "grant_floor", "site": HAI_CHAU})
        started = h.now
        h.request(THANH_KHE)
        h.tick(90)
        events = h.run(CHAIR, {"type": "grant_floor", "site": THANH_KHE}, key="thay")
        m = h.meta(CHAIR, "thay")
        assert list(events) == [
            FloorEnded(site=HAI_CHAU, reason="replaced", **m), SiteMuted(site=HAI_CHAU, **m),
            FloorGranted(site=THANH_KHE, **m), SiteUnmuted(site=THANH_KHE, **m),
        ]
        assert list(h.s.floor.speakers) == [THANH_KHE]
        assert h.s.floor.turns == [Turn(site=HAI_CHAU, item_id=None, started=started, ended=h.now)]
        assert speaking_seconds(h.s, h.now) == {HAI_CHAU: 90.0, THANH_KHE: 0.0}

    def test_without_replace_a_full_floor_refuses(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.request(THANH_KHE)
        live.refuse(CHAIR, {"type": "grant_floor", "site": THANH_KHE, "replace": False}, ErrorCode.FLOOR_FULL,
                    "1 of 1")

    def test_several_speakers_when_allowed(self) -> None:
        h = build("live", max_speakers=2)
        for code in (HAI_CHAU, THANH_KHE, HOA_BAC):
            h.request(code)
        h.run(CHAIR, {"type": "grant_floor", "site": HAI_CHAU})
        h.tick(10)
        h.run(CHAIR, {"type": "grant_floor", "site": THANH_KHE, "replace": False})
        assert set(h.s.floor.speakers) == {HAI_CHAU, THANH_KHE}
        assert not may_take_floor(h.s, HOA_BAC) and may_take_floor(h.s, HAI_CHAU)
        h.tick(10)
        events = h.run(CHAIR, {"type": "grant_floor", "site": HOA_BAC})
        assert [(type(e).__name__, e.site) for e in events] == [  # type: ignore[attr-defined]
            ("FloorEnded", HAI_CHAU), ("SiteMuted", HAI_CHAU), ("FloorGranted", HOA_BAC), ("SiteUnmuted", HOA_BAC)]
        assert set(h.s.floor.speakers) == {THANH_KHE, HOA_BAC}

    def test_only_a_waiting_site(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "grant_floor", "site": HAI_CHAU}, ErrorCode.NOT_QUEUED, HAI_CHAU)

    def test_only_live(self, rehearsal: Harness) -> None:
        rehearsal.refuse(CHAIR, {"type": "grant_floor", "site": HAI_CHAU}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.request(HAI_CHAU)
        live.refuse(actor, {"type": "grant_floor", "site": HAI_CHAU}, ErrorCode.FORBIDDEN, "chair")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"limit_seconds": 9}, "limit_seconds: must be between 10 and 14400, got 9"),
        ({"limit_seconds": 14401}, "limit_seconds: must be between 10 and 14400"),
        ({"limit_seconds": "300"}, "limit_seconds: expected an integer, got string"),
        ({"replace": 1}, "replace: expected a boolean, got integer"),
    ])
    def test_bad_input(self, live: Harness, fields: dict[str, Any], message: str) -> None:
        live.request(HAI_CHAU)
        err = live.refuse(CHAIR, {"type": "grant_floor", "site": HAI_CHAU, **fields}, ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestGiveFloor:
    def test_the_chair_gives_the_floor_to_a_site_that_did_not_ask(self, live: Harness) -> None:
        events = live.run(CHAIR, {"type": "give_floor", "site": HOA_NINH}, key="moi-phat-bieu")
        m = live.meta(CHAIR, "moi-phat-bieu")
        assert list(events) == [FloorGranted(site=HOA_NINH, **m), SiteUnmuted(site=HOA_NINH, **m)]
        assert list(live.s.floor.speakers) == [HOA_NINH]

    def test_a_waiting_site_leaves_the_queue(self, live: Harness) -> None:
        live.request(HAI_CHAU, "Đề xuất")
        events = live.run(CHAIR, {"type": "give_floor", "site": HAI_CHAU})
        assert events[0].topic == "Đề xuất"  # type: ignore[attr-defined]
        assert queue(live) == []

    def test_a_site_unmuted_before_gets_no_second_unmute(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "unmute_site", "site": HAI_CHAU})
        assert [type(e).__name__ for e in live.run(CHAIR, {"type": "give_floor", "site": HAI_CHAU})] == ["FloorGranted"]

    def test_not_to_a_speaker(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.refuse(CHAIR, {"type": "give_floor", "site": HAI_CHAU}, ErrorCode.ALREADY_SPEAKING)

    def test_not_to_the_main_bridge(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "give_floor", "site": MAIN}, ErrorCode.MAIN_BRIDGE)

    def test_not_to_an_uninvited_site(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "give_floor", "site": AN_HAI}, ErrorCode.SITE_NOT_INVITED, AN_HAI)

    def test_only_live(self, ended: Harness) -> None:
        ended.refuse(CHAIR, {"type": "give_floor", "site": HAI_CHAU}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "give_floor", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "give_floor", "site": HAI_CHAU, "limit_seconds": 60.0}, ErrorCode.INVALID_COMMAND,
                    "limit_seconds: expected an integer, got number")


class TestRevokeFloor:
    def test_the_chair_takes_the_floor_back(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        since = live.now
        live.tick(75)
        events = live.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU}, key="thu")
        m = live.meta(CHAIR, "thu")
        assert list(events) == [FloorEnded(site=HAI_CHAU, reason="revoked", **m), SiteMuted(site=HAI_CHAU, **m)]
        assert live.s.floor.speakers == {} and HAI_CHAU in live.s.floor.muted
        assert live.s.floor.turns == [Turn(site=HAI_CHAU, item_id=None, started=since, ended=live.now)]

    def test_a_speaker_muted_meanwhile_is_not_muted_twice(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.run(CHAIR, {"type": "mute_site", "site": HAI_CHAU})
        assert [type(e).__name__ for e in live.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU})] == ["FloorEnded"]

    def test_not_a_site_without_the_floor(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU}, ErrorCode.NOT_SPEAKING, HAI_CHAU)

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.give(HAI_CHAU)
        live.refuse(actor, {"type": "revoke_floor", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "revoke_floor", "site": [HAI_CHAU]}, ErrorCode.INVALID_COMMAND,
                    "site: expected a string, got array")


class TestReleaseFloor:
    @pytest.mark.parametrize("actor", [site(HAI_CHAU), CHAIR], ids=str)
    def test_the_speaker_hands_the_floor_back(self, live: Harness, actor: Actor) -> None:
        live.give(HAI_CHAU)
        live.tick(30)
        events = live.run(actor, {"type": "release_floor", "site": HAI_CHAU}, key="xong")
        m = live.meta(actor, "xong")
        assert list(events) == [FloorEnded(site=HAI_CHAU, reason="released", **m), SiteMuted(site=HAI_CHAU, **m)]
        assert speaking_seconds(live.s, live.now) == {HAI_CHAU: 30.0}

    def test_not_without_the_floor(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "release_floor", "site": HAI_CHAU}, ErrorCode.NOT_SPEAKING)

    def test_not_for_another_site(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.refuse(site(THANH_KHE), {"type": "release_floor", "site": HAI_CHAU}, ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_nobody_else(self, live: Harness, actor: Actor) -> None:
        live.give(HAI_CHAU)
        live.refuse(actor, {"type": "release_floor", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "release_floor", "site": "hai chau"}, ErrorCode.INVALID_COMMAND, "site:")


class TestExpireFloor:
    def test_the_server_ends_a_turn_whose_time_ran_out(self, live: Harness) -> None:
        live.give(HAI_CHAU, limit=120)
        live.tick(120)
        events = live.run(SYSTEM, {"type": "expire_floor", "site": HAI_CHAU}, key="het-gio")
        m = live.meta(SYSTEM, "het-gio")
        assert list(events) == [FloorEnded(site=HAI_CHAU, reason="expired", **m), SiteMuted(site=HAI_CHAU, **m)]
        assert live.s.floor.speakers == {}

    def test_not_before_the_limit(self, live: Harness) -> None:
        live.give(HAI_CHAU, limit=120)
        live.tick(119)
        live.refuse(SYSTEM, {"type": "expire_floor", "site": HAI_CHAU}, ErrorCode.NOT_EXPIRED, HAI_CHAU)

    def test_not_a_turn_without_a_limit(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.tick(7200)
        live.refuse(SYSTEM, {"type": "expire_floor", "site": HAI_CHAU}, ErrorCode.NOT_EXPIRED)

    def test_not_a_site_without_the_floor(self, live: Harness) -> None:
        live.refuse(SYSTEM, {"type": "expire_floor", "site": HAI_CHAU}, ErrorCode.NOT_EXPIRED)

    @pytest.mark.parametrize("actor", [ADMIN, CHAIR, SECRETARY, site(HAI_CHAU), STRANGER], ids=str)
    def test_only_the_server(self, live: Harness, actor: Actor) -> None:
        live.give(HAI_CHAU, limit=10)
        live.tick(11)
        live.refuse(actor, {"type": "expire_floor", "site": HAI_CHAU}, ErrorCode.FORBIDDEN, "system")

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(SYSTEM, {"type": "expire_floor", "site": HAI_CHAU, "limit_seconds": 10}, ErrorCode.INVALID_COMMAND,
                    "limit_seconds: unknown field")


class TestMuteSite:
    def test_the_chair_mutes_a_speaker(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        events = live.run(CHAIR, {"type": "mute_site", "site": HAI_CHAU}, key="tat")
        assert list(events) == [SiteMuted(site=HAI_CHAU, **live.meta(CHAIR, "tat"))]
        assert HAI_CHAU in live.s.floor.muted and HAI_CHAU in live.s.floor.speakers

    def test_a_site_mutes_itself_and_the_main_bridge_may_be_muted(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.run(site(HAI_CHAU), {"type": "mute_site", "site": HAI_CHAU})
        live.run(CHAIR, {"type": "mute_site", "site": MAIN})
        assert {HAI_CHAU, MAIN} <= live.s.floor.muted

    def test_muting_a_muted_site_yields_nothing(self, live: Harness) -> None:
        assert live.run(CHAIR, {"type": "mute_site", "site": THANH_KHE}) == ()

    def test_in_rehearsal_too(self, rehearsal: Harness) -> None:
        assert rehearsal.run(CHAIR, {"type": "mute_site", "site": MAIN}) != ()

    @pytest.mark.parametrize("phase", ["scheduled", "ended"])
    def test_only_while_running(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "mute_site", "site": MAIN}, ErrorCode.WRONG_PHASE)

    def test_not_an_uninvited_site(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "mute_site", "site": AN_HAI}, ErrorCode.SITE_NOT_INVITED)

    def test_not_another_site(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.refuse(site(THANH_KHE), {"type": "mute_site", "site": HAI_CHAU}, ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_nobody_else(self, live: Harness, actor: Actor) -> None:
        live.give(HAI_CHAU)
        live.refuse(actor, {"type": "mute_site", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "mute_site", "site": None}, ErrorCode.INVALID_COMMAND,
                    "site: expected a string, got null")


class TestUnmuteSite:
    def test_the_chair_opens_any_microphone(self, live: Harness) -> None:
        events = live.run(CHAIR, {"type": "unmute_site", "site": THANH_KHE}, key="mo")
        assert list(events) == [SiteUnmuted(site=THANH_KHE, **live.meta(CHAIR, "mo"))]
        assert THANH_KHE not in live.s.floor.muted

    def test_a_speaker_reopens_its_own_microphone(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.run(site(HAI_CHAU), {"type": "mute_site", "site": HAI_CHAU})
        live.run(site(HAI_CHAU), {"type": "unmute_site", "site": HAI_CHAU})
        assert HAI_CHAU not in live.s.floor.muted

    def test_the_main_bridge_reopens_its_own_microphone(self, live: Harness) -> None:
        live.run(CHAIR, {"type": "mute_site", "site": MAIN})
        live.run(site(MAIN), {"type": "unmute_site", "site": MAIN})
        assert MAIN not in live.s.floor.muted

    def test_a_site_without_the_floor_stays_muted(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "unmute_site", "site": HAI_CHAU}, ErrorCode.MUTED, "floor")

    def test_an_open_microphone_yields_nothing(self, live: Harness) -> None:
        assert live.run(CHAIR, {"type": "unmute_site", "site": MAIN}) == ()

    @pytest.mark.parametrize("phase", ["draft", "ended", "cancelled"])
    def test_only_while_running(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "unmute_site", "site": HAI_CHAU}, ErrorCode.WRONG_PHASE)

    def test_not_an_uninvited_site(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "unmute_site", "site": AN_HAI}, ErrorCode.SITE_NOT_INVITED)

    def test_not_another_site(self, live: Harness) -> None:
        live.refuse(site(THANH_KHE), {"type": "unmute_site", "site": HAI_CHAU}, ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize("actor", [ADMIN, SECRETARY, OBSERVER, SYSTEM], ids=str)
    def test_nobody_else(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "unmute_site", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "unmute_site"}, ErrorCode.INVALID_COMMAND, "site: missing")


class TestMuteAll:
    def test_the_chair_mutes_every_open_remote_microphone(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        live.run(CHAIR, {"type": "unmute_site", "site": HOA_BAC})
        events = live.run(CHAIR, {"type": "mute_all"}, key="tat-het")
        m = live.meta(CHAIR, "tat-het")
        assert list(events) == [SiteMuted(site=HAI_CHAU, **m), SiteMuted(site=HOA_BAC, **m)]
        assert MAIN not in live.s.floor.muted, "the main bridge keeps its microphone"
        assert HAI_CHAU in live.s.floor.speakers, "muting does not take the floor"

    def test_nothing_open_nothing_to_do(self, live: Harness) -> None:
        assert live.run(CHAIR, {"type": "mute_all"}) == ()

    @pytest.mark.parametrize("phase", ["scheduled", "ended"])
    def test_only_while_running(self, phase: str) -> None:
        build(phase).refuse(CHAIR, {"type": "mute_all"}, ErrorCode.WRONG_PHASE)

    @pytest.mark.parametrize("actor", NOT_CHAIR, ids=str)
    def test_only_the_chair(self, live: Harness, actor: Actor) -> None:
        live.refuse(actor, {"type": "mute_all"}, ErrorCode.FORBIDDEN)

    def test_bad_input(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "mute_all", "except": [HAI_CHAU]}, ErrorCode.INVALID_COMMAND,
                    "except: unknown field")
