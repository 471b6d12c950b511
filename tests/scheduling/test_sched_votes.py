"""Quick votes: only the chair opens and closes; per site one vote each, per delegate counts
within the hall's reported headcount; nothing counted after the deadline or twice. Properties:
a total never exceeds the sites or the delegates present; nothing counted after the deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduling_builders import (
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    INVITED,
    PROPERTY_SETTINGS,
    SECRETARY,
    SYSTEM,
    THANH_KHE,
    Harness,
    build,
    site,
)
from ward_builders import TAI_CHINH, open_vote, with_departments

from scheduling import DEFAULT_OPTIONS, DomainError, ErrorCode, VoteMode, event_to_dict, replay
from scheduling.visibility import redact_for_site


def _cast(h: Harness, code: str, **how: object) -> None:
    h.run(site(code), {"type": "cast_vote", "vote_id": "v1", "site": code, **how})


class TestOpenVote:
    def test_default_options_per_site_open(self) -> None:
        h = build("live")
        open_vote(h)
        vote = h.s.votes["v1"]
        assert (vote.options, vote.mode, vote.secret) == (DEFAULT_OPTIONS, VoteMode.PER_SITE, False)
        assert DEFAULT_OPTIONS == ("Tán thành", "Không tán thành", "Không có ý kiến")

    def test_only_the_chair(self) -> None:
        h = build("live")
        h.refuse(SECRETARY, {"type": "open_vote", "vote_id": "v1", "question": "Q",
                             "deadline": (h.now + timedelta(minutes=1)).isoformat()}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("change", "code"), [
        ({"deadline": "2025-10-03T07:59:00+07:00"}, ErrorCode.DEADLINE_IN_PAST),
        ({"options": ["Có"]}, ErrorCode.INVALID_COMMAND),
        ({"options": ["Có", "Có"]}, ErrorCode.INVALID_COMMAND),
        ({"mode": "per_person"}, ErrorCode.INVALID_COMMAND),
        ({"question": ""}, ErrorCode.INVALID_COMMAND),
    ])
    def test_bad_input(self, change: dict[str, object], code: ErrorCode) -> None:
        h = build("live")
        h.refuse(CHAIR, {"type": "open_vote", "vote_id": "v1", "question": "Q",
                         "deadline": (h.now + timedelta(minutes=1)).isoformat(), **change}, code)


class TestCastVote:
    def test_per_site_one_vote_each(self) -> None:
        h = build("live")
        h.online(HAI_CHAU, THANH_KHE)
        open_vote(h)
        _cast(h, HAI_CHAU, option=0)
        _cast(h, THANH_KHE, option=2)
        assert h.s.votes["v1"].tally() == (1, 0, 1)

    def test_per_delegate_within_the_reported_headcount(self) -> None:
        h = build("live")
        h.run(site(HAI_CHAU), {"type": "check_in", "site": HAI_CHAU, "headcount": 40})
        open_vote(h, mode="per_delegate")
        h.refuse(site(HAI_CHAU), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "counts": [30, 10, 1]},
                 ErrorCode.OVER_HEADCOUNT)
        _cast(h, HAI_CHAU, counts=[30, 8, 2])
        assert h.s.votes["v1"].tally() == (30, 8, 2)

    def test_bad_twice_after_the_deadline_or_closed(self) -> None:
        h = build("live")
        h.online(HAI_CHAU, THANH_KHE, HOA_BAC)
        open_vote(h, minutes=1)
        open_vote(h, "v2", minutes=10)
        _cast(h, HAI_CHAU, option=0)
        h.refuse(site(HAI_CHAU), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "option": 1},
                 ErrorCode.ALREADY_VOTED)
        h.tick(61)
        h.refuse(site(THANH_KHE), {"type": "cast_vote", "vote_id": "v1", "site": THANH_KHE, "option": 1},
                 ErrorCode.DEADLINE_PASSED)
        h.run(CHAIR, {"type": "close_vote", "vote_id": "v2"})   # before its deadline
        h.refuse(site(HOA_BAC), {"type": "cast_vote", "vote_id": "v2", "site": HOA_BAC, "option": 1},
                 ErrorCode.VOTE_CLOSED)

    def test_bad_absent_a_department_or_the_wrong_shape(self) -> None:
        h = with_departments(build("live"))
        h.online(TAI_CHINH)
        open_vote(h)
        h.refuse(site(HAI_CHAU), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "option": 0},
                 ErrorCode.NOT_PRESENT)
        h.refuse(site(TAI_CHINH), {"type": "cast_vote", "vote_id": "v1", "site": TAI_CHINH, "option": 0},
                 ErrorCode.NOT_PRESENT)
        h.online(HAI_CHAU)
        h.refuse(site(HAI_CHAU), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "counts": [1, 0, 0]},
                 ErrorCode.INVALID_COMMAND)
        h.refuse(site(HAI_CHAU), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "option": 5},
                 ErrorCode.INVALID_COMMAND)
        h.refuse(site(THANH_KHE), {"type": "cast_vote", "vote_id": "v1", "site": HAI_CHAU, "option": 0},
                 ErrorCode.NOT_OWN_SITE)

    def test_a_site_sees_who_voted_not_what(self) -> None:
        h = build("live")
        h.online(HAI_CHAU)
        open_vote(h, secret=True)
        _cast(h, HAI_CHAU, option=1)
        seen = redact_for_site(event_to_dict(h.log[-1]))
        assert seen["site"] == HAI_CHAU and seen["counts"] == [0, 0, 0]


class TestCloseVote:
    def test_the_tally_is_in_the_event(self) -> None:
        h = build("live")
        h.online(HAI_CHAU)
        open_vote(h)
        _cast(h, HAI_CHAU, option=0)
        (ev,) = h.run(CHAIR, {"type": "close_vote", "vote_id": "v1"})
        assert (ev.tally, ev.voters) == ((1, 0, 0), 1)   # type: ignore[attr-defined]

    def test_the_server_closes_at_the_deadline_and_twice_is_nothing(self) -> None:
        h = build("live")
        open_vote(h)
        h.run(SYSTEM, {"type": "close_vote", "vote_id": "v1"})
        assert h.run(CHAIR, {"type": "close_vote", "vote_id": "v1"}) == ()

    def test_bad_unknown_or_not_the_chair(self) -> None:
        h = build("live")
        h.refuse(CHAIR, {"type": "close_vote", "vote_id": "v9"}, ErrorCode.UNKNOWN_VOTE)
        open_vote(h)
        h.refuse(SECRETARY, {"type": "close_vote", "vote_id": "v1"}, ErrorCode.FORBIDDEN)


# -- properties ------------------------------------------------------------------------------------

STEP = st.tuples(st.sampled_from(["cast", "cast", "cast", "tick", "check_in", "offline", "close"]),
                 st.sampled_from(INVITED), st.integers(0, 3), st.lists(st.integers(0, 60), min_size=3, max_size=3),
                 st.integers(0, 90))


@PROPERTY_SETTINGS
@given(mode=st.sampled_from(["per_site", "per_delegate"]), steps=st.lists(STEP, max_size=40))
def test_totals_within_presence_and_nothing_after_the_deadline(mode: str, steps: list[tuple[str, str, int, list[int], int]]) -> None:
    h = build("live")
    h.online(*INVITED[:2])
    h.run(site(INVITED[0]), {"type": "check_in", "site": INVITED[0], "headcount": 50})
    open_vote(h, mode=mode, minutes=2)
    deadline = h.s.votes["v1"].deadline
    for what, code, option, counts, seconds in steps:
        vote = h.s.votes["v1"]
        if what == "tick":
            h.tick(seconds)
        elif what == "check_in":
            h.run(site(code), {"type": "check_in", "site": code, "headcount": sum(counts)})
        elif what == "offline":
            h.run(SYSTEM, {"type": "set_connection", "site": code, "connection": "offline"})
        elif what == "close":
            h.run(CHAIR, {"type": "close_vote", "vote_id": "v1"})
        else:
            how = {"option": option} if mode == "per_site" else {"counts": counts}
            before = dict(vote.ballots)
            try:
                _cast(h, code, **how)
            except DomainError:
                assert vote.ballots == before
                continue
            assert h.now <= deadline and vote.closed_at is None, "counted after the deadline or the close"
            assert before.get(code) is None, "counted twice"
            att = h.s.attendance[code]
            if mode == "per_delegate":
                assert sum(vote.ballots[code].counts) <= att.headcount
        vote = h.s.votes["v1"]
        assert all(b.at <= deadline for b in vote.ballots.values())
        assert len(vote.ballots) <= len(INVITED)
        if mode == "per_site":
            assert sum(vote.tally()) == len(vote.ballots)
    assert replay(h.log) == h.state
