"""The pure part of the media control plane across processes (issue 15): what a media
process announces on the board, and the two decisions each process makes from the board —
which sites it pulls over a relay (:func:`sources`) and which relays it sends
(:func:`to_serve`). No I/O here; server/reactors/media_cluster.py acts on them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from typing import Protocol

import msgspec

MAX_RECORD = 4 * 1024 * 1024     # a record past this is ignored (~25,000 publishers; Redis is trusted, this guards against garbage)
_LINK_CHARS = re.compile(r"[^A-Za-z0-9._:/@-]")


class Publication(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A site's publishing page on a process, as that process announces it."""

    process: str
    conf: str
    site: str
    peer_id: str
    relay: tuple[str, int]          # the origin forwarder's relay address for this conference
    at: float                       # when the page offered (wall clock, seconds)
    state: str | None = None        # its media state as the page reported it (flowing, stalled, renegotiating)


class Want(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A relay an edge process receives, addressed to its origin."""

    link_id: str
    conf: str
    peer_id: str
    origin: str
    edge: tuple[str, int]           # the edge forwarder's relay address
    key: str                        # hex of the 30-byte SRTP master key + salt the edge chose


class Record(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    process: str
    pubs: list[Publication] = []
    wants: list[Want] = []
    leaving: bool = False           # the process stopped (SIGTERM): nothing of it is used any more, at once


_decoder = msgspec.json.Decoder(Record)


def decode_record(raw: bytes) -> Record:
    return _decoder.decode(raw)


class MediaBoard(Protocol):
    """Where media processes keep their leased records: the Redis store."""

    async def media_put(self, process: str, record: bytes, lease_s: float) -> None: ...
    async def media_records(self) -> dict[str, bytes]: ...
    async def media_nudge(self, process: str) -> None: ...
    def media_nudges(self, process: str) -> AsyncIterator[None]: ...


# -- the decisions ---------------------------------------------------------------------------

def sources(wanted: Iterable[str], local: Collection[str], pubs: Iterable[Publication],
            pulled: Mapping[str, Publication] | None = None, grace: Collection[str] = ()) -> dict[str, Publication]:
    """Which of a conference's ``wanted`` sites this process pulls over a relay, and from where.

    - A site whose publishing page is on this process (``local``) needs no relay.
    - Otherwise its most recent publication on another live process is pulled (a page that
      re-offered elsewhere wins over the page it replaces; a dead process's are gone).
    - A relay already ``pulled`` whose origin is missing from the board but was seen within a
      lease (``grace``: Redis restarted, a renewal came late) is kept, unless a publication
      on the board supersedes it: media already flowing is not cut for a blip.
    - A site nobody publishes is not pulled: it shows when it publishes.
    """
    latest: dict[str, Publication] = {}
    for pub in pubs:
        if pub.site in latest and (latest[pub.site].at, latest[pub.site].process) >= (pub.at, pub.process):
            continue
        latest[pub.site] = pub
    out: dict[str, Publication] = {}
    for site in wanted:
        if site in local:
            continue
        kept = (pulled or {}).get(site)
        if site in latest:
            out[site] = latest[site]
        elif kept is not None and kept.process in grace:
            out[site] = kept
    return out


def remote_states(local: Collection[str], pubs: Iterable[Publication]) -> dict[str, str]:
    """The media state of each site publishing on another process (its most recent
    publication's), for the staff pages here; a site publishing here reports its own."""
    latest: dict[str, Publication] = {}
    for pub in pubs:
        if pub.site not in latest or (latest[pub.site].at, latest[pub.site].process) < (pub.at, pub.process):
            latest[pub.site] = pub
    return {site: pub.state for site, pub in latest.items() if site not in local and pub.state is not None}


def to_serve(me: str, wants: Iterable[Want], publishing: Collection[tuple[str, str]]) -> dict[str, Want]:
    """The relays this process sends, by link id.

    - Only wants addressed to this process (``origin``) are served.
    - Only for a peer that publishes here now (``publishing``: conference, peer id); a want
      that names a page that left or re-offered is not served (its edge re-points).
    """
    return {w.link_id: w for w in wants if w.origin == me and (w.conf, w.peer_id) in publishing}


def link_id(edge: str, conf: str, peer_id: str) -> str:
    """One relay per (stream source, edge process): unique within the edge's forwarder."""
    return _LINK_CHARS.sub("_", f"{edge}:{conf}:{peer_id}")[:128]
