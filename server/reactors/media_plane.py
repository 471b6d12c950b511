"""The media plane of a server process: one forwarder per conference (in this process or
a worker process), fed with each page's WebRTC negotiation and steered by the conference
log — the main bridge is the program, floor holders fill the speaker slots, muted sites'
audio is not forwarded, the site whose screen is shared (``share_started``) feeds every
share slot — plus the audio levels the chair's wall shows.

Peers are pages: ``SITE/n`` for a site's page, ``@account/n`` for a staff page (with several
processes ``SITE/<process>.n``, unique across them). A site's publisher is its page that
offered most recently. With several processes a site may publish on another process: the
cluster (media_cluster.py) pulls it over a relay and it is steered under the origin's peer
id (``relayed``) exactly like a local publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from media import (
    Forwarder,
    IceServer,
    LinkQuality,
    MediaConfig,
    MediaError,
    PublishHint,
)
from media.recording import RecordingInfo
from media.worker import WorkerForwarder
from scheduling import (
    STAFF_ROLES,
    ActorKind,
    ConferenceState,
    Event,
    FloorEnded,
    FloorGranted,
    Role,
    ShareStarted,
    ShareStopped,
    SiteMuted,
    SiteUnmuted,
    sharing_now,
)
from scheduling.lifecycle import PhaseChanged

from .. import protocol as p
from ..config import MediaSettings
from ..service.hub import StreamHub
from .media_scope import NOTHING, MediaScope, media_scope

log = logging.getLogger(__name__)
LEVELS_EVERY_S = 0.25
STEERING = (FloorGranted, FloorEnded, SiteMuted, SiteUnmuted, PhaseChanged, ShareStarted, ShareStopped)

Send = Callable[[p.ServerMessage], Awaitable[None]]


@dataclass
class PageMedia:
    peer_id: str
    site: str | None
    staff: bool
    send: Send
    offered: bool = False


@dataclass
class ConferenceMedia:
    forwarder: Any
    pages: dict[str, PageMedia] = field(default_factory=dict)
    publisher: dict[str, str] = field(default_factory=dict)      # site -> peer id
    levels: dict[str, int] = field(default_factory=dict)          # site -> level (0 loud .. 127 silent)
    sent_levels: dict[str, int] = field(default_factory=dict)
    on_air: frozenset[str] = frozenset()                          # sites whose audio is forwarded
    previews: dict[str, list[str]] = field(default_factory=dict)  # viewer peer -> site codes it shows
    poor_links: dict[str, p.LinkQuality] = field(default_factory=dict)  # site -> why it is on audio only
    scope: MediaScope = NOTHING                                   # what the conference's phase lets through
    media_states: dict[str, p.SiteMediaState] = field(default_factory=dict)  # site -> as its page reported it
    share: str | None = None                                      # the peer whose screen share is forwarded
    offered_at: dict[str, float] = field(default_factory=dict)    # site -> when its publisher offered (wall clock)
    relayed: dict[str, str] = field(default_factory=dict)         # site -> peer id pulled from another process
    wanted: frozenset[str] = frozenset()                          # sites whose media the pages here need now
    remote_states: dict[str, p.SiteMediaState] = field(default_factory=dict)  # site on another process -> its state


def media_config(settings: MediaSettings) -> MediaConfig:
    servers = tuple(IceServer(urls=tuple([s["urls"]] if isinstance(s["urls"], str) else s["urls"]),  # type: ignore[arg-type]
                              username=s.get("username"), credential=s.get("credential"))  # type: ignore[arg-type]
                    for s in settings.ice_servers)
    # relays only when asked for (serve --redis): the single-process default's config is as before
    relay: dict[str, Any] = {} if settings.relay_host is None else {
        "relay_host": settings.relay_host, "relay_ports": settings.relay_ports,
        "relay_announce": settings.relay_announce}
    return MediaConfig(ice_servers=servers, gather_addresses=settings.gather_addresses,
                       announced_address=settings.announced_address, **relay)


class MediaPlane:
    def __init__(self, settings: MediaSettings, peer_tag: str | None = None) -> None:
        self.settings = settings
        self.peer_tag = peer_tag
        self.on_change: list[Callable[[str], None]] = []
        """Told (conference) when its publishers or the sites its pages need changed (the cluster)."""
        self.config = media_config(settings)
        self.conferences: dict[str, ConferenceMedia] = {}
        self.hubs: dict[str, StreamHub[ConferenceState | None]] = {}
        self._numbers = itertools.count(1)
        self._levels_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._levels_task = asyncio.create_task(self._send_levels(), name="media-levels")

    async def close(self) -> None:
        if self._levels_task is not None:
            self._levels_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._levels_task
        for cm in self.conferences.values():
            await cm.forwarder.close()
        self.conferences.clear()

    def new_peer_id(self, actor_kind: ActorKind, actor_id: str) -> str:
        prefix = actor_id if actor_kind is ActorKind.SITE else f"@{actor_id}"
        tag = f"{self.peer_tag}." if self.peer_tag else ""
        return f"{prefix}/{tag}{next(self._numbers)}"

    # -- pages -----------------------------------------------------------------------------
    async def _conference(self, conf_id: str) -> ConferenceMedia:
        async with self._lock:
            cm = self.conferences.get(conf_id)
            if cm is None:
                kind: Any = WorkerForwarder if self.settings.workers > 0 else Forwarder
                fwd = kind(self.config, on_audio_level=lambda peer, lvl: self._level(conf_id, peer, lvl),
                           on_publish_hint=lambda peer, hint: self._hint(conf_id, peer, hint),
                           on_link_quality=lambda peer, q: self._link_quality(conf_id, peer, q))
                await fwd.start()
                cm = self.conferences[conf_id] = ConferenceMedia(fwd)
            return cm

    # -- recording (reactors/recorder.py) ----------------------------------------------------
    async def start_recording(self, conf_id: str, path: str, title: str) -> None:
        """Record the conference's program (and its screen share, beside it) to ``path``; raises
        ``MediaError`` (already recording, a path it cannot write)."""
        cm = await self._conference(conf_id)
        result = cm.forwarder.start_recording(path, title=title)   # a worker's is a coroutine
        if asyncio.iscoroutine(result):
            await result

    def mark_chapter(self, conf_id: str, title: str) -> None:
        """A chapter in the conference's recording, now; nothing when it has no media."""
        cm = self.conferences.get(conf_id)
        if cm is not None:
            cm.forwarder.mark_chapter(title)

    async def stop_recording(self, conf_id: str) -> RecordingInfo | None:
        """Close the conference's recording: what was written, or None when it has no media."""
        cm = self.conferences.get(conf_id)
        if cm is None:
            return None
        info: RecordingInfo = await cm.forwarder.stop_recording()
        return info

    def watch(self, hub: StreamHub[ConferenceState | None]) -> None:
        """Steer a conference's forwarder from its log."""
        def on_events(events: tuple[Event, ...]) -> None:
            if hub.state is not None and any(isinstance(e, STEERING) for e in events):
                self._steer(hub.state)
        hub.on_events.append(on_events)
        if hub.state is not None:
            self.hubs[hub.state.conference_id] = hub
        else:
            def adopt(events: tuple[Event, ...]) -> None:
                if hub.state is not None:
                    self.hubs.setdefault(hub.state.conference_id, hub)
            hub.on_events.append(adopt)

    async def attach(self, conf_id: str, peer_id: str, site: str | None, roles: frozenset[Role], send: Send) -> None:
        cm = await self._conference(conf_id)
        page = cm.pages[peer_id] = PageMedia(peer_id, site, bool(roles & STAFF_ROLES), send)
        if page.staff:
            for msg in [*cm.poor_links.values(), *cm.remote_states.values(), *cm.media_states.values()]:
                await send(msg)

    async def detach(self, conf_id: str, peer_id: str) -> None:
        cm = self.conferences.get(conf_id)
        if cm is None or cm.pages.pop(peer_id, None) is None:
            return
        cm.previews.pop(peer_id, None)
        with contextlib.suppress(MediaError):
            await cm.forwarder.remove_peer(peer_id)
        for site, peer in list(cm.publisher.items()):
            if peer == peer_id:
                others = [pg.peer_id for pg in cm.pages.values() if pg.site == site and pg.offered]
                if others:
                    cm.publisher[site] = others[-1]
                else:
                    del cm.publisher[site]
                    cm.offered_at.pop(site, None)
                    cm.levels.pop(site, None)
                    if cm.poor_links.pop(site, None) is not None:
                        self._tell_staff(cm, p.LinkQuality(site=site, audio_only=False))
                    if cm.media_states.pop(site, None) is not None:
                        self._tell_staff(cm, p.SiteMediaState(site=site, state=None))
                self._changed(conf_id)
        self._steer_id(conf_id)

    async def handle(self, conf_id: str, peer_id: str, msg: Any) -> p.ServerMessage | None:
        cm = self.conferences.get(conf_id)
        page = cm.pages.get(peer_id) if cm else None
        if cm is None or page is None:
            return p.Error(code="media_error", message="say hello first", ref=_tag(msg))
        try:
            if isinstance(msg, p.Offer):
                answer = await cm.forwarder.accept_offer(peer_id, msg.sdp)
                page.offered = True
                if page.site is not None:
                    cm.publisher[page.site] = peer_id
                    cm.offered_at[page.site] = time.time()
                    cm.relayed.pop(page.site, None)      # its own page here now
                    self._media_state(cm, page, "renegotiating")
                    self._changed(conf_id)
                self._steer_id(conf_id)
                return p.Answer(sdp=answer)
            if isinstance(msg, p.Candidate):
                await cm.forwarder.add_candidate(peer_id, {"candidate": msg.candidate, "sdpMid": msg.sdpMid,
                                                           "sdpMLineIndex": msg.sdpMLineIndex})
                return None
            if isinstance(msg, p.MediaState):
                self._media_state(cm, page, msg.state)
                return None
            if isinstance(msg, p.MediaPrefs):
                if msg.audio_only is not None:
                    cm.forwarder.set_audio_only(peer_id, msg.audio_only)
                if msg.previews is not None:
                    if len(msg.previews) > 64:
                        return p.Error(code="media_error", message="at most 64 previews at once", ref="media_prefs")
                    cm.previews[peer_id] = list(msg.previews)
                    self._apply_previews(cm, peer_id)
                    self._steer_id(conf_id)     # the sites the pages here need changed
                return None
        except MediaError as exc:
            return p.Error(code=str(exc.code), message=exc.message, ref=_tag(msg))
        return p.Error(code="bad_message", message="not a media message", ref=_tag(msg))

    # -- steering --------------------------------------------------------------------------
    def resteer(self, conf_id: str) -> None:
        """Steer again (the cluster opened or closed a relay)."""
        self._steer_id(conf_id)

    def _steer_id(self, conf_id: str) -> None:
        hub = self.hubs.get(conf_id)
        if hub is not None and hub.state is not None:
            self._steer(hub.state)

    def _steer(self, state: ConferenceState) -> None:
        cm = self.conferences.get(state.conference_id)
        if cm is None:
            return
        # one call with the whole decision: the forwarder reroutes only what changed; the phase
        # decides what may flow at all (nothing before the rehearsal or after the end)
        scope = cm.scope = media_scope(state.phase)
        program = state.main_site if scope.program else None
        source = {**cm.relayed, **cm.publisher}      # site -> peer: pulled from another process, or here
        speakers = [s for s in state.floor.speakers if s in source] if scope.floor else []
        cm.forwarder.steer(source.get(program) if program else None,
                           [source[s] for s in speakers],
                           [source[s] for s in state.floor.muted if s in source])
        # the share follows the domain (who shares) and the phase (as the program does); the
        # forwarder sends it only to pages that offered a share slot and receive video
        sharer = sharing_now(state) if scope.program else None
        share = source.get(sharer) if sharer else None
        if share != cm.share:
            cm.share = share
            cm.forwarder.set_share(share)
        # levels are shown for the sites on air only; previews follow their sites' current pages
        cm.on_air = frozenset({*([program] if program else []), *speakers}) - state.floor.muted
        cm.levels = {s: lvl for s, lvl in cm.levels.items() if s in cm.on_air}
        for viewer in cm.previews:
            self._apply_previews(cm, viewer)
        # what the pages here need, wherever it publishes (the cluster pulls what is elsewhere)
        previewed = {s for shown in cm.previews.values() for s in shown} if scope.previews else set()
        wanted = frozenset({*([program] if program else []), *(state.floor.speakers if scope.floor else ()),
                            *([sharer] if sharer else []), *previewed})
        if wanted != cm.wanted:
            cm.wanted = wanted
            self._changed(state.conference_id)

    def _changed(self, conf_id: str) -> None:
        for listener in self.on_change:
            listener(conf_id)

    @staticmethod
    def _apply_previews(cm: ConferenceMedia, viewer: str) -> None:
        shown = cm.previews.get(viewer, ()) if cm.scope.previews else ()
        source = {**cm.relayed, **cm.publisher}
        cm.forwarder.set_previews(viewer, [source[s] for s in shown if s in source])

    # -- callbacks from the forwarder ------------------------------------------------------
    def _level(self, conf_id: str, peer_id: str, level: int) -> None:
        cm = self.conferences.get(conf_id)
        if cm is None:
            return
        page = cm.pages.get(peer_id)
        site = page.site if page is not None else next((s for s, p in cm.relayed.items() if p == peer_id), None)
        if site is not None and site in cm.on_air:    # a page here, or a publisher pulled over a relay
            cm.levels[site] = level

    def _hint(self, conf_id: str, peer_id: str, hint: PublishHint) -> None:
        cm = self.conferences.get(conf_id)
        page = cm.pages.get(peer_id) if cm else None
        if page is not None:
            msg = p.Publish(audio=hint.audio, video=hint.video.value)
            post(page, msg)

    def _link_quality(self, conf_id: str, peer_id: str, q: LinkQuality) -> None:
        """The forwarder put a page on audio only (poor link) or gave it video back: tell the
        page, and the staff pages when it is a site's publishing page."""
        cm = self.conferences.get(conf_id)
        page = cm.pages.get(peer_id) if cm else None
        if cm is None or page is None:
            return
        msg = p.LinkQuality(site=page.site, audio_only=q.audio_only, reason=q.reason, loss=q.loss)
        post(page, msg)
        if page.site is None or cm.publisher.get(page.site) != peer_id:
            return
        if q.audio_only:
            cm.poor_links[page.site] = msg
        else:
            cm.poor_links.pop(page.site, None)
        self._tell_staff(cm, msg)

    def _media_state(self, cm: ConferenceMedia, page: PageMedia, state: p.MediaStateName) -> None:
        """A site's publishing page says how its media fares: the staff pages are told on a change
        (a staff page's own state, or a site's older page, concerns nobody else)."""
        if page.site is None or cm.publisher.get(page.site) != page.peer_id:
            return
        old = cm.media_states.get(page.site)
        if old is not None and old.state == state:
            return
        msg = cm.media_states[page.site] = p.SiteMediaState(site=page.site, state=state)
        self._tell_staff(cm, msg)

    def remote_states(self, conf_id: str, states: dict[str, str]) -> None:
        """The media states of the sites publishing on other processes (the cluster reads them
        from the board): the staff pages here are told the changes, as for a page here."""
        cm = self.conferences.get(conf_id)
        if cm is None:
            return
        for site in [s for s in cm.remote_states if s not in states]:
            del cm.remote_states[site]
            if site not in cm.publisher:
                self._tell_staff(cm, p.SiteMediaState(site=site, state=None))
        for site, state in states.items():
            old = cm.remote_states.get(site)
            if state not in ("flowing", "stalled", "renegotiating") or (old is not None and old.state == state):
                continue
            msg = cm.remote_states[site] = p.SiteMediaState(site=site, state=state)  # type: ignore[arg-type]
            self._tell_staff(cm, msg)

    @staticmethod
    def _tell_staff(cm: ConferenceMedia, msg: p.ServerMessage) -> None:
        for other in list(cm.pages.values()):
            if other.staff:
                post(other, msg)

    async def _send_levels(self) -> None:
        while True:
            await asyncio.sleep(LEVELS_EVERY_S)
            for cm in list(self.conferences.values()):
                if cm.levels == cm.sent_levels:
                    continue
                cm.sent_levels = dict(cm.levels)
                loud = [(lvl, s) for s, lvl in cm.levels.items() if lvl < 50]
                self._tell_staff(cm, p.Levels(levels=dict(cm.levels), active=min(loud)[1] if loud else None))

    def stats(self) -> dict[str, Any]:
        return {conf: cm.forwarder.stats() for conf, cm in self.conferences.items()}


def post(page: PageMedia, msg: p.ServerMessage) -> None:
    """Send to a page without waiting for it; a page that closed meanwhile is no error."""
    async def send() -> None:
        with contextlib.suppress(Exception):
            await page.send(msg)
    asyncio.ensure_future(send())


def _tag(msg: Any) -> str:
    return str(getattr(getattr(msg, "__struct_config__", None), "tag", "media"))
