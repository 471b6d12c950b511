"""The selective forwarder: the control interface the signaling server drives.

::

    fwd = Forwarder(MediaConfig(gather_addresses=("127.0.0.1",)))
    await fwd.start()
    answer = await fwd.accept_offer("site-3", offer_sdp)   # one peer connection per site
    await fwd.add_candidate("site-3", {"candidate": "...", "sdpMid": "0"})
    fwd.set_program("main")            # the main bridge's m0/m1 go to every site
    fwd.set_speakers(["site-3"])       # floor holders fill the speaker slots
    ...
    await fwd.close()

Control calls are synchronous and cheap: they change the :class:`ControlState`,
and the routing (:mod:`media.routing`) re-points outputs without renegotiation.
All of it runs on the caller's event loop; :mod:`media.worker` runs it in a
child process instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .checks import check_ids, check_peer_id, parse_candidate
from .config import MediaConfig
from .control_timing import ControlTiming
from .errors import ErrorCode, MediaError
from .recording import TRACKS, Recorder, RecordingInfo
from .relay import RelayHub, RelayIn, RelayLink
from .routing import (
    ControlState,
    PublishHint,
    control_change,
    on_air,
    previewed,
    publish_hint,
    source_name,
    subscriber_plan,
)
from .session import PeerState, SitePeer
from .streams import Output, Source, monotonic, rebind

logger = logging.getLogger(__name__)

AudioLevelCallback = Callable[[str, int], None]
PeerStateCallback = Callable[[str, PeerState], None]
PublishHintCallback = Callable[[str, PublishHint], None]
LinkQualityCallback = Callable[[str, "LinkQuality"], None]
RelayStateCallback = Callable[[str, str], None]


@dataclass(frozen=True)
class LinkQuality:
    """The automatic audio-only fallback of one site changed (see :mod:`media.quality`)."""

    audio_only: bool
    reason: str
    """``"loss"`` or ``"bandwidth"`` when falling back; empty when video comes back."""
    loss: float
    """The last fraction lost on the way to the site (0..1)."""


@dataclass(frozen=True)
class RecorderTap:
    """What feeds one track of the recording: a source and the tap on it."""

    source: Source | None
    tap: Callable[[bytes], None]


class Forwarder:
    """A selective forwarder on aiortc; see docs/media.md."""

    def __init__(
        self,
        config: MediaConfig,
        on_audio_level: AudioLevelCallback | None = None,
        on_peer_state: PeerStateCallback | None = None,
        on_publish_hint: PublishHintCallback | None = None,
        on_link_quality: LinkQualityCallback | None = None,
    ) -> None:
        self.config = config
        self.on_audio_level = on_audio_level
        self.on_peer_state = on_peer_state
        self.on_publish_hint = on_publish_hint
        self.on_link_quality = on_link_quality
        self._peers: dict[str, SitePeer] = {}
        self._control = ControlState()
        self._hints: dict[str, PublishHint] = {}
        self._waiting: set[Output] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._running = False
        self._started_at = 0.0
        self._recorder: Recorder | None = None
        self._rec_taps: dict[str, RecorderTap] = {}
        self._timing = ControlTiming()
        self.relay_state_changed: RelayStateCallback | None = None
        """``(link_id, "flowing" | "stalled")`` of the relay links this forwarder is the edge of."""
        self._relays = RelayHub(config, self._output_waiting, self._relay_state)

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._started_at = monotonic()
        await self._relays.start()
        self._task = asyncio.create_task(self._tick(), name="forwarder-tick")

    async def close(self) -> None:
        self._running = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._relays.close()
        if self._recorder is not None:
            try:
                await self.stop_recording()
            except MediaError:
                logger.exception("closing the recording failed")
        peers = list(self._peers.values())
        self._peers.clear()
        await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _check_running(self) -> None:
        if not self._running:
            raise MediaError(ErrorCode.NOT_RUNNING, "the forwarder is not started or is closed")

    # -- peers -----------------------------------------------------------------------

    async def accept_offer(self, peer_id: str, sdp: str) -> str:
        """Answer a site's offer. A new offer for a known peer replaces its connection
        (that is how a site reconnects); the chair's decisions about it stay."""
        self._check_running()
        check_peer_id(peer_id)
        old = self._peers.pop(peer_id, None)
        if old is not None:
            self._close_later(old)
        peer = SitePeer(peer_id, self.config, self._peer_state_changed, self._output_waiting)
        if old is not None:
            peer.guard = old.guard  # a reconnecting site keeps its link's history
        self._peers[peer_id] = peer
        try:
            answer = await peer.negotiate(sdp)
        except BaseException as exc:
            if self._peers.get(peer_id) is peer:
                del self._peers[peer_id]
            self._close_later(peer)
            if isinstance(exc, MediaError | asyncio.CancelledError):
                raise
            logger.exception("negotiation with %s failed", peer_id)
            raise MediaError(ErrorCode.BAD_SDP, f"negotiation failed: {exc}") from None
        if self._peers.get(peer_id) is not peer:  # superseded or removed meanwhile
            self._close_later(peer)
            raise MediaError(ErrorCode.PEER_CLOSED, "a newer offer or a removal replaced this one")
        pending, peer.pending_candidates = peer.pending_candidates, []
        for cand in pending:
            await self._add_parsed_candidate(peer, cand)
        return answer

    async def add_candidate(self, peer_id: str, candidate: dict[str, Any] | None) -> None:
        """A trickled ICE candidate from the site (``RTCIceCandidate.toJSON()``); an
        empty ``candidate`` string or None ends the candidates."""
        self._check_running()
        check_peer_id(peer_id)
        peer = self._peers.get(peer_id)
        if peer is None:
            raise MediaError(ErrorCode.UNKNOWN_PEER, f"no peer {peer_id!r}; send an offer first")
        if peer.state is PeerState.CLOSED:
            raise MediaError(ErrorCode.PEER_CLOSED, f"peer {peer_id!r} is closed; send a new offer")
        parsed = parse_candidate(candidate)
        if peer.state is PeerState.NEGOTIATING:
            peer.pending_candidates.append(parsed)
            return
        await self._add_parsed_candidate(peer, parsed)

    async def _add_parsed_candidate(self, peer: SitePeer, parsed: tuple[Any, str | None, int | None]) -> None:
        cand, mid, index = parsed
        if peer.link is None or peer.layout is None:
            return
        first = peer.layout.slots[0].mid
        if cand is None:
            await peer.link.pc.addIceCandidate(None)
            return
        if mid is not None and mid != first or mid is None and index not in (None, 0):
            return  # a candidate of a bundled-away m-line: the bundle uses m0's transport
        cand.sdpMid, cand.sdpMLineIndex = first, 0
        await peer.link.pc.addIceCandidate(cand)

    async def remove_peer(self, peer_id: str) -> None:
        """Forget a site and close its connection (idempotent)."""
        peer = self._peers.pop(peer_id, None)
        if peer is None:
            return
        peer.detach()
        if peer_id in self._control.poor_links:
            self._control = replace(self._control, poor_links=self._control.poor_links - {peer_id})
        self._peer_changed(peer)
        await peer.close()

    def _close_later(self, peer: SitePeer) -> None:
        peer.detach()
        task = asyncio.ensure_future(peer.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _peer_state_changed(self, peer: SitePeer) -> None:
        if self._peers.get(peer.peer_id) is not peer:
            return
        if peer.state is PeerState.CLOSED:
            peer.detach()
            self._close_later(peer)
        self._peer_changed(peer)
        if peer.state is PeerState.CONNECTED:
            self._emit_hint(peer.peer_id, force=True)
        if self.on_peer_state is not None:
            try:
                self.on_peer_state(peer.peer_id, peer.state)
            except Exception:
                logger.exception("on_peer_state callback failed")

    def _output_waiting(self, out: Output, on: bool) -> None:
        if out.kind != "video":
            return
        if on:
            self._waiting.add(out)
        else:
            self._waiting.discard(out)

    def peer_state(self, peer_id: str) -> PeerState | None:
        peer = self._peers.get(peer_id)
        return peer.state if peer else None

    # -- control ------------------------------------------------------------------------

    def steer(self, program: str | None, speakers: Sequence[str], muted: Collection[str]) -> None:
        """The conference's decisions in one call: the program, the floor holders in slot
        order, and every muted site (a site not listed is not muted). Only what changed is
        rerouted, so a floor change or a mute-all costs O(sites it changes)."""
        if program is not None:
            check_peer_id(program)
        floor = check_ids(speakers, "speakers")
        silenced = frozenset(check_ids(list(muted), "muted"))
        self._chapters(program, floor)
        self._update(replace(self._control, program=program, speakers=floor, muted=silenced), "steer")

    def set_program(self, peer_id: str | None) -> None:
        """The main bridge's publisher: its m0/m1 go to every site's m0/m1."""
        if peer_id is not None:
            check_peer_id(peer_id)
        self._chapters(peer_id, self._control.speakers)
        self._update(replace(self._control, program=peer_id), "program")

    def set_speakers(self, peer_ids: Sequence[str]) -> None:
        """Floor holders, in slot order: speaker slot i of every site shows peer_ids[i]."""
        speakers = check_ids(peer_ids, "speakers")
        self._chapters(self._control.program, speakers)
        self._update(replace(self._control, speakers=speakers), "speakers")

    def set_muted(self, peer_id: str, muted: bool) -> None:
        """A muted site's audio is dropped on arrival and its hint says not to send it."""
        check_peer_id(peer_id)
        silenced = self._control.muted | {peer_id} if muted else self._control.muted - {peer_id}
        self._update(replace(self._control, muted=silenced), "muted")

    def set_audio_only(self, peer_id: str, on: bool) -> None:
        """This site chose to receive no video at all, until switched back. (The forwarder
        also does it by itself to a site whose link loses too much: ``poor_links``.)"""
        check_peer_id(peer_id)
        chosen = self._control.audio_only | {peer_id} if on else self._control.audio_only - {peer_id}
        self._update(replace(self._control, audio_only=chosen), "audio_only")

    def set_previews(self, viewer_id: str, peer_ids: Sequence[str]) -> None:
        """Fill the viewer's preview slots, in order, with these sites' cameras."""
        check_peer_id(viewer_id)
        ids = check_ids(peer_ids, "previews")
        if len(ids) > self.config.max_preview_slots:
            raise MediaError(ErrorCode.BAD_ARGUMENT, f"at most {self.config.max_preview_slots} previews")
        if self._control.previews.get(viewer_id, ()) == ids:
            return
        previews = dict(self._control.previews)
        if ids:
            previews[viewer_id] = ids
        else:
            previews.pop(viewer_id, None)
        self._update(replace(self._control, previews=previews), "previews")

    def set_share(self, peer_id: str | None) -> None:
        """The presenter: its screen share (m-line 2) goes to the share slot of every site that
        offered one and receives video; ``None`` stops the share. Each site's share starts on a
        keyframe (requested at once, like any switch), on the same outgoing SSRC every time."""
        if peer_id is not None:
            check_peer_id(peer_id)
        self._update(replace(self._control, share=peer_id), "share")

    @property
    def control(self) -> ControlState:
        return self._control

    @property
    def control_timing(self) -> ControlTiming:
        """How long the control calls took (the benchmark's figure)."""
        return self._timing

    def _chapters(self, program: str | None, speakers: tuple[str, ...]) -> None:
        if self._recorder is None:
            return
        if program != self._control.program:
            self._recorder.chapter(f"Program: {program or '-'}")
        if speakers != self._control.speakers:
            self._recorder.chapter(f"Floor: {', '.join(speakers) or '-'}")

    def _update(self, state: ControlState, what: str) -> None:
        """Apply a new control state: reroute the subscribers it concerns, tell the sites
        whose hint changed. ``what`` names the change in :attr:`control_timing`."""
        started = time.perf_counter()
        old, self._control = self._control, state
        change = control_change(old, state)
        for pid in change.muted:
            peer = self._peers.get(pid) or self._relays.inbound.get(pid)
            audio = peer.sources.get("audio") if peer is not None else None
            if audio is not None:
                audio.enabled = pid not in state.muted
        self._reroute(self._peers.keys() if change.everyone else change.subscribers)
        if change.hints:
            shown = previewed(state) | self._relays.out_peers
            for pid in change.hints:
                if pid in self._peers:
                    self._emit_hint(pid, shown=shown)
        if self._recorder is not None and change.everyone:
            self._route_recorder()
        self._timing.add(what, started, time.perf_counter() - started)

    def _peer_changed(self, peer: SitePeer | RelayIn) -> None:
        """A site connected, closed or left: reroute it and whoever receives it."""
        pid = peer.peer_id
        state = self._control
        connected = self._connected(pid)
        self._relays.publisher_changed(pid, connected.sources if connected is not None else None)
        if pid in on_air(state):
            self._reroute(self._peers.keys())
        else:
            self._reroute({pid, *(v for v, shown in state.previews.items() if pid in shown)})
        if self._recorder is not None:
            self._route_recorder()

    def _reroute(self, subscribers: Iterable[str]) -> None:
        """Bind these subscribers' outputs to what the routing plan says, in one batch."""
        state = self._control
        peers = self._peers
        publisher_of = self._publisher
        moves: list[tuple[Output, Source | None]] = []
        for pid in subscribers:
            peer = peers.get(pid)
            if peer is None:
                continue
            audio = peer.sources.get("audio")
            if audio is not None:
                audio.enabled = pid not in state.muted
            if peer.state is not PeerState.CONNECTED:
                moves += [(out, None) for out in peer.outputs.values() if out.source is not None]
                continue
            want = subscriber_plan(pid, peer.slots, state)
            for key, out in peer.outputs.items():
                publisher = publisher_of(want.get(key, ""))
                source = publisher.sources.get(source_name(key)) if publisher is not None else None
                if out.source is not source:
                    moves.append((out, source))
        rebind(moves)

    # -- recording ---------------------------------------------------------------------------

    def start_recording(self, path: str, title: str = "Start") -> None:
        """Record the program and the first floor holder to ``path`` (.webm), no re-encoding.
        Floor and program changes add chapters by themselves; see :meth:`mark_chapter`."""
        self._check_running()
        if self._recorder is not None:
            raise MediaError(ErrorCode.BAD_ARGUMENT, "already recording")
        self._recorder = Recorder(path)
        self._recorder.chapter(title)
        self._route_recorder()

    def mark_chapter(self, title: str) -> None:
        """A chapter mark in the recording (an agenda item, say); ignored when not recording."""
        if self._recorder is not None:
            self._recorder.chapter(title)

    async def stop_recording(self) -> RecordingInfo:
        recorder = self._recorder
        if recorder is None:
            raise MediaError(ErrorCode.BAD_ARGUMENT, "not recording")
        self._recorder = None
        for rec in self._rec_taps.values():
            if rec.source is not None and rec.tap in rec.source.taps:
                rec.source.taps.remove(rec.tap)
        self._rec_taps.clear()
        return await asyncio.get_running_loop().run_in_executor(None, recorder.close)

    def _route_recorder(self) -> None:
        recorder = self._recorder
        assert recorder is not None
        state = self._control
        program = self._publisher(state.program)
        speaker = self._publisher(state.speakers[0] if state.speakers else None)
        for name in TRACKS:
            role, kind = name.split("/")
            peer = program if role == "program" else speaker
            source = peer.sources.get(kind) if peer is not None else None
            current = self._rec_taps.get(name)
            if current is not None and current.source is source:
                continue
            if current is not None and current.source is not None and current.tap in current.source.taps:
                current.source.taps.remove(current.tap)
            recorder.tracks[name].rebind()
            tap = recorder.tap(name)
            self._rec_taps[name] = RecorderTap(source, tap)
            if source is not None:
                source.taps = [*source.taps, tap]
                if kind == "video":
                    source.request_keyframe()

    def _connected(self, peer_id: str | None) -> SitePeer | None:
        peer = self._peers.get(peer_id) if peer_id is not None else None
        return peer if peer is not None and peer.state is PeerState.CONNECTED else None

    def _publisher(self, peer_id: str | None) -> SitePeer | RelayIn | None:
        """Whose sources feed ``peer_id``'s slots here: the site itself when it is connected
        to this forwarder, else the relay link that brings it from another one."""
        if peer_id is None:
            return None
        peer = self._peers.get(peer_id)
        if peer is not None and peer.state is PeerState.CONNECTED:
            return peer
        return self._relays.inbound.get(peer_id)

    # -- relays between forwarders (media/relay.py) --------------------------------------------

    @property
    def relay_address(self) -> tuple[str, int] | None:
        """Where other forwarders send this one relay packets (None: relays off)."""
        return self._relays.address

    async def open_relay_out(self, link: RelayLink) -> None:
        """Origin: send ``link.peer_id``'s audio, video and share to ``link.remote`` (idempotent)."""
        self._check_running()
        _check_link(link)
        peer = self._connected(link.peer_id)
        self._relays.open_out(link, peer.sources if peer is not None else None)
        if link.peer_id in self._peers:
            self._emit_hint(link.peer_id)  # relayed: at least a preview, like a site on a wall

    async def open_relay_in(self, link: RelayLink) -> None:
        """Edge: take ``link.peer_id``'s streams from ``link.remote``; from now on that peer id
        routes (steer, set_share, set_previews) like a local publisher (idempotent)."""
        self._check_running()
        _check_link(link)
        relay = self._relays.open_in(link)
        if relay is not None:
            relay.sources["audio"].enabled = link.peer_id not in self._control.muted
            self._peer_changed(relay)

    async def close_relay(self, link_id: str) -> None:
        """Close a relay link, either side (idempotent)."""
        if not isinstance(link_id, str):
            raise MediaError(ErrorCode.BAD_ARGUMENT, "link_id must be a string")
        gone = self._relays.close_link(link_id)
        if isinstance(gone, RelayIn):
            self._peer_changed(gone)
        elif gone is not None and gone.link.peer_id in self._peers:
            self._emit_hint(gone.link.peer_id)

    def relay_stats(self) -> dict[str, Any]:
        """``{"links": {link_id: {...}}, "dropped_unknown": n, ...}``: see docs/media.md."""
        return self._relays.stats()

    def _relay_state(self, link_id: str, state: str) -> None:
        if self.relay_state_changed is not None:
            self.relay_state_changed(link_id, state)

    def _emit_hint(self, peer_id: str, force: bool = False, shown: frozenset[str] | None = None) -> None:
        """``shown``: the sites some viewer previews, here or through a relay (computed when None)."""
        if shown is None:
            shown = previewed(self._control) | self._relays.out_peers
        hint = publish_hint(peer_id, self._control, shown)
        if not force and self._hints.get(peer_id) == hint:
            return
        self._hints[peer_id] = hint
        if self.on_publish_hint is not None:
            try:
                self.on_publish_hint(peer_id, hint)
            except Exception:
                logger.exception("on_publish_hint callback failed")

    # -- periodic work --------------------------------------------------------------------

    async def _tick(self) -> None:
        interval = min(self.config.audio_level_interval, 0.25)
        next_rtcp = monotonic() + self.config.rtcp_interval
        while True:
            await asyncio.sleep(interval)
            now = monotonic()
            try:
                self._report_levels()
                self._retry_keyframes(now)
                if now >= next_rtcp:
                    next_rtcp = now + self.config.rtcp_interval
                    unix_now = time.time()
                    for peer in list(self._peers.values()):
                        peer.check_path()
                        peer.send_reports(now, unix_now, self.config.max_video_bitrate)
                    self._watch_links(now)
            except Exception:
                logger.exception("forwarder tick failed")

    def _watch_links(self, now: float) -> None:
        """The automatic audio-only fallback: one reading per connected site and interval."""
        poor = set(self._control.poor_links)
        changed: list[tuple[str, LinkQuality]] = []
        for pid, peer in self._peers.items():
            if peer.state is not PeerState.CONNECTED:
                continue
            reading = peer.take_reading()
            if not self.config.auto_audio_only:
                continue
            turn = peer.guard.observe(now, reading)
            if turn is None:
                continue
            if turn:
                poor.add(pid)
            else:
                poor.discard(pid)
            changed.append((pid, LinkQuality(turn, peer.guard.reason, round(peer.guard.loss, 3))))
        if not changed:
            return
        self._update(replace(self._control, poor_links=frozenset(poor)), "links")
        for pid, quality in changed:
            logger.info("%s: %s", pid, "audio only (poor link)" if quality.audio_only else "video back")
            if self.on_link_quality is not None:
                try:
                    self.on_link_quality(pid, quality)
                except Exception:
                    logger.exception("on_link_quality callback failed")

    def _report_levels(self) -> None:
        """Each publisher's loudest level of the interval, local or relayed (relay links
        carry the origin's levels; a local publisher's go up its relay links too)."""
        cb = self.on_audio_level
        relayed = self._relays.out_peers
        for peer in [*self._peers.values(), *self._relays.inbound.values()]:
            src = peer.sources.get("audio")
            if src is None or src.level >= 128:
                continue
            level, src.level = src.level, 128
            if peer.peer_id in relayed:
                self._relays.send_level(peer.peer_id, level)
            if cb is not None:
                try:
                    cb(peer.peer_id, level)
                except Exception:
                    logger.exception("on_audio_level callback failed")

    def _retry_keyframes(self, now: float) -> None:
        retry = self.config.keyframe_retry
        for out in list(self._waiting):
            if out.source is not None and now - out.waiting_since >= retry:
                out.waiting_since = now
                out.source.request_keyframe()

    # -- figures ------------------------------------------------------------------------------

    def stats(self, per_peer: bool = True) -> dict[str, Any]:
        """Totals, the control state and (unless ``per_peer`` is false) per-peer figures:
        packets/frames in and out, keyframe requests, waits, losses."""
        totals = {
            "peers": len(self._peers),
            "connected": sum(1 for p in self._peers.values() if p.state is PeerState.CONNECTED),
            "packets_in": 0, "octets_in": 0, "packets_out": 0, "octets_out": 0,
            "frames_out": 0, "keyframe_requests_sent": 0, "keyframe_requests_received": 0,
            "retransmits": 0, "send_errors": 0,
            "at": monotonic(), "cpu_time": time.process_time(),
        }  # fmt: skip
        for p in self._peers.values():
            for src in p.sources.values():
                totals["packets_in"] += src.packets
                totals["octets_in"] += src.octets
                totals["keyframe_requests_sent"] += src.kf_requests
            for out in p.outputs.values():
                packets, octets, frames = out.sent()
                totals["packets_out"] += packets
                totals["octets_out"] += octets
                totals["frames_out"] += frames if out.kind == "video" else 0
                totals["retransmits"] += out.retransmits
                totals["send_errors"] += out.errors
            totals["keyframe_requests_received"] += p.keyframe_requests_received
        c = self._control
        control = {
            "program": c.program,
            "speakers": list(c.speakers),
            "muted": sorted(c.muted),
            "audio_only": sorted(c.audio_only),
            "poor_links": sorted(c.poor_links),
            "previews": {k: list(v) for k, v in c.previews.items()},
            "share": c.share,
            "timing": self._timing.figures(),
        }
        out_stats: dict[str, Any] = {"totals": totals, "control": control}
        if per_peer:
            out_stats["peers"] = {pid: p.stats() for pid, p in self._peers.items()}
        return out_stats


def _check_link(link: object) -> None:
    if not isinstance(link, RelayLink):
        raise MediaError(ErrorCode.BAD_ARGUMENT, "expected a media.relay.RelayLink")
