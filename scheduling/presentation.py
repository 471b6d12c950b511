"""Presentation: slide decks attached to the conference and shown page by page.

A deck is a PDF the server has rendered to page images; the log keeps its name, size, page
count and SHA-256 (``deck_attached``). The staff (admin, chair, secretary) attach decks
beforehand; the presenter may attach one while the conference runs. The main bridge may
present at any time while the conference runs; a floor holder only while the chair allows it
(``allow_presenting``), and never once its floor has ended. One presentation at a time: the
presenter turns pages (``slide_shown``: deck, page, item), the presenter or the chair stops it.
Nothing is presented after the conference has ended.

A screen share (``start_share``) follows the same rule of who may present; one share at a
time, beside (not instead of) a deck; the sharer or the chair stops it (``share_stopped``),
and it stops by itself when the sharer's floor or the conference ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .actors import ActorKind, Role
from .base import Command, Event, check_code, check_id, check_range, check_text, command, event
from .errors import DomainError, ErrorCode, ValidationError
from .rules import OPEN_PHASES, RUNNING, Ctx, decides, evolves
from .state import ConferenceState, Deck, Phase, Slide

MAX_DECKS = 100
MAX_DECK_BYTES = 50 * 1024 * 1024
MAX_DECK_PAGES = 300
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
StopReason = Literal["stopped", "disallowed", "floor_ended", "ended", "offline"]


# -- commands -------------------------------------------------------------------------------

@command
@dataclass(frozen=True, kw_only=True)
class AttachDeck(Command):
    """Sent by the server once the PDF is rendered: what the log keeps of it."""

    TYPE = "attach_deck"
    deck_id: str
    name: str
    size: int
    pages: int
    sha256: str
    item_id: str | None = None

    def check(self) -> None:
        check_id("deck_id", self.deck_id)
        check_text("name", self.name, max_len=200)
        check_range("size", self.size, 1, MAX_DECK_BYTES)
        check_range("pages", self.pages, 1, MAX_DECK_PAGES)
        if not SHA256_RE.match(self.sha256):
            raise ValidationError("sha256: 64 lower-case hexadecimal digits")
        if self.item_id is not None:
            check_id("item_id", self.item_id)


@command
@dataclass(frozen=True, kw_only=True)
class DetachDeck(Command):
    TYPE = "detach_deck"
    deck_id: str

    def check(self) -> None:
        check_id("deck_id", self.deck_id)


@dataclass(frozen=True, kw_only=True)
class _SiteCommand(Command):
    site: str

    def check(self) -> None:
        check_code("site", self.site)


@command
@dataclass(frozen=True, kw_only=True)
class AllowPresenting(_SiteCommand):
    """The chair lets a floor holder present (until its floor ends)."""

    TYPE = "allow_presenting"


@command
@dataclass(frozen=True, kw_only=True)
class DisallowPresenting(_SiteCommand):
    TYPE = "disallow_presenting"


@command
@dataclass(frozen=True, kw_only=True)
class StartPresentation(_SiteCommand):
    """``site`` presents ``deck_id`` from ``page`` (the main bridge, or an allowed floor holder)."""

    TYPE = "start_presentation"
    deck_id: str
    page: int = 1

    def check(self) -> None:
        super().check()
        check_id("deck_id", self.deck_id)
        check_range("page", self.page, 1, MAX_DECK_PAGES)


@command
@dataclass(frozen=True, kw_only=True)
class ShowSlide(_SiteCommand):
    """The presenter ``site`` turns to ``page`` of the deck it presents."""

    TYPE = "show_slide"
    page: int

    def check(self) -> None:
        super().check()
        check_range("page", self.page, 1, MAX_DECK_PAGES)


@command
@dataclass(frozen=True, kw_only=True)
class StopPresentation(Command):
    TYPE = "stop_presentation"


@command
@dataclass(frozen=True, kw_only=True)
class StartShare(_SiteCommand):
    """``site`` shares its screen (the main bridge, or an allowed floor holder)."""

    TYPE = "start_share"


@command
@dataclass(frozen=True, kw_only=True)
class StopShare(Command):
    """The sharer or the chair stops the screen share."""

    TYPE = "stop_share"


SENT_BY_THE_SERVER: frozenset[type[Command]] = frozenset({AttachDeck})
"""Commands the server sends on someone's behalf after work of its own (rendering the PDF):
the edges refuse them from clients, so no deck is recorded that was not rendered."""


# -- events ---------------------------------------------------------------------------------

@event
@dataclass(frozen=True, kw_only=True)
class DeckAttached(Event):
    TYPE = "deck_attached"
    deck_id: str
    name: str
    size: int
    pages: int
    sha256: str
    item_id: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class DeckDetached(Event):
    TYPE = "deck_detached"
    deck_id: str


@event
@dataclass(frozen=True, kw_only=True)
class PresentingAllowed(Event):
    TYPE = "presenting_allowed"
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class PresentingDisallowed(Event):
    TYPE = "presenting_disallowed"
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class PresentationStarted(Event):
    TYPE = "presentation_started"
    presenter: str
    deck_id: str


@event
@dataclass(frozen=True, kw_only=True)
class SlideShown(Event):
    TYPE = "slide_shown"
    deck_id: str
    page: int
    presenter: str
    item_id: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class PresentationStopped(Event):
    TYPE = "presentation_stopped"
    presenter: str
    reason: StopReason


@event
@dataclass(frozen=True, kw_only=True)
class ShareStarted(Event):
    TYPE = "share_started"
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class ShareStopped(Event):
    TYPE = "share_stopped"
    site: str
    reason: StopReason


# -- rules ----------------------------------------------------------------------------------

def may_present(state: ConferenceState, site: str) -> bool:
    """The main bridge may present while the conference runs; a floor holder while the chair allows it."""
    if state.phase not in RUNNING:
        return False
    return site == state.main_site or (site in state.floor.speakers and site in state.presentation.allowed)


def _acts_for(ctx: Ctx, site: str, what: str) -> None:
    """The site itself; for the main bridge also the chair (who sits there)."""
    if ctx.actor.kind is ActorKind.SITE:
        if ctx.actor.id != site:
            raise DomainError(ErrorCode.NOT_OWN_SITE, f"site {ctx.actor.id} may {what} only for itself, not {site}")
        return
    if site != ctx.state.main_site:
        raise DomainError(ErrorCode.FORBIDDEN, f"only site {site} itself may {what}")
    ctx.require(Role.CHAIR, what=what)


def _deck(ctx: Ctx, deck_id: str) -> Deck:
    deck = ctx.state.presentation.decks.get(deck_id)
    if deck is None:
        raise DomainError(ErrorCode.UNKNOWN_DECK, f"no deck {deck_id!r} in this conference")
    return deck


def _page(deck: Deck, page: int) -> None:
    if not 1 <= page <= deck.pages:
        raise DomainError(ErrorCode.NO_SUCH_PAGE, f"deck {deck.deck_id!r} has pages 1 to {deck.pages}, not {page}")


def _item_now(ctx: Ctx) -> str | None:
    active = ctx.state.active_item()
    return active.item_id if active else None


@decides(AttachDeck)
def _attach(ctx: Ctx, cmd: AttachDeck) -> list[Event]:
    s = ctx.state
    if ctx.actor.kind is ActorKind.SITE:   # the presenter brings its own deck
        if not may_present(s, ctx.actor.id):
            raise DomainError(ErrorCode.NOT_PRESENTER, "a site may attach a deck only while it may present")
    else:
        ctx.require(Role.ADMIN, Role.CHAIR, Role.SECRETARY, what="attach a deck")
        ctx.require_phase(*OPEN_PHASES, what="attach a deck")
    if cmd.deck_id in s.presentation.decks:
        raise DomainError(ErrorCode.DECK_EXISTS, f"deck {cmd.deck_id!r} is already attached")
    if len(s.presentation.decks) >= MAX_DECKS:
        raise DomainError(ErrorCode.TOO_MANY_DECKS, f"at most {MAX_DECKS} decks per conference")
    if cmd.item_id is not None and s.item(cmd.item_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_ITEM, f"no agenda item {cmd.item_id!r}")
    return [DeckAttached(deck_id=cmd.deck_id, name=cmd.name, size=cmd.size, pages=cmd.pages, sha256=cmd.sha256,
                         item_id=cmd.item_id, **ctx.meta())]


@decides(DetachDeck)
def _detach(ctx: Ctx, cmd: DetachDeck) -> list[Event]:
    ctx.require(Role.ADMIN, Role.CHAIR, Role.SECRETARY, what="detach a deck")
    ctx.require_phase(*OPEN_PHASES, what="detach a deck")
    _deck(ctx, cmd.deck_id)
    if ctx.state.presentation.deck_id == cmd.deck_id:
        raise DomainError(ErrorCode.DECK_IN_USE, f"deck {cmd.deck_id!r} is being presented: stop it first")
    return [DeckDetached(deck_id=cmd.deck_id, **ctx.meta())]


@decides(AllowPresenting)
def _allow(ctx: Ctx, cmd: AllowPresenting) -> list[Event]:
    ctx.require(Role.CHAIR, what="let a site present")
    ctx.require_phase(*RUNNING, what="let a site present")
    if cmd.site == ctx.state.main_site:
        raise DomainError(ErrorCode.MAIN_BRIDGE, "the main bridge always may present")
    if cmd.site not in ctx.state.floor.speakers:
        raise DomainError(ErrorCode.NOT_SPEAKING, f"site {cmd.site} does not have the floor")
    if cmd.site in ctx.state.presentation.allowed:
        return []
    return [PresentingAllowed(site=cmd.site, **ctx.meta())]


@decides(DisallowPresenting)
def _disallow(ctx: Ctx, cmd: DisallowPresenting) -> list[Event]:
    ctx.require(Role.CHAIR, what="stop a site presenting")
    if cmd.site not in ctx.state.presentation.allowed:
        return []
    return _take_back(ctx.state, cmd.site, "disallowed", ctx.meta())


@decides(StartPresentation)
def _start(ctx: Ctx, cmd: StartPresentation) -> list[Event]:
    _acts_for(ctx, cmd.site, "present")
    ctx.require_phase(*RUNNING, what="present")
    s = ctx.state
    if not may_present(s, cmd.site):
        raise DomainError(ErrorCode.NOT_ALLOWED_TO_PRESENT,
                          f"site {cmd.site} may present only while it has the floor and the chair allows it")
    if s.presentation.presenter not in (None, cmd.site):
        raise DomainError(ErrorCode.PRESENTATION_BUSY, f"site {s.presentation.presenter} is presenting: the chair "
                          "or the presenter stops that first")
    deck = _deck(ctx, cmd.deck_id)
    _page(deck, cmd.page)
    meta = ctx.meta()
    return [PresentationStarted(presenter=cmd.site, deck_id=deck.deck_id, **meta),
            SlideShown(deck_id=deck.deck_id, page=cmd.page, presenter=cmd.site, item_id=_item_now(ctx), **meta)]


@decides(ShowSlide)
def _show(ctx: Ctx, cmd: ShowSlide) -> list[Event]:
    _acts_for(ctx, cmd.site, "turn a page")
    ctx.require_phase(*RUNNING, what="turn a page")
    p = ctx.state.presentation
    if p.presenter != cmd.site or p.deck_id is None:
        raise DomainError(ErrorCode.NOT_PRESENTER, f"site {cmd.site} is not presenting")
    _page(_deck(ctx, p.deck_id), cmd.page)
    if cmd.page == p.page:
        return []
    return [SlideShown(deck_id=p.deck_id, page=cmd.page, presenter=cmd.site, item_id=_item_now(ctx), **ctx.meta())]


@decides(StopPresentation)
def _stop(ctx: Ctx, cmd: StopPresentation) -> list[Event]:
    p = ctx.state.presentation
    if p.presenter is None:
        raise DomainError(ErrorCode.NOT_PRESENTING, "nothing is being presented")
    if ctx.actor.kind is ActorKind.SITE:
        if ctx.actor.id != p.presenter:
            raise DomainError(ErrorCode.NOT_PRESENTER, f"site {ctx.actor.id} is not presenting")
    else:
        ctx.require(Role.CHAIR, what="stop a presentation")
    return [PresentationStopped(presenter=p.presenter, reason="stopped", **ctx.meta())]


@decides(StartShare)
def _start_share(ctx: Ctx, cmd: StartShare) -> list[Event]:
    _acts_for(ctx, cmd.site, "share a screen")
    ctx.require_phase(*RUNNING, what="share a screen")
    s = ctx.state
    if not may_present(s, cmd.site):
        raise DomainError(ErrorCode.NOT_ALLOWED_TO_PRESENT,
                          f"site {cmd.site} may share only while it has the floor and the chair allows it")
    if s.presentation.sharer == cmd.site:
        return []
    if s.presentation.sharer is not None:
        raise DomainError(ErrorCode.SHARE_BUSY, f"site {s.presentation.sharer} is sharing its screen: the chair "
                          "or the sharer stops that first")
    return [ShareStarted(site=cmd.site, **ctx.meta())]


@decides(StopShare)
def _stop_share(ctx: Ctx, cmd: StopShare) -> list[Event]:
    sharer = ctx.state.presentation.sharer
    if sharer is None:
        raise DomainError(ErrorCode.NOT_SHARING, "no screen is being shared")
    if ctx.actor.kind is ActorKind.SITE:
        if ctx.actor.id != sharer:
            raise DomainError(ErrorCode.NOT_SHARING, f"site {ctx.actor.id} is not sharing its screen")
    else:
        ctx.require(Role.CHAIR, what="stop a screen share")
    return [ShareStopped(site=sharer, reason="stopped", **ctx.meta())]


def _take_back(state: ConferenceState, site: str, reason: StopReason, meta: dict[str, Any]) -> list[Event]:
    out: list[Event] = []
    if state.presentation.sharer == site:
        out.append(ShareStopped(site=site, reason=reason, **meta))
    if state.presentation.presenter == site:
        out.append(PresentationStopped(presenter=site, reason=reason, **meta))
    if site in state.presentation.allowed:
        out.append(PresentingDisallowed(site=site, **meta))
    return out


def after_floor_ended(state: ConferenceState, site: str, meta: dict[str, Any]) -> list[Event]:
    """What follows a site's losing the floor: its presentation stops, its allowance ends
    (floor.py and lifecycle.py append these after ``floor_ended``)."""
    return _take_back(state, site, "floor_ended", meta)


def after_going_offline(state: ConferenceState, site: str, meta: dict[str, Any]) -> list[Event]:
    """What follows a site's going offline (past the threshold): its screen share stops, as
    nothing of it can reach anyone; its slides stay on screen (attendance.py appends this
    after ``connection_changed``)."""
    if state.presentation.sharer != site:
        return []
    return [ShareStopped(site=site, reason="offline", **meta)]


def at_conference_end(state: ConferenceState, meta: dict[str, Any]) -> list[Event]:
    """What the end of the conference stops (lifecycle.py appends these before ``phase_changed``)."""
    p = state.presentation
    out: list[Event] = []
    if p.sharer is not None:
        out.append(ShareStopped(site=p.sharer, reason="ended", **meta))
    if p.presenter is not None:
        out.append(PresentationStopped(presenter=p.presenter, reason="ended", **meta))
    out += [PresentingDisallowed(site=site, **meta) for site in sorted(p.allowed)]
    return out


# -- evolve ---------------------------------------------------------------------------------

@evolves(DeckAttached)
def _attached(s: ConferenceState, ev: DeckAttached) -> None:
    s.presentation.decks[ev.deck_id] = Deck(deck_id=ev.deck_id, name=ev.name, size=ev.size, pages=ev.pages,
                                            sha256=ev.sha256, item_id=ev.item_id, attached_by=ev.actor,
                                            attached_at=ev.at)


@evolves(DeckDetached)
def _detached(s: ConferenceState, ev: DeckDetached) -> None:
    s.presentation.decks.pop(ev.deck_id, None)


@evolves(PresentingAllowed)
def _allowed(s: ConferenceState, ev: PresentingAllowed) -> None:
    s.presentation.allowed.add(ev.site)


@evolves(PresentingDisallowed)
def _disallowed(s: ConferenceState, ev: PresentingDisallowed) -> None:
    s.presentation.allowed.discard(ev.site)


@evolves(PresentationStarted)
def _started(s: ConferenceState, ev: PresentationStarted) -> None:
    s.presentation.presenter = ev.presenter
    s.presentation.deck_id = ev.deck_id


@evolves(SlideShown)
def _shown(s: ConferenceState, ev: SlideShown) -> None:
    p = s.presentation
    if p.shown and p.shown[-1].ended is None:
        p.shown[-1].ended = ev.at
    p.deck_id, p.page = ev.deck_id, ev.page
    p.shown.append(Slide(deck_id=ev.deck_id, page=ev.page, presenter=ev.presenter, item_id=ev.item_id, at=ev.at))


@evolves(PresentationStopped)
def _stopped(s: ConferenceState, ev: PresentationStopped) -> None:
    p = s.presentation
    if p.shown and p.shown[-1].ended is None:
        p.shown[-1].ended = ev.at
    p.presenter, p.deck_id, p.page = None, None, 0


@evolves(ShareStarted)
def _share_started(s: ConferenceState, ev: ShareStarted) -> None:
    s.presentation.sharer = ev.site


@evolves(ShareStopped)
def _share_stopped(s: ConferenceState, ev: ShareStopped) -> None:
    s.presentation.sharer = None


def sharing_now(state: ConferenceState) -> str | None:
    """The site whose screen is shared now, if any (none once the conference has ended)."""
    return None if state.phase is Phase.ENDED else state.presentation.sharer


def presenting_now(state: ConferenceState) -> tuple[str, Deck, int] | None:
    """(presenter, deck, page) while something is presented."""
    p = state.presentation
    if p.presenter is None or p.deck_id is None or state.phase is Phase.ENDED:
        return None
    deck = p.decks.get(p.deck_id)
    return (p.presenter, deck, p.page) if deck is not None else None
