"""Recommendations (kiến nghị): submitted by a ward for itself, triaged (merged keeping every
source, assigned to departments, marked for the meeting), answered by an assigned department
only, accepted or kept open by the chair, the wards' feedback, and the carry into the next
conference of the series; plus the property that a merge never loses a source."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
    INVITED,
    PROPERTY_SETTINGS,
    SECRETARY,
    THANH_KHE,
    build,
    site,
    types,
)
from ward_builders import (
    NOI_VU,
    TAI_CHINH,
    answered,
    assign,
    live_with_rec,
    submit,
    with_departments,
)

from scheduling import (
    AnswerMode,
    CarryRecommendations,
    ErrorCode,
    RecStatus,
    carry_items,
    command_to_dict,
    decide_directory,
    evolve_directory,
    open_recommendations,
    parse_command,
    replay,
)

LONG = "x" * 20_001


class TestSubmitRecommendation:
    def test_a_ward_submits_for_itself_before_the_meeting(self) -> None:
        h = with_departments(build("scheduled"))
        submit(h, "r1")
        rec = h.s.recommendations["r1"]
        assert (rec.site, rec.sources, rec.status, rec.item_id) == (HAI_CHAU, (HAI_CHAU,), RecStatus.SUBMITTED, "i2")
        assert "\n\n" in rec.text   # paragraphs kept

    def test_with_an_attachment_the_log_holds_only_its_reference(self) -> None:
        h = build("draft")
        pdf = {"name": "to-trinh.pdf", "size": 52_000, "content_type": "application/pdf", "sha256": "0f" * 32}
        h.run(site(HAI_CHAU), {"type": "submit_recommendation", "rec_id": "r1", "site": HAI_CHAU, "title": "T",
                               "text": "Nội dung", "field": "Khác", "attachments": [pdf]})
        assert h.s.recommendations["r1"].attachments[0].sha256 == "0f" * 32

    def test_a_ward_never_submits_for_another(self) -> None:
        h = build("live")
        h.refuse(site(THANH_KHE), {"type": "submit_recommendation", "rec_id": "r1", "site": HAI_CHAU, "title": "T",
                                   "text": "N", "field": "Khác"}, ErrorCode.NOT_OWN_SITE)

    @pytest.mark.parametrize(("change", "code"), [
        ({"text": LONG}, ErrorCode.INVALID_COMMAND),
        ({"title": ""}, ErrorCode.INVALID_COMMAND),
        ({"field": "Thiên văn"}, ErrorCode.UNKNOWN_FIELD),
        ({"item_id": "i9"}, ErrorCode.UNKNOWN_ITEM),
        ({"attachments": [{"name": "a.html", "size": 10, "content_type": "text/html", "sha256": "00" * 32}]},
         ErrorCode.INVALID_COMMAND),
    ])
    def test_bad_input_is_refused_and_nothing_stored(self, change: dict[str, object], code: ErrorCode) -> None:
        h = build("live")
        cmd = {"type": "submit_recommendation", "rec_id": "r1", "site": HAI_CHAU, "title": "T", "text": "N",
               "field": "Khác", **change}
        h.refuse(site(HAI_CHAU), cmd, code)

    def test_bad_twice_the_same_id(self) -> None:
        h = live_with_rec(assigned=False)
        h.refuse(site(THANH_KHE), {"type": "submit_recommendation", "rec_id": "r1", "site": THANH_KHE, "title": "T",
                                   "text": "N", "field": "Khác"}, ErrorCode.RECOMMENDATION_EXISTS)

    def test_bad_after_the_meeting(self) -> None:
        h = build("ended")
        h.refuse(site(HAI_CHAU), {"type": "submit_recommendation", "rec_id": "r1", "site": HAI_CHAU, "title": "T",
                                  "text": "N", "field": "Khác"}, ErrorCode.WRONG_PHASE)

    def test_a_retry_with_its_key_yields_the_same_events(self) -> None:
        h = build("live")
        cmd = {"type": "submit_recommendation", "rec_id": "r1", "site": HAI_CHAU, "title": "T", "text": "N",
               "field": "Khác"}
        first = h.run(site(HAI_CHAU), cmd, key="once")
        again = h.decide(site(HAI_CHAU), cmd, key="once")
        assert again.replayed and again.events == first


class TestMergeRecommendations:
    def test_ten_wards_one_obstacle_one_recommendation_with_every_source(self) -> None:
        h = live_with_rec(assigned=False)
        for i, code in enumerate((THANH_KHE, HOA_BAC, HOA_NINH), start=2):
            submit(h, f"r{i}", code)
        h.run(SECRETARY, {"type": "merge_recommendations", "into": "r1", "others": ["r2", "r3", "r4"]})
        r1 = h.s.recommendations["r1"]
        assert r1.sources == (HAI_CHAU, THANH_KHE, HOA_BAC, HOA_NINH)
        assert r1.merged_from == ("r2", "r3", "r4")
        assert {h.s.recommendations[r].status for r in ("r2", "r3", "r4")} == {RecStatus.MERGED}
        assert [r.rec_id for r in open_recommendations(h.s)] == ["r1"]

    def test_a_merged_one_cannot_be_merged_again(self) -> None:
        h = live_with_rec(assigned=False)
        submit(h, "r2", THANH_KHE)
        h.run(SECRETARY, {"type": "merge_recommendations", "into": "r1", "others": ["r2"]})
        h.refuse(SECRETARY, {"type": "merge_recommendations", "into": "r1", "others": ["r2"]},
                 ErrorCode.WRONG_RECOMMENDATION_STATUS)

    def test_bad_into_itself_or_unknown(self) -> None:
        h = live_with_rec(assigned=False)
        h.refuse(SECRETARY, {"type": "merge_recommendations", "into": "r1", "others": ["r1"]},
                 ErrorCode.INVALID_COMMAND)
        h.refuse(SECRETARY, {"type": "merge_recommendations", "into": "r1", "others": ["r9"]},
                 ErrorCode.UNKNOWN_RECOMMENDATION)

    def test_a_ward_may_not_merge(self) -> None:
        h = live_with_rec(assigned=False)
        submit(h, "r2", THANH_KHE)
        h.refuse(site(HAI_CHAU), {"type": "merge_recommendations", "into": "r1", "others": ["r2"]},
                 ErrorCode.FORBIDDEN)


class TestAssignRecommendation:
    def test_assigned_to_two_departments_with_a_due_date(self) -> None:
        h = live_with_rec(assigned=False)
        assign(h, "r1", TAI_CHINH, NOI_VU, due="2025-11-15")
        rec = h.s.recommendations["r1"]
        assert (rec.departments, rec.due, rec.status) == ((TAI_CHINH, NOI_VU), date(2025, 11, 15), RecStatus.ASSIGNED)

    def test_overdue_after_its_due_date(self) -> None:
        h = live_with_rec()
        assert not h.s.recommendations["r1"].is_overdue(date(2025, 10, 31))
        assert h.s.recommendations["r1"].is_overdue(date(2025, 11, 1))

    def test_bad_a_ward_is_not_a_department(self) -> None:
        h = live_with_rec(assigned=False)
        h.refuse(SECRETARY, {"type": "assign_recommendation", "rec_id": "r1", "departments": [THANH_KHE],
                             "due": "2025-10-31"}, ErrorCode.NOT_DEPARTMENT)

    def test_bad_due_in_the_past_or_department_not_invited(self) -> None:
        h = live_with_rec(assigned=False)
        h.refuse(SECRETARY, {"type": "assign_recommendation", "rec_id": "r1", "departments": [TAI_CHINH],
                             "due": "2025-10-01"}, ErrorCode.DUE_IN_PAST)
        h.refuse(SECRETARY, {"type": "assign_recommendation", "rec_id": "r1", "departments": ["SO-XAY-DUNG"],
                             "due": "2025-10-31"}, ErrorCode.SITE_NOT_INVITED)


class TestMarkForMeeting:
    def test_marked_under_an_agenda_item(self) -> None:
        h = live_with_rec()
        h.run(SECRETARY, {"type": "mark_recommendation_for_meeting", "rec_id": "r1", "item_id": "i3"})
        rec = h.s.recommendations["r1"]
        assert (rec.in_meeting, rec.item_id) == (True, "i3")

    def test_marking_twice_records_nothing_new(self) -> None:
        h = live_with_rec()
        h.run(SECRETARY, {"type": "mark_recommendation_for_meeting", "rec_id": "r1"})
        assert h.run(CHAIR, {"type": "mark_recommendation_for_meeting", "rec_id": "r1"}) == ()

    def test_bad_unknown_item_or_recommendation(self) -> None:
        h = live_with_rec()
        h.refuse(SECRETARY, {"type": "mark_recommendation_for_meeting", "rec_id": "r1", "item_id": "i9"},
                 ErrorCode.UNKNOWN_ITEM)
        h.refuse(SECRETARY, {"type": "mark_recommendation_for_meeting", "rec_id": "r9"},
                 ErrorCode.UNKNOWN_RECOMMENDATION)


class TestAnswerRecommendation:
    def test_in_writing_by_the_assigned_department(self) -> None:
        h = answered(live_with_rec())
        rec = h.s.recommendations["r1"]
        assert rec.status is RecStatus.ANSWERED
        assert (rec.answers[0].department, rec.answers[0].mode) == (TAI_CHINH, AnswerMode.WRITTEN)

    def test_in_the_meeting_linked_to_its_speaking_turn(self) -> None:
        h = live_with_rec()
        h.give(TAI_CHINH)
        turn = h.s.floor.speakers[TAI_CHINH].since
        h.tick(120)
        h.run(CHAIR, {"type": "revoke_floor", "site": TAI_CHINH})
        h.run(SECRETARY, {"type": "answer_recommendation", "rec_id": "r1", "department": TAI_CHINH,
                          "mode": "in_meeting"})
        assert h.s.recommendations["r1"].answers[0].turn_started == turn

    def test_bad_a_department_not_assigned_answers(self) -> None:
        h = live_with_rec()
        h.refuse(site(NOI_VU), {"type": "answer_recommendation", "rec_id": "r1", "department": NOI_VU,
                                "text": "Trả lời"}, ErrorCode.NOT_ASSIGNEE)

    def test_bad_in_the_meeting_without_a_turn_or_before_assignment(self) -> None:
        h = live_with_rec()
        h.refuse(site(TAI_CHINH), {"type": "answer_recommendation", "rec_id": "r1", "department": TAI_CHINH,
                                   "mode": "in_meeting"}, ErrorCode.NO_TURN)
        submit(h, "r2", THANH_KHE)
        h.refuse(site(TAI_CHINH), {"type": "answer_recommendation", "rec_id": "r2", "department": TAI_CHINH,
                                   "text": "T"}, ErrorCode.WRONG_RECOMMENDATION_STATUS)

    def test_bad_a_written_answer_needs_text(self) -> None:
        h = live_with_rec()
        h.refuse(site(TAI_CHINH), {"type": "answer_recommendation", "rec_id": "r1", "department": TAI_CHINH},
                 ErrorCode.INVALID_COMMAND)


class TestDecideAnswer:
    def test_the_chair_accepts(self) -> None:
        h = answered(live_with_rec())
        h.run(CHAIR, {"type": "decide_answer", "rec_id": "r1", "accept": True})
        assert h.s.recommendations["r1"].status is RecStatus.ACCEPTED
        assert open_recommendations(h.s) == []

    def test_the_chair_keeps_it_open(self) -> None:
        h = answered(live_with_rec())
        h.run(CHAIR, {"type": "decide_answer", "rec_id": "r1", "accept": False, "reason": "Chưa rõ thời hạn"})
        rec = h.s.recommendations["r1"]
        assert (rec.status, rec.kept_open) == (RecStatus.ASSIGNED, ["Chưa rõ thời hạn"])

    def test_bad_nothing_answered_yet_or_a_secretary(self) -> None:
        h = live_with_rec()
        h.refuse(CHAIR, {"type": "decide_answer", "rec_id": "r1", "accept": True},
                 ErrorCode.WRONG_RECOMMENDATION_STATUS)
        answered(h)
        h.refuse(SECRETARY, {"type": "decide_answer", "rec_id": "r1", "accept": True}, ErrorCode.FORBIDDEN)


class TestGiveFeedback:
    def test_each_source_ward_says_whether_it_is_resolved(self) -> None:
        h = live_with_rec(assigned=False)
        submit(h, "r2", THANH_KHE)
        h.run(SECRETARY, {"type": "merge_recommendations", "into": "r1", "others": ["r2"]})
        assign(h, "r1")
        answered(h)
        h.run(site(HAI_CHAU), {"type": "give_recommendation_feedback", "rec_id": "r1", "site": HAI_CHAU,
                               "resolved": True})
        h.run(site(THANH_KHE), {"type": "give_recommendation_feedback", "rec_id": "r1", "site": THANH_KHE,
                                "resolved": False})
        assert h.s.recommendations["r1"].feedback == {HAI_CHAU: True, THANH_KHE: False}

    def test_the_same_answer_twice_records_nothing(self) -> None:
        h = answered(live_with_rec())
        cmd = {"type": "give_recommendation_feedback", "rec_id": "r1", "site": HAI_CHAU, "resolved": True}
        h.run(site(HAI_CHAU), cmd)
        assert h.run(site(HAI_CHAU), cmd) == ()

    def test_bad_a_ward_that_did_not_raise_it(self) -> None:
        h = answered(live_with_rec())
        h.refuse(site(HOA_BAC), {"type": "give_recommendation_feedback", "rec_id": "r1", "site": HOA_BAC,
                                 "resolved": True}, ErrorCode.NOT_SOURCE)


class TestCarryRecommendations:
    def test_open_ones_come_into_the_next_conference_once(self) -> None:
        earlier = live_with_rec()
        submit(earlier, "r2", THANH_KHE)
        assign(earlier, "r2")
        answered(earlier, "r2")
        earlier.run(CHAIR, {"type": "decide_answer", "rec_id": "r2", "accept": True})
        nxt = with_departments(build("scheduled"))
        items = carry_items(earlier.s, nxt.s)
        assert [i.origin for i in items] == [f"{earlier.s.conference_id}/r1"]
        cmd = CarryRecommendations(key="carry", items=items)
        nxt.run(SECRETARY, command_to_dict(cmd))
        carried = nxt.s.recommendations["r1"]
        assert (carried.carried_from, carried.status, carried.sources) == (items[0].origin, RecStatus.ASSIGNED,
                                                                          (HAI_CHAU,))
        assert carry_items(earlier.s, nxt.s) == ()

    def test_bad_the_same_origin_twice(self) -> None:
        earlier = live_with_rec()
        nxt = with_departments(build("scheduled"))
        items = carry_items(earlier.s, nxt.s)
        nxt.run(SECRETARY, command_to_dict(CarryRecommendations(key="c1", items=items)))
        again = command_to_dict(CarryRecommendations(key="c2", items=tuple(
            type(i)(**{**i.__dict__, "rec_id": "khac"}) for i in items)))
        nxt.refuse(SECRETARY, again, ErrorCode.ALREADY_CARRIED)

    def test_bad_a_ward_may_not_carry(self) -> None:
        earlier = live_with_rec()
        nxt = with_departments(build("scheduled"))
        cmd = command_to_dict(CarryRecommendations(key="c1", items=carry_items(earlier.s, nxt.s)))
        nxt.refuse(site(HAI_CHAU), cmd, ErrorCode.FORBIDDEN)


class TestSetRecommendationFields:
    def test_the_admin_sets_the_list_wards_choose_from(self) -> None:
        h = build("live")
        cmd = parse_command({"type": "set_recommendation_fields", "key": "f1", "fields": ["Đất đai", "Giáo dục"]})
        for ev in decide_directory(h.directory, cmd, ADMIN, now=h.now):
            evolve_directory(h.directory, ev)
        assert h.directory.fields == ("Đất đai", "Giáo dục")
        h.refuse(site(HAI_CHAU), {"type": "submit_recommendation", "rec_id": "r1", "site": HAI_CHAU, "title": "T",
                                  "text": "N", "field": "Khác"}, ErrorCode.UNKNOWN_FIELD)

    def test_bad_empty_or_duplicate(self) -> None:
        for fields in ([], ["A", "A"], [""]):
            with pytest.raises(Exception, match="fields"):
                parse_command({"type": "set_recommendation_fields", "key": "f1", "fields": fields})

    def test_only_the_admin(self) -> None:
        h = build("live")
        cmd = parse_command({"type": "set_recommendation_fields", "key": "f1", "fields": ["Đất đai"]})
        with pytest.raises(Exception, match="forbidden"):
            decide_directory(h.directory, cmd, CHAIR, now=h.now)


# -- properties ------------------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["submit", "merge", "assign"]), st.integers(0, 7), st.integers(0, 7),
                          st.sampled_from(INVITED)), max_size=30))
def test_a_merged_recommendation_keeps_every_source(steps: list[tuple[str, int, int, str]]) -> None:
    h = with_departments(build("live"))
    raised: dict[str, set[str]] = {}   # rec -> every site that raised it or what was merged into it
    for what, a, b, code in steps:
        ra, rb = f"r{a}", f"r{b}"
        if what == "submit" and ra not in h.s.recommendations:
            submit(h, ra, code)
            raised[ra] = {code}
        elif what == "merge":
            try:
                h.run(SECRETARY, {"type": "merge_recommendations", "into": ra, "others": [rb]})
            except Exception:
                continue
            raised[ra] |= raised[rb]
        elif what == "assign" and ra in h.s.recommendations:
            try:
                assign(h, ra)
            except Exception:
                continue
    for rec in h.s.recommendations.values():
        holder = rec
        while holder.merged_into is not None:
            holder = h.s.recommendations[holder.merged_into]
        assert set(rec.sources) <= set(holder.sources)
        assert set(holder.sources) == raised[holder.rec_id]
        assert len(set(holder.sources)) == len(holder.sources)
    assert replay(h.log) == h.state
    assert types(h.log)
