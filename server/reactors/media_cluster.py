"""The media plane across processes (issue 15): which process holds which publisher, and
the relays between forwarders that carry a publisher to the processes whose pages need it.

Each media process has a process id and one record on the shared board (Redis), leased: it
disappears ``LEASE_S`` after the process stops renewing it (``kill -9``), and with it
everything the process said. A record says

    pubs    the sites whose publishing page is on this process: conference, site, the page's
            peer id, this process's relay address for that conference, when the page offered
    wants   the relays this process receives: link id, conference, peer id, the origin process,
            this process's relay address and the SRTP key it chose

Every ``POLL_S`` (and at once when the conference's steering or publishers change) a process
reads the live records and decides, with two pure functions:

- :func:`sources`: which of the sites its pages need now (program, floor speakers, share,
  the chair's previews) it must pull, and from which process. It opens the relay in (its
  forwarder now knows the origin's peer id as a local publisher) and steers with it.
- :func:`to_serve`: which relays other processes want from it; it opens the relay out
  (and closes those nobody wants any more).

A publisher that moves (a new floor holder on another process, a page that re-offered on
another process after a failover) is a new publication: the edges re-point their relays to
the most recent one. When Redis is unreachable nothing is closed: media already flowing goes
on, new relays wait, and the pages are told (``media_relays``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec

from media import MediaError
from media.relay import RelayLink

from .. import protocol as p
from ..store import StoreError
from .media_plane import ConferenceMedia, MediaPlane, post
from .relay_plan import (
    MAX_RECORD,
    MediaBoard,
    Publication,
    Record,
    Want,
    decode_record,
    link_id,
    remote_states,
    sources,
    to_serve,
)

log = logging.getLogger(__name__)

POLL_S = 0.2          # how often a process reads the board (and how late a relay may open)
RENEW_S = 1.0         # a process rewrites its record at least this often
LEASE_S = 5.0         # ... which the board forgets this long after the last write


# -- the reactor ----------------------------------------------------------------------------

@dataclass
class _In:
    pub: Publication
    want: Want


@dataclass
class _Relays:
    inbound: dict[str, _In] = field(default_factory=dict)      # site -> the relay pulled for it
    outbound: dict[str, Want] = field(default_factory=dict)    # link id -> the relay sent
    edges: dict[str, str] = field(default_factory=dict)        # link id -> the process it is sent to


class MediaCluster:
    """This process's part of the media plane across processes: its record on the board, the
    relays it pulls and sends, and what its pages are told when the board cannot be read."""

    def __init__(self, plane: MediaPlane, board: MediaBoard, process: str | None = None) -> None:
        self.plane = plane
        self.board = board
        self.process = process or uuid.uuid4().hex[:12]
        self.relays: dict[str, _Relays] = {}
        self.store_ok = True
        self.processes = 0                      # live media processes at the last look (this one too)
        self.told: dict[str, tuple[bool, tuple[str, ...]]] = {}
        self._poked = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._nudge: set[str] = set()          # origins to nudge after the next write
        self._written = b""
        self._written_at = 0.0
        self._seen: dict[str, float] = {}      # other process -> when its record was last read
        plane.on_change.append(lambda conf_id: self._poked.set())

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="media-cluster")
        self._listener = asyncio.create_task(self._listen(), name="media-cluster-nudges")

    async def leave(self) -> None:
        """The process stops (SIGTERM, SIGINT; the server's shutdown calls this first): its
        record is replaced at once by a ``leaving`` one, so that the other processes drop the
        relays from and to this one now rather than keep them for a lease (they would, were
        the record only gone: see ``grace``). Nothing is written after it."""
        if self._closed:
            return
        self._closed = True
        tasks = [t for t in (self._task, self._listener) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)   # not forever: redis-py may swallow a cancel
        if self._task is None:
            return                                   # never started: nothing on the board
        with contextlib.suppress(StoreError, TimeoutError):     # Redis down: the lease ends it
            await asyncio.wait_for(self.board.media_put(
                self.process, msgspec.json.encode(Record(self.process, leaving=True)), LEASE_S), 2.0)

    async def close(self) -> None:
        await self.leave()

    async def _run(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), POLL_S)
            self._poked.clear()
            try:
                await self.reconcile()
                self.store_ok = True
            except StoreError as exc:
                if self.store_ok:
                    log.warning("media relays wait for the store: %s", exc)
                self.store_ok = False
            except Exception:
                log.exception("media relays: reconcile failed")
            self._tell_pages()

    async def _listen(self) -> None:
        """An edge that asked this process for a relay nudges it: read the board at once."""
        while not self._closed:
            try:
                async for _ in self.board.media_nudges(self.process):
                    self._poked.set()
            except StoreError:
                pass
            await asyncio.sleep(1.0)

    async def reconcile(self) -> None:
        """One look at the board: pull what the pages here need, send what others want."""
        records = await self.board.media_records()
        read = [r for r in (_parse(proc, raw) for proc, raw in records.items() if proc != self.process)
                if r is not None]
        others = [r for r in read if not r.leaving]
        left = {r.process for r in read if r.leaving}     # stopped: no grace for them
        self.processes = len(others) + 1
        now = time.monotonic()
        for r in others:
            self._seen[r.process] = now
        self._seen = {proc: t for proc, t in self._seen.items() if now - t < LEASE_S and proc not in left}
        grace = set(self._seen) - {r.process for r in others}    # seen within a lease, missing now
        pubs = [pub for r in others for pub in r.pubs]
        for conf_id, cm in list(self.plane.conferences.items()):
            await self._pull(conf_id, cm, [pub for pub in pubs if pub.conf == conf_id], grace)
        for conf_id in set(self.relays) - set(self.plane.conferences):
            del self.relays[conf_id]                 # the forwarder closed with its conference
        await self._write()
        await self._serve([(r.process, w) for r in others for w in r.wants], grace)

    async def _pull(self, conf_id: str, cm: ConferenceMedia, pubs: list[Publication], grace: set[str]) -> None:
        here = cm.forwarder.relay_address
        if here is None:
            return
        relays = self.relays.setdefault(conf_id, _Relays())
        self.plane.remote_states(conf_id, remote_states(cm.publisher.keys(), pubs))
        need = sources(cm.wanted, cm.publisher.keys(), pubs, {s: i.pub for s, i in relays.inbound.items()}, grace)
        changed = False
        stale: list[_In] = []
        for site, pub in need.items():
            current = relays.inbound.get(site)
            if current is not None and _same_source(current.pub, pub):
                current.pub = pub               # its state or offer time moved on: the same relay
                continue
            key = os.urandom(30)                # a fresh key for every link opened (SRTP never reuses one)
            want = Want(link_id(self.process, conf_id, pub.peer_id), conf_id, pub.peer_id, pub.process,
                        (here[0], here[1]), key.hex())
            try:
                await cm.forwarder.open_relay_in(RelayLink(want.link_id, pub.peer_id, (pub.relay[0], pub.relay[1]), key))
            except MediaError as exc:
                log.warning("relay in of %s/%s from %s refused: %s", conf_id, site, pub.process, exc)
                continue
            if current is not None and current.want.link_id != want.link_id:
                stale.append(current)
            relays.inbound[site] = _In(pub, want)
            self._nudge.add(pub.process)
            cm.relayed[site] = pub.peer_id
            changed = True
        for site, pulled in list(relays.inbound.items()):
            if site not in need:
                del relays.inbound[site]
                cm.relayed.pop(site, None)
                stale.append(pulled)
                changed = True
        if changed:
            self.plane.resteer(conf_id)     # onto the new relays first, then the old ones close
        for pulled in stale:
            with contextlib.suppress(MediaError):
                await cm.forwarder.close_relay(pulled.want.link_id)

    async def _write(self) -> None:
        pubs: list[Publication] = []
        wants: list[Want] = []
        for conf_id, cm in self.plane.conferences.items():
            here = cm.forwarder.relay_address
            if here is None:
                continue
            pubs += [Publication(self.process, conf_id, site, peer, (here[0], here[1]), cm.offered_at.get(site, 0.0),
                                 _state(cm, site))
                     for site, peer in cm.publisher.items()]
            wants += [pulled.want for pulled in self.relays.get(conf_id, _Relays()).inbound.values()]
        raw = msgspec.json.encode(Record(self.process, pubs, wants))
        now = time.monotonic()
        if raw != self._written or now - self._written_at >= RENEW_S:
            await self.board.media_put(self.process, raw, LEASE_S)
            self._written, self._written_at = raw, now
        nudge, self._nudge = self._nudge, set()
        for process in nudge:        # the origins of relays just asked for: read the board now
            await self.board.media_nudge(process)

    async def _serve(self, wants: list[tuple[str, Want]], grace: set[str]) -> None:
        publishing = {(conf_id, peer) for conf_id, cm in self.plane.conferences.items() for peer in cm.publisher.values()}
        serve = to_serve(self.process, [w for _, w in wants], publishing)
        edge_of = {w.link_id: proc for proc, w in wants}
        for conf_id, relays in self.relays.items():
            cm = self.plane.conferences.get(conf_id)
            for lid, want in list(relays.outbound.items()):
                if lid in serve:
                    continue
                if relays.edges.get(lid) in grace and (want.conf, want.peer_id) in publishing:
                    continue      # its edge blinked off the board (Redis restarted): keep sending a while
                del relays.outbound[lid]
                relays.edges.pop(lid, None)
                if cm is not None:
                    with contextlib.suppress(MediaError):
                        await cm.forwarder.close_relay(lid)
        for lid, want in serve.items():
            cm = self.plane.conferences.get(want.conf)
            relays = self.relays.setdefault(want.conf, _Relays())
            if cm is None or relays.outbound.get(lid) == want:
                continue
            if lid in relays.outbound:        # the edge opened it anew (another key): start over
                with contextlib.suppress(MediaError):
                    await cm.forwarder.close_relay(lid)
            try:
                await cm.forwarder.open_relay_out(RelayLink(lid, want.peer_id, (want.edge[0], want.edge[1]),
                                                            bytes.fromhex(want.key)))
            except (MediaError, ValueError) as exc:
                log.warning("relay out %s refused: %s", lid, exc)
                continue
            relays.outbound[lid] = want
            relays.edges[lid] = edge_of[lid]

    def _tell_pages(self) -> None:
        """A conference's pages learn when media they need waits for the store (Redis down)
        and when it no longer does."""
        for conf_id, cm in self.plane.conferences.items():
            waiting = () if self.store_ok else tuple(sorted(
                s for s in cm.wanted if s not in cm.publisher and s not in cm.relayed))
            now = (self.store_ok, waiting)
            if self.told.get(conf_id, (True, ())) == now:
                continue
            self.told[conf_id] = now
            msg = p.MediaRelays(store_ok=self.store_ok, waiting=list(waiting))
            for page in list(cm.pages.values()):
                post(page, msg)

    def stats(self) -> dict[str, Any]:
        """What the metrics show: relays in and out per conference, the store's state."""
        return {"store_ok": self.store_ok, "processes": self.processes,
                "relays": {conf_id: {"in": len(r.inbound), "out": len(r.outbound)} for conf_id, r in self.relays.items()}}


def _same_source(a: Publication, b: Publication) -> bool:
    """The same publishing page at the same relay address (its state may differ)."""
    return (a.process, a.peer_id, a.relay) == (b.process, b.peer_id, b.relay)


def _state(cm: ConferenceMedia, site: str) -> str | None:
    reported = cm.media_states.get(site)
    return reported.state if reported is not None else None


def _parse(process: str, raw: bytes) -> Record | None:
    """A record as another process wrote it; a malformed or oversized one is ignored."""
    if len(raw) > MAX_RECORD:
        return None
    try:
        record = decode_record(raw)
    except msgspec.DecodeError:
        log.warning("media record of %s is malformed; ignored", process)
        return None
    return record if record.process == process else None

