"""The signaling protocol: every message on ``/ws``, defined once.

JSON text frames, one object each, keyed on ``type``. Client → server: the control
messages below (``hello``, ``ping``, ``offer``, ``candidate``, ``media_prefs``, ``media_state``) and the
conference commands of the domain (``scheduling.COMMANDS``: ``{type, key, ...fields}``).
Server → client: ``welcome``, ``event``, ``ack``, ``error``, ``presence``, ``pong``, ``answer``,
``levels``, ``publish``, ``link_quality``, ``site_media_state``. docs/protocol.md is generated from this module (``python -m server.tools.protocol_doc``)
and a test keeps the two in step.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

import scheduling

MAX_FRAME = 64 * 1024


class Hello(msgspec.Struct, tag="hello", forbid_unknown_fields=True):
    """First message of every connection. ``token``: a site's join-link token or an account's
    session token (omit it to use the page's session cookie). ``last_seq``: the last event the
    page holds (0 for none). ``snapshot``: accept the state instead of a long replay."""

    conference: str
    token: str | None = None
    last_seq: int = 0
    snapshot: bool = True


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    """Application-level heartbeat; answered by ``pong`` with the same ``t``."""

    t: float | None = None


class Offer(msgspec.Struct, tag="offer", forbid_unknown_fields=True):
    """The page's WebRTC offer (see docs/media.md for the transceivers to offer)."""

    sdp: str


class Candidate(msgspec.Struct, tag="candidate", forbid_unknown_fields=True):
    """A trickled ICE candidate of the page (``candidate`` empty: end of candidates)."""

    candidate: str
    sdpMid: str | None = None
    sdpMLineIndex: int | None = None


class MediaPrefs(msgspec.Struct, tag="media_prefs", forbid_unknown_fields=True):
    """Receive audio only (poor link), and which sites' previews this page shows."""

    audio_only: bool | None = None
    previews: list[str] | None = None


MediaStateName = Literal["flowing", "stalled", "renegotiating"]


class MediaState(msgspec.Struct, tag="media_state", forbid_unknown_fields=True):
    """How this page's own audio and video fare, apart from its /ws: ``flowing`` (connected, and
    media arrives whenever the phase carries some), ``stalled`` (nothing arrived for a few
    seconds although the phase carries media, or the connection failed and no new offer could
    be made yet), ``renegotiating`` (a new offer is under way: after a reconnect of the /ws or
    a failed connection). Sent on every change; the staff pages get it as ``site_media_state``."""

    state: MediaStateName


ClientControl = Hello | Ping | Offer | Candidate | MediaPrefs | MediaState
CONTROL_TYPES = frozenset({"hello", "ping", "offer", "candidate", "media_prefs", "media_state"})


class You(msgspec.Struct):
    kind: str                 # account | site
    id: str
    roles: list[str]
    name: str = ""


class Welcome(msgspec.Struct, tag="welcome"):
    """Sent after a valid ``hello``. Then come the events after ``last_seq`` (or, when
    ``snapshot`` is set, the state at ``seq`` and only later events), then live events.
    Sent again on the same connection, with a snapshot, after an error ``roles_changed``:
    the actor lost one of its roles in the conference and kept another; the page renders
    again from it (what follows is what its remaining roles may see)."""

    conference: str
    seq: int
    you: You
    server_time: str
    heartbeat_s: float
    ice_servers: list[dict[str, Any]]
    snapshot: dict[str, Any] | None = None
    presence: dict[str, str] | None = None
    """Staff pages: each site's live connection (``online``, ``reconnecting``, ``offline``)
    now; it holds over the state's ``attendance`` once the events up to ``seq`` are in (see
    ``presence``). None for a site's page, which shows no other site's connection."""


class EventMessage(msgspec.Struct, tag="event", omit_defaults=True):
    """One event of the conference's log, in seq order with no gaps. Events a site may not
    see arrive as ``{"type": "redacted"}``. ``more``: the next event belongs to the same
    command (a ``give_floor`` ends one turn and grants another; ``mute_all`` mutes many
    sites): a page holds the events until the last one (without ``more``) and applies them
    together, so that it never draws a state between them. Set on the live events of
    commands decided by the page's own server process."""

    seq: int
    event: dict[str, Any]
    more: bool = False


class Ack(msgspec.Struct, tag="ack"):
    """A command was accepted: its events end at ``seq`` (already sent as ``event``s).
    ``replayed``: the key was seen before and nothing new was recorded."""

    key: str
    seq: int
    replayed: bool = False


class Error(msgspec.Struct, tag="error"):
    """A message was refused; nothing was applied. ``ref``: the command's key, or the
    message type."""

    code: str
    message: str
    ref: str | None = None


class Presence(msgspec.Struct, tag="presence"):
    """To the staff's pages: sites whose live connection changed,
    ``{site: "online" | "reconnecting" | "offline"}``.
    Live state, not events: only a site's first coming online, its going offline past the
    threshold and its coming back are recorded (``connection_changed``); a reload or a short
    drop is told only here. A page shows a site's connection as the last of these (or of the
    welcome's ``presence``) says."""

    sites: dict[str, str]


class Pong(msgspec.Struct, tag="pong"):
    t: float | None = None


class Answer(msgspec.Struct, tag="answer"):
    sdp: str


class Levels(msgspec.Struct, tag="levels"):
    """Audio levels (0 loudest … 127 silent, RFC 6464) of the sites that publish, and the
    active speaker, a few times a second to the main bridge's pages."""

    levels: dict[str, int]
    active: str | None = None


class Publish(msgspec.Struct, tag="publish"):
    """What this page should send now (it applies it with RTCRtpSender.setParameters, no
    renegotiation): ``audio`` on or off (off when muted or not on air); ``video`` ``off``,
    ``preview`` (low rate, for the chair's wall) or ``full`` (program or floor holder)."""

    audio: bool
    video: str


class LinkQuality(msgspec.Struct, tag="link_quality"):
    """The forwarder stopped sending video to a site because its link loses too much
    (``audio_only`` true, ``reason`` ``loss`` or ``bandwidth``, ``loss`` the fraction lost
    0..1), or gave it video back (``audio_only`` false). Sent to the site's page, and to the
    staff pages with the site's ``site`` code (the chair's wall marks it); a staff page gets
    the sites that are on audio only when it joins."""

    site: str | None
    audio_only: bool
    reason: str = ""
    loss: float = 0.0


class SiteMediaState(msgspec.Struct, tag="site_media_state"):
    """A site's media state (see ``media_state``) as its page reported it, to the staff pages:
    the chair's wall marks a site whose media is stalled or being renegotiated, apart from its
    signaling state. ``state`` null: the site has no media connection any more (its page left).
    An offer counts as ``renegotiating`` until the page says otherwise; a staff page gets the
    known states when it joins."""

    site: str
    state: MediaStateName | None


class MediaRelays(msgspec.Struct, tag="media_relays"):
    """With several server processes: whether the media this page's process pulls from the
    others can be arranged. ``store_ok`` false: the shared store (Redis) is unreachable, media
    already flowing goes on, and the sites in ``waiting`` (needed here, published on another
    process) show when it is back; then ``store_ok`` true with nothing waiting."""

    store_ok: bool
    waiting: list[str] = []


ServerMessage = (Welcome | EventMessage | Ack | Error | Presence | Pong | Answer | Levels | Publish | LinkQuality
                 | SiteMediaState | MediaRelays)

ADMIN_COMMANDS: tuple[type, ...] = (
    *scheduling.directory.DIRECTORY_COMMANDS, scheduling.CreateAccount, scheduling.UpdateAccount,
    scheduling.ChangePassword, scheduling.EndSession, scheduling.IssueLink, scheduling.RevokeLink,
    scheduling.SetOrganisation, scheduling.ReserveNumber)
"""The domain's commands that are not a conference's: they go through the REST API."""

_encoder = msgspec.json.Encoder()
_control = msgspec.json.Decoder(ClientControl)


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def encode(msg: ServerMessage) -> str:
    return _encoder.encode(msg).decode()


def event_text(seq: int, data: str, more: bool = False) -> str:
    """An :class:`EventMessage` for the event recorded as the JSON text ``data``, written
    without decoding it again (the fan-out writes one per event, for every page)."""
    if more:
        return f'{{"type":"event","seq":{seq},"event":{data},"more":true}}'
    return f'{{"type":"event","seq":{seq},"event":{data}}}'


class _Keyed(msgspec.Struct):
    key: Any = None


_keyed = msgspec.json.Decoder(_Keyed)


def key_of(raw: str | bytes) -> str | None:
    """The idempotency key of a message, read without parsing the rest (for an ``error`` that
    refuses it unread, such as ``rate_limited``); None when there is no valid one."""
    try:
        key = _keyed.decode(raw).key
    except (msgspec.DecodeError, RecursionError):
        return None
    return key if isinstance(key, str) and scheduling.base.KEY_RE.match(key) else None


def parse_client(raw: str | bytes, *, conference: str | None = None) -> ClientControl | scheduling.Command:
    """Parse one client frame: a control message or a domain command. A command may name
    its ``conference``; it must then be the connection's."""
    if len(raw) > MAX_FRAME:
        raise ProtocolError("too_large", f"a message has at most {MAX_FRAME} bytes")
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ProtocolError("bad_json", f"not valid JSON: {exc}") from None
    except RecursionError:   # msgspec refuses nesting deeper than ~1000 levels this way
        raise ProtocolError("bad_json", "not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "a message is a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", "a message needs a string 'type'")
    if kind in CONTROL_TYPES:
        try:
            control: ClientControl = msgspec.convert(data, ClientControl)
        except msgspec.ValidationError as exc:
            raise ProtocolError("invalid_message", f"{kind}: {exc}") from None
        return control
    named = data.pop("conference", None)
    if named is not None and named != conference:
        raise ProtocolError("wrong_conference", f"this connection is for conference {conference!r}, not {str(named)[:64]!r}")
    return scheduling.parse_command(data)
