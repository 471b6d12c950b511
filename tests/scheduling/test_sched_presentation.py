"""Presentation: decks attached, who may present (the main bridge; a floor holder while the
chair allows it), page turns, stops by the presenter, the chair, the floor's end and the
conference's end; what the minutes record of it."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    MAIN,
    OBSERVER,
    PROPERTY_SETTINGS,
    SECRETARY,
    SYSTEM,
    THANH_KHE,
    Harness,
    build,
    site,
    types,
)

from scheduling import (
    DeckAttached,
    DomainError,
    ErrorCode,
    Phase,
    PresentationStarted,
    PresentationStopped,
    PresentingAllowed,
    PresentingDisallowed,
    ShareStarted,
    ShareStopped,
    SlideShown,
    may_present,
    minutes_content,
    presenting_now,
    replay,
    sharing_now,
)

DECK: dict[str, Any] = {"deck_id": "d1", "name": "Báo cáo kinh tế – xã hội quý III.pdf", "size": 48_213,
                        "pages": 12, "sha256": "ab" * 32}


def attach(h: Harness, deck_id: str = "d1", pages: int = 12, item_id: str | None = None) -> None:
    h.run(SECRETARY, {"type": "attach_deck", **DECK, "deck_id": deck_id, "pages": pages, "item_id": item_id})


def allow(h: Harness, code: str = HAI_CHAU) -> None:
    h.give(code)
    h.run(CHAIR, {"type": "allow_presenting", "site": code})


def present(h: Harness, code: str = MAIN, deck_id: str = "d1", page: int = 1) -> tuple[Any, ...]:
    return h.run(site(code), {"type": "start_presentation", "site": code, "deck_id": deck_id, "page": page})


def turn(h: Harness, page: int, code: str = MAIN) -> tuple[Any, ...]:
    return h.run(site(code), {"type": "show_slide", "site": code, "page": page})


class TestAttachDeck:
    def test_the_secretary_attaches_a_deck_beforehand(self, scheduled: Harness) -> None:
        events = scheduled.run(SECRETARY, {"type": "attach_deck", **DECK, "item_id": "i1"}, key="tl")
        assert list(events) == [DeckAttached(**DECK, item_id="i1", **scheduled.meta(SECRETARY, "tl"))]
        deck = scheduled.s.presentation.decks["d1"]
        assert (deck.pages, deck.item_id, deck.attached_by) == (12, "i1", SECRETARY.ref)

    def test_the_presenter_brings_its_own_deck_while_it_may_present(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "attach_deck", **DECK}, ErrorCode.NOT_PRESENTER)
        allow(live)
        live.run(site(HAI_CHAU), {"type": "attach_deck", **DECK})
        live.run(site(MAIN), {"type": "attach_deck", **DECK, "deck_id": "d2"})
        assert set(live.s.presentation.decks) == {"d1", "d2"}

    def test_bad_decks_are_refused(self, live: Harness) -> None:
        attach(live)
        live.refuse(SECRETARY, {"type": "attach_deck", **DECK}, ErrorCode.DECK_EXISTS, "d1")
        live.refuse(SECRETARY, {"type": "attach_deck", **DECK, "deck_id": "d2", "item_id": "i9"},
                    ErrorCode.UNKNOWN_ITEM)
        for bad in ({"pages": 0}, {"pages": 301}, {"size": 50 * 1024 * 1024 + 1}, {"sha256": "AB" * 32},
                    {"sha256": "ab"}, {"name": ""}, {"deck_id": "../x"}):
            live.refuse(SECRETARY, {"type": "attach_deck", **DECK, "deck_id": "d3", **bad}, ErrorCode.INVALID_COMMAND)

    def test_bad_phase_nothing_is_attached_after_the_end(self, ended: Harness) -> None:
        ended.refuse(SECRETARY, {"type": "attach_deck", **DECK}, ErrorCode.WRONG_PHASE)


class TestDetachDeck:
    def test_the_staff_detach_a_deck(self, live: Harness) -> None:
        attach(live)
        assert types(live.run(ADMIN, {"type": "detach_deck", "deck_id": "d1"})) == ["deck_detached"]
        assert live.s.presentation.decks == {}

    def test_a_deck_on_screen_stays(self, live: Harness) -> None:
        attach(live)
        present(live)
        live.refuse(SECRETARY, {"type": "detach_deck", "deck_id": "d1"}, ErrorCode.DECK_IN_USE)

    def test_bad_deck_id(self, live: Harness) -> None:
        live.refuse(SECRETARY, {"type": "detach_deck", "deck_id": "d9"}, ErrorCode.UNKNOWN_DECK)


class TestAllowPresenting:
    def test_the_chair_lets_the_floor_holder_present(self, live: Harness) -> None:
        live.give(HAI_CHAU)
        events = live.run(CHAIR, {"type": "allow_presenting", "site": HAI_CHAU}, key="cho")
        assert list(events) == [PresentingAllowed(site=HAI_CHAU, **live.meta(CHAIR, "cho"))]
        assert live.run(CHAIR, {"type": "allow_presenting", "site": HAI_CHAU}) == ()

    def test_only_a_floor_holder(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "allow_presenting", "site": HAI_CHAU}, ErrorCode.NOT_SPEAKING)
        live.refuse(CHAIR, {"type": "allow_presenting", "site": MAIN}, ErrorCode.MAIN_BRIDGE)

    def test_bad_site_code(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "allow_presenting", "site": "p hai chau"}, ErrorCode.INVALID_COMMAND)


class TestDisallowPresenting:
    def test_the_chair_takes_the_presentation_back(self, live: Harness) -> None:
        attach(live)
        allow(live)
        present(live, HAI_CHAU)
        events = live.run(CHAIR, {"type": "disallow_presenting", "site": HAI_CHAU}, key="thoi")
        meta = live.meta(CHAIR, "thoi")
        assert list(events) == [PresentationStopped(presenter=HAI_CHAU, reason="disallowed", **meta),
                                PresentingDisallowed(site=HAI_CHAU, **meta)]
        assert presenting_now(live.s) is None and live.s.presentation.allowed == set()

    def test_nothing_to_take_back(self, live: Harness) -> None:
        assert live.run(CHAIR, {"type": "disallow_presenting", "site": HAI_CHAU}) == ()

    def test_bad_actor(self, live: Harness) -> None:
        allow(live)
        live.refuse(site(HAI_CHAU), {"type": "disallow_presenting", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)


class TestStartPresentation:
    def test_the_main_bridge_presents(self, live: Harness) -> None:
        attach(live)
        live.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        events = live.run(site(MAIN), {"type": "start_presentation", "site": MAIN, "deck_id": "d1"}, key="tc")
        meta = live.meta(site(MAIN), "tc")
        assert list(events) == [PresentationStarted(presenter=MAIN, deck_id="d1", **meta),
                                SlideShown(deck_id="d1", page=1, presenter=MAIN, item_id="i1", **meta)]
        presenter, deck, page = presenting_now(live.s) or ("", None, 0)
        assert (presenter, deck and deck.deck_id, page) == (MAIN, "d1", 1)

    def test_the_chair_starts_it_for_the_main_bridge_in_the_rehearsal(self, rehearsal: Harness) -> None:
        attach(rehearsal)
        rehearsal.run(CHAIR, {"type": "start_presentation", "site": MAIN, "deck_id": "d1", "page": 3})
        assert rehearsal.s.presentation.page == 3

    def test_a_floor_holder_presents_only_when_allowed(self, live: Harness) -> None:
        attach(live)
        live.give(HAI_CHAU)
        cmd = {"type": "start_presentation", "site": HAI_CHAU, "deck_id": "d1"}
        live.refuse(site(HAI_CHAU), cmd, ErrorCode.NOT_ALLOWED_TO_PRESENT)
        live.run(CHAIR, {"type": "allow_presenting", "site": HAI_CHAU})
        live.refuse(CHAIR, cmd, ErrorCode.FORBIDDEN)          # the chair presents only for the main bridge
        live.refuse(site(THANH_KHE), cmd, ErrorCode.NOT_OWN_SITE)
        live.run(site(HAI_CHAU), cmd)
        assert live.s.presentation.presenter == HAI_CHAU

    def test_one_presentation_at_a_time(self, live: Harness) -> None:
        attach(live)
        attach(live, "d2", pages=3)
        allow(live)
        present(live, HAI_CHAU)
        live.refuse(site(MAIN), {"type": "start_presentation", "site": MAIN, "deck_id": "d2"},
                    ErrorCode.PRESENTATION_BUSY)
        present(live, HAI_CHAU, "d2", 2)   # the presenter switches decks
        assert (live.s.presentation.deck_id, live.s.presentation.page) == ("d2", 2)

    def test_bad_deck_or_page(self, live: Harness) -> None:
        attach(live)
        live.refuse(site(MAIN), {"type": "start_presentation", "site": MAIN, "deck_id": "d9"}, ErrorCode.UNKNOWN_DECK)
        live.refuse(site(MAIN), {"type": "start_presentation", "site": MAIN, "deck_id": "d1", "page": 13},
                    ErrorCode.NO_SUCH_PAGE, "1 to 12")
        live.refuse(site(MAIN), {"type": "start_presentation", "site": MAIN, "deck_id": "d1", "page": 0},
                    ErrorCode.INVALID_COMMAND)

    def test_bad_phase_nothing_after_the_end(self, ended: Harness) -> None:
        ended.refuse(site(MAIN), {"type": "start_presentation", "site": MAIN, "deck_id": "d1"}, ErrorCode.WRONG_PHASE)


class TestShowSlide:
    def test_the_presenter_turns_pages(self, live: Harness) -> None:
        attach(live)
        present(live)
        live.tick(40)
        events = turn(live, 2)
        assert [(e.TYPE, e.page) for e in events] == [("slide_shown", 2)]
        assert turn(live, 2) == ()            # the page already shown: nothing new
        turn(live, 12)
        assert [(x.page, x.ended is None) for x in live.s.presentation.shown] == [(1, False), (2, False), (12, True)]

    def test_only_the_presenter(self, live: Harness) -> None:
        attach(live)
        allow(live)
        present(live, HAI_CHAU)
        live.refuse(site(MAIN), {"type": "show_slide", "site": MAIN, "page": 2}, ErrorCode.NOT_PRESENTER)
        live.refuse(CHAIR, {"type": "show_slide", "site": MAIN, "page": 2}, ErrorCode.NOT_PRESENTER)
        live.refuse(site(THANH_KHE), {"type": "show_slide", "site": HAI_CHAU, "page": 2}, ErrorCode.NOT_OWN_SITE)
        turn(live, 2, HAI_CHAU)

    def test_bad_page(self, live: Harness) -> None:
        attach(live, pages=3)
        present(live)
        live.refuse(site(MAIN), {"type": "show_slide", "site": MAIN, "page": 4}, ErrorCode.NO_SUCH_PAGE)
        live.refuse(site(MAIN), {"type": "show_slide", "site": MAIN, "page": -1}, ErrorCode.INVALID_COMMAND)
        live.refuse(site(MAIN), {"type": "show_slide", "site": MAIN, "page": "2"}, ErrorCode.INVALID_COMMAND)


class TestStopPresentation:
    def test_the_presenter_or_the_chair_stops(self, live: Harness) -> None:
        attach(live)
        present(live)
        assert types(live.run(CHAIR, {"type": "stop_presentation"})) == ["presentation_stopped"]
        present(live)
        live.run(site(MAIN), {"type": "stop_presentation"})
        assert presenting_now(live.s) is None

    def test_the_floors_end_and_the_conferences_end_stop_it(self, live: Harness) -> None:
        attach(live)
        allow(live)
        present(live, HAI_CHAU)
        events = live.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU})
        assert types(events) == ["floor_ended", "site_muted", "presentation_stopped", "presenting_disallowed"]
        assert events[2].reason == "floor_ended"
        present(live)
        events = live.run(CHAIR, {"type": "end_conference"})
        assert types(events)[0] == "presentation_stopped" and events[0].reason == "ended"
        live.refuse(site(MAIN), {"type": "show_slide", "site": MAIN, "page": 2}, ErrorCode.WRONG_PHASE)

    def test_bad_nothing_to_stop_or_not_the_presenter(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "stop_presentation"}, ErrorCode.NOT_PRESENTING)
        attach(live)
        present(live)
        live.refuse(site(HAI_CHAU), {"type": "stop_presentation"}, ErrorCode.NOT_PRESENTER)
        live.refuse(OBSERVER, {"type": "stop_presentation"}, ErrorCode.FORBIDDEN)


def share(h: Harness, code: str = MAIN) -> tuple[Any, ...]:
    return h.run(site(code), {"type": "start_share", "site": code})


class TestStartShare:
    def test_the_main_bridge_shares(self, live: Harness) -> None:
        events = live.run(site(MAIN), {"type": "start_share", "site": MAIN}, key="s1")
        assert list(events) == [ShareStarted(site=MAIN, **live.meta(site(MAIN), "s1"))]
        assert sharing_now(live.s) == MAIN
        assert share(live) == ()   # again: nothing new
        assert replay(live.log).presentation.sharer == MAIN

    def test_the_chair_shares_for_the_main_bridge(self, live: Harness) -> None:
        assert types(live.run(CHAIR, {"type": "start_share", "site": MAIN})) == ["share_started"]

    def test_a_floor_holder_shares_only_while_the_chair_allows_it(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "start_share", "site": HAI_CHAU}, ErrorCode.NOT_ALLOWED_TO_PRESENT)
        allow(live)
        share(live, HAI_CHAU)
        assert sharing_now(live.s) == HAI_CHAU
        events = live.run(CHAIR, {"type": "disallow_presenting", "site": HAI_CHAU})
        assert types(events) == ["share_stopped", "presenting_disallowed"] and events[0].reason == "disallowed"
        live.refuse(site(HAI_CHAU), {"type": "start_share", "site": HAI_CHAU}, ErrorCode.NOT_ALLOWED_TO_PRESENT)

    def test_one_share_at_a_time_beside_a_deck(self, live: Harness) -> None:
        attach(live)
        present(live)
        share(live)
        assert (sharing_now(live.s), presenting_now(live.s) is not None) == (MAIN, True)
        allow(live)
        live.refuse(site(HAI_CHAU), {"type": "start_share", "site": HAI_CHAU}, ErrorCode.SHARE_BUSY)

    def test_bad_not_its_own_site_not_the_chair_bad_code(self, live: Harness) -> None:
        live.refuse(site(HAI_CHAU), {"type": "start_share", "site": MAIN}, ErrorCode.NOT_OWN_SITE)
        live.refuse(SECRETARY, {"type": "start_share", "site": MAIN}, ErrorCode.FORBIDDEN)
        live.refuse(CHAIR, {"type": "start_share", "site": HAI_CHAU}, ErrorCode.FORBIDDEN)
        live.refuse(site(MAIN), {"type": "start_share", "site": "không hợp lệ"}, ErrorCode.INVALID_COMMAND)
        assert sharing_now(live.s) is None

    def test_bad_nothing_before_the_conference_runs(self, scheduled: Harness) -> None:
        scheduled.refuse(site(MAIN), {"type": "start_share", "site": MAIN}, ErrorCode.WRONG_PHASE)


class TestStopShare:
    def test_the_chair_stops_any_share(self, live: Harness) -> None:
        allow(live)
        share(live, HAI_CHAU)
        events = live.run(CHAIR, {"type": "stop_share"}, key="s2")
        assert list(events) == [ShareStopped(site=HAI_CHAU, reason="stopped", **live.meta(CHAIR, "s2"))]
        assert sharing_now(live.s) is None

    def test_the_sharer_stops_its_own(self, live: Harness) -> None:
        share(live)
        assert types(live.run(site(MAIN), {"type": "stop_share"})) == ["share_stopped"]

    def test_the_floors_end_and_the_conferences_end_stop_it(self, live: Harness) -> None:
        allow(live)
        share(live, HAI_CHAU)
        events = live.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU})
        assert types(events) == ["floor_ended", "site_muted", "share_stopped", "presenting_disallowed"]
        assert events[2].reason == "floor_ended"
        share(live)
        events = live.run(CHAIR, {"type": "end_conference"})
        assert types(events)[0] == "share_stopped" and events[0].reason == "ended"
        assert sharing_now(live.s) is None
        live.refuse(site(MAIN), {"type": "start_share", "site": MAIN}, ErrorCode.WRONG_PHASE)
        live.refuse(CHAIR, {"type": "stop_share"}, ErrorCode.NOT_SHARING)

    def test_a_sharer_gone_offline_stops_sharing_a_reconnecting_one_does_not(self, live: Harness) -> None:
        share(live)
        link = {"type": "set_connection", "site": MAIN}
        assert types(live.run(SYSTEM, {**link, "connection": "reconnecting"})) == ["connection_changed"]
        assert sharing_now(live.s) == MAIN
        events = live.run(SYSTEM, {**link, "connection": "offline"})
        assert types(events) == ["connection_changed", "share_stopped"] and events[1].reason == "offline"
        assert sharing_now(live.s) is None and replay(live.log).presentation.sharer is None
        share(live)
        live.run(SYSTEM, {**link, "connection": "online"})
        other = {"type": "set_connection", "site": HAI_CHAU}
        live.run(SYSTEM, {**other, "connection": "online"})
        assert types(live.run(SYSTEM, {**other, "connection": "offline"})) == ["connection_changed"]
        assert sharing_now(live.s) == MAIN, "another site going offline stops nothing"

    def test_bad_nothing_to_stop_or_not_the_sharer(self, live: Harness) -> None:
        live.refuse(CHAIR, {"type": "stop_share"}, ErrorCode.NOT_SHARING)
        share(live)
        live.refuse(site(HAI_CHAU), {"type": "stop_share"}, ErrorCode.NOT_SHARING)
        live.refuse(OBSERVER, {"type": "stop_share"}, ErrorCode.FORBIDDEN)
        live.refuse(SECRETARY, {"type": "stop_share"}, ErrorCode.FORBIDDEN)
        assert sharing_now(live.s) == MAIN


class TestMinutesRecordTheSlides:
    def test_which_slide_during_which_turn(self) -> None:
        h = build("live")
        attach(h, item_id="i1")
        h.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        present(h)
        h.tick(60)
        turn(h, 2)
        h.tick(30)
        allow(h)
        h.run(site(MAIN), {"type": "stop_presentation"})
        present(h, HAI_CHAU, page=5)
        h.tick(45)
        h.run(CHAIR, {"type": "revoke_floor", "site": HAI_CHAU})
        slides = next(i for i in minutes_content(h.s)["agenda"] if i["item_id"] == "i1")["slides"]
        assert [(x["page"], x["presenter"], x["turn"], x["seconds"]) for x in slides] == [
            (1, MAIN, None, 60), (2, MAIN, None, 30), (5, HAI_CHAU, HAI_CHAU, 45)]
        assert slides[0]["deck"] == DECK["name"]

    def test_no_slides_no_key(self, live: Harness) -> None:
        assert all("slides" not in i for i in minutes_content(live.s)["agenda"])


@pytest.mark.parametrize("phase", ["draft", "scheduled", "rehearsal", "live"])
def test_the_staff_attach_in_every_open_phase(phase: str) -> None:
    h = build(phase)
    attach(h)
    assert "d1" in h.s.presentation.decks


# -- properties: random presentation sessions ---------------------------------------------------

WARDS = (HAI_CHAU, THANH_KHE)
PRESENTERS = (MAIN, HAI_CHAU, THANH_KHE)
ACTORS_P = (CHAIR, SECRETARY, OBSERVER, site(MAIN), site(HAI_CHAU), site(THANH_KHE))


class PresentationMachine(RuleBasedStateMachine):
    """The floor, allowances, decks and page turns in any order, from anyone, while time passes:
    only who may present presents, the page is always one of the deck's, the slides shown are a
    closed, ordered history, nothing is presented after the end, and the log replays to the
    same state. (test_sched_properties.py covers every command; this one gets deep into these.)"""

    @initialize(max_speakers=st.integers(1, 2))
    def start(self, max_speakers: int) -> None:
        self.h = build("live", max_speakers=max_speakers)
        self.h.run(CHAIR, {"type": "start_item", "item_id": "i1"})
        attach(self.h, "d1", pages=12)   # the usual case: decks attached beforehand
        attach(self.h, "d2", pages=3)

    def _try(self, actor: Any, cmd: dict[str, Any]) -> None:
        before = copy.deepcopy(self.h.state)
        try:
            self.h.run(actor, cmd)
        except DomainError:
            assert self.h.state == before, f"refused {cmd['type']} changed the state"

    @rule(seconds=st.sampled_from([1, 20, 90]))
    def time_passes(self, seconds: int) -> None:
        self.h.tick(seconds)

    @rule(ward=st.sampled_from(WARDS), how=st.sampled_from(["give_floor", "give_floor", "revoke_floor", "release_floor"]))
    def floor(self, ward: str, how: str) -> None:
        self._try(CHAIR if how != "release_floor" else site(ward), {"type": how, "site": ward})

    @rule(ward=st.sampled_from(WARDS))
    def floor_to_present(self, ward: str) -> None:   # the usual way: the floor, then leave to present
        self._try(CHAIR, {"type": "give_floor", "site": ward})
        self._try(CHAIR, {"type": "allow_presenting", "site": ward})

    @rule(ward=st.sampled_from(WARDS), allow=st.booleans(), actor=st.sampled_from([CHAIR, CHAIR, CHAIR, SECRETARY]))
    def allowance(self, ward: str, allow: bool, actor: Any) -> None:
        self._try(actor, {"type": "allow_presenting" if allow else "disallow_presenting", "site": ward})

    @rule(deck=st.sampled_from(["d1", "d3"]), pages=st.sampled_from([1, 3, 12]), actor=st.sampled_from(ACTORS_P))
    def attach(self, deck: str, pages: int, actor: Any) -> None:
        self._try(actor, {"type": "attach_deck", **DECK, "deck_id": deck, "pages": pages})

    @rule(data=st.data(), page=st.sampled_from([1, 1, 2, 3, 12, 13]),
          actor=st.sampled_from([None, None, None, CHAIR, site(MAIN)]))
    def present(self, data: st.DataObject, page: int, actor: Any) -> None:
        p = self.h.s.presentation
        who = data.draw(st.sampled_from(sorted(p.allowed) or PRESENTERS) if data.draw(st.booleans())
                        else st.sampled_from(PRESENTERS))
        deck = data.draw(st.sampled_from(sorted(p.decks) + ["d9"]))
        self._try(actor or site(who), {"type": "start_presentation", "site": who, "deck_id": deck, "page": page})

    @rule(data=st.data(), page=st.sampled_from([1, 2, 3, 4, 12, 13]), actor=st.sampled_from([None, None, CHAIR]))
    def turn(self, data: st.DataObject, page: int, actor: Any) -> None:
        presenter = self.h.s.presentation.presenter
        who = presenter if presenter and data.draw(st.integers(0, 3)) else data.draw(st.sampled_from(PRESENTERS))
        self._try(actor or site(who), {"type": "show_slide", "site": who, "page": page})

    @rule(actor=st.sampled_from(ACTORS_P))
    def stop(self, actor: Any) -> None:
        self._try(actor, {"type": "stop_presentation"})

    @rule(chance=st.integers(0, 30))
    def end(self, chance: int) -> None:   # rarely: after the end nothing more happens
        if chance == 0:
            self._try(CHAIR, {"type": "end_conference"})

    @invariant()
    def only_who_may_presents(self) -> None:
        s = self.h.s
        p = s.presentation
        assert p.allowed <= set(s.floor.speakers)
        if p.presenter is not None:
            assert may_present(s, p.presenter)
            assert p.deck_id in p.decks and 1 <= p.page <= p.decks[p.deck_id].pages
            assert p.shown and p.shown[-1].ended is None and p.shown[-1].page == p.page
        else:
            assert all(x.ended is not None for x in p.shown)
        assert all(a.ended is not None and a.at <= a.ended <= b.at for a, b in itertools.pairwise(p.shown))
        if s.phase is Phase.ENDED:
            assert p.presenter is None and not p.allowed

    def teardown(self) -> None:
        if hasattr(self, "h"):
            assert replay(self.h.log) == self.h.state


PresentationMachine.TestCase.settings = PROPERTY_SETTINGS
TestPresentationMachine = PresentationMachine.TestCase
