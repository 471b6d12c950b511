"""decide and evolve themselves: dispatch, purity, idempotency keys, and replay."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    SECRETARY,
    THANH_KHE,
    VN,
    Harness,
    build,
    create_cmd,
    site,
)

from scheduling import (
    DomainError,
    ErrorCode,
    event_from_dict,
    event_to_dict,
    evolve,
    parse_command,
    replay,
)
from scheduling import decide as domain_decide


def test_a_conference_must_exist_first() -> None:
    Harness().refuse(CHAIR, {"type": "open_conference"}, ErrorCode.NO_CONFERENCE, "create it first")


def test_no_event_before_the_conference_is_created(live: Harness) -> None:
    with pytest.raises(ValueError, match="before conference_created"):
        evolve(None, live.log[1])


def test_now_must_be_timezone_aware(live: Harness) -> None:
    cmd = parse_command({"type": "mute_all", "key": "k-naive"})
    with pytest.raises(ValueError, match="timezone-aware"):
        domain_decide(live.state, cmd, CHAIR, now=datetime(2025, 10, 3, 8, 0))


@pytest.mark.parametrize("cmd", [
    {"type": "register_site", "site": {"code": "P1", "name": "Phường 1"}},
    {"type": "create_account", "account_id": "ke_la", "name": "x", "password_hash": "x"},
    {"type": "issue_link", "conference_id": "c", "site": HAI_CHAU, "expires_at": "2025-10-04T00:00:00+07:00"},
], ids=lambda c: c["type"])
def test_commands_of_other_streams_are_not_conference_commands(live: Harness, cmd: dict[str, object]) -> None:
    live.refuse(ADMIN, cmd, ErrorCode.UNKNOWN_COMMAND, str(cmd["type"]), "not a conference command")


def test_decide_never_changes_the_state(live: Harness) -> None:
    live.give(HAI_CHAU)
    live.request(THANH_KHE)
    before = copy.deepcopy(live.state)
    decision = live.decide(CHAIR, {"type": "grant_floor", "site": THANH_KHE})
    assert [ev.TYPE for ev in decision.events] == ["floor_ended", "site_muted", "floor_granted", "site_unmuted"]
    assert live.state == before


class TestIdempotency:
    def test_the_same_key_again_yields_the_same_events_and_no_new_ones(self, live: Harness) -> None:
        first = live.run(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, key="xin-1")
        version = live.s.version
        live.tick(5)
        again = live.decide(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, key="xin-1")
        assert again.replayed and again.events == first
        assert again.seq == version
        assert live.s.version == version

    def test_the_first_outcome_stands_even_after_the_state_moved_on(self, live: Harness) -> None:
        first = live.run(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, key="xin-1")
        live.run(CHAIR, {"type": "grant_floor", "site": HAI_CHAU})
        live.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU})
        again = live.decide(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, key="xin-1")
        assert again.replayed and again.events == first
        assert again.seq == live.s.version - 4   # granted, unmuted, ended, muted came after

    def test_a_command_of_many_events_replays_them_all(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        first = live.run(CHAIR, {"type": "end_conference"}, key="ket-thuc")
        again = live.decide(CHAIR, {"type": "end_conference"}, key="ket-thuc")
        assert len(first) == 3 and again.events == first and again.seq == live.s.version

    def test_keys_belong_to_their_actor(self, live: Harness) -> None:
        live.run(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, key="1")
        decision = live.decide(site(THANH_KHE), {"type": "request_floor", "site": THANH_KHE}, key="1")
        assert not decision.replayed and decision.events[0].site == THANH_KHE  # type: ignore[attr-defined]

    def test_a_refused_command_does_not_use_up_its_key(self, live: Harness) -> None:
        live.refuse(SECRETARY, {"type": "add_note", "note_id": "n1", "item_id": "i9", "text": "x"},
                    ErrorCode.UNKNOWN_ITEM, key="ghi-1")
        live.run(SECRETARY, {"type": "add_note", "note_id": "n1", "item_id": "i1", "text": "x"}, key="ghi-1")
        assert "n1" in live.s.notes

    def test_creating_the_conference_again_with_its_key_is_a_replay(self) -> None:
        h = Harness()
        first = h.run(ADMIN, create_cmd(), key="tao")
        again = h.decide(ADMIN, create_cmd(), key="tao")
        assert again.replayed and again.events == first and again.seq == 1

    def test_a_key_is_remembered_through_the_log_alone(self, live: Harness) -> None:
        first = live.run(site(HAI_CHAU), {"type": "request_floor", "site": HAI_CHAU}, key="xin-1")
        reloaded = replay(event_from_dict(json.loads(json.dumps(event_to_dict(ev)))) for ev in live.log)
        cmd = parse_command({"type": "request_floor", "key": "xin-1", "site": HAI_CHAU})
        again = domain_decide(reloaded, cmd, site(HAI_CHAU), now=live.now)
        assert again.replayed and again.events == first

    def test_a_different_command_under_a_used_key_gets_the_first_outcome(self, live: Harness) -> None:
        """The key identifies the command: the client must not reuse one for another command."""
        first = live.run(CHAIR, {"type": "mute_site", "site": "DN-TTHC"}, key="k-x")
        again = live.decide(CHAIR, {"type": "mute_all"}, key="k-x")
        assert again.replayed and again.events == first


@pytest.mark.xfail(strict=True, reason="by design in the domain: the log keeps only the keys of commands that "
                                       "recorded events; the server's StreamHub remembers no-op keys (tests/server)")
def test_a_retried_command_that_did_nothing_still_does_nothing(live: Harness) -> None:
    assert live.run(CHAIR, {"type": "mute_all"}, key="tat-1") == ()       # all muted already: no event
    live.run(CHAIR, {"type": "unmute_site", "site": HAI_CHAU})
    again = live.decide(CHAIR, {"type": "mute_all"}, key="tat-1")         # the same request, retried
    assert again.events == ()


def test_replaying_the_log_gives_the_same_state() -> None:
    h = build("ended")
    h.now = datetime(2025, 10, 3, 10, 0, tzinfo=VN)
    h.run(CHAIR, {"type": "approve_minutes"})
    assert replay(h.log) == h.state
    assert replay([]) is None


def test_evolve_is_deterministic(live: Harness) -> None:
    a = replay(live.log)
    b = replay(copy.deepcopy(live.log))
    assert a == b == live.state


def test_errors_carry_a_code_and_a_message(live: Harness) -> None:
    with pytest.raises(DomainError) as info:
        live.decide(CHAIR, {"type": "start_item", "item_id": "i9"})
    assert info.value.to_dict() == {"code": "unknown_item", "message": "no agenda item 'i9'"}
    assert str(info.value) == "unknown_item: no agenda item 'i9'"
