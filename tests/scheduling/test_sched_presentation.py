"""Presentation: decks attached, who may present (the main bridge; a floor holder while the
chair allows it), page turns, stops by the presenter, the chair, the floor's end and the
conference's end; what the minutes record of it."""

from __future__ import annotations

from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    HAI_CHAU,
    MAIN,
    OBSERVER,
    SECRETARY,
    THANH_KHE,
    Harness,
    build,
    site,
    types,
)

from scheduling import (
    DeckAttached,
    ErrorCode,
    PresentationStarted,
    PresentationStopped,
    PresentingAllowed,
    PresentingDisallowed,
    SlideShown,
    minutes_content,
    presenting_now,
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
