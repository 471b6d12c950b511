"""The signaling protocol: every message on ``/ws``, defined once.

JSON text frames, one object each, keyed on ``type``. Client → server: the control
messages below (``hello``, ``ping``, ``offer``, ``candidate``, ``media_prefs``, ``media_state``) and the
conference commands of the domain (``scheduling.COMMANDS``: ``{type, key, ...fields}``).
Server → client: ``welcome``, ``event``, ``ack``, ``error``, ``pong``, ``answer``,
``levels``, ``publish``, ``link_quality``, ``site_media_state``. docs/protocol.md is generated from this module (``python -m server.protocol``)
and a test keeps the two in step.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, get_args

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
    ``snapshot`` is set, the state at ``seq`` and only later events), then live events."""

    conference: str
    seq: int
    you: You
    server_time: str
    heartbeat_s: float
    ice_servers: list[dict[str, Any]]
    snapshot: dict[str, Any] | None = None


class EventMessage(msgspec.Struct, tag="event"):
    """One event of the conference's log, in seq order with no gaps. Events a site may not
    see arrive as ``{"type": "redacted"}``."""

    seq: int
    event: dict[str, Any]


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


ServerMessage = (Welcome | EventMessage | Ack | Error | Pong | Answer | Levels | Publish | LinkQuality
                 | SiteMediaState)

_encoder = msgspec.json.Encoder()
_control = msgspec.json.Decoder(ClientControl)


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def encode(msg: ServerMessage) -> str:
    return _encoder.encode(msg).decode()


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
            return msgspec.convert(data, ClientControl)
        except msgspec.ValidationError as exc:
            raise ProtocolError("invalid_message", f"{kind}: {exc}") from None
    named = data.pop("conference", None)
    if named is not None and named != conference:
        raise ProtocolError("wrong_conference", f"this connection is for conference {conference!r}, not {str(named)[:64]!r}")
    return scheduling.parse_command(data)


# -- documentation ------------------------------------------------------------------------------

def _struct_doc(cls: type[msgspec.Struct]) -> str:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    lines = [f"### `{info.tag}`", "", " ".join((cls.__doc__ or "").split()), "",
             "| field | type | default |", "|---|---|---|"]
    for f in info.fields:
        default = "required" if f.required else repr(f.default if f.default is not msgspec.NODEFAULT else None)
        lines.append(f"| `{f.encode_name}` | {_type_name(f.type)} | {default} |")
    return "\n".join(lines) + "\n"


def _type_name(t: msgspec.inspect.Type) -> str:
    name = type(t).__name__.replace("Type", "").lower()
    if isinstance(t, msgspec.inspect.UnionType):
        return " or ".join(_type_name(x) for x in t.types)
    if isinstance(t, msgspec.inspect.ListType):
        return f"list of {_type_name(t.item_type)}"
    if isinstance(t, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(f"`{v}`" for v in t.values)
    if isinstance(t, msgspec.inspect.StructType):
        return t.cls.__name__
    return name


def _dataclass_doc(cls: type, kind: str) -> str:
    import dataclasses
    import typing
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in ("at", "actor")]
    cells = ", ".join(f"`{f.name}`: {_py_type(hints[f.name])}" + ("" if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING else " (optional)") for f in fields)
    doc = " ".join((cls.__doc__ or "").split()) if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "(") else ""
    return f"| `{cls.TYPE}` | {cells} | {doc} |"  # type: ignore[attr-defined]


def _py_type(tp: Any) -> str:
    text = getattr(tp, "__name__", None) if not getattr(tp, "__args__", None) else None
    return text or str(tp).replace("typing.", "").replace("scheduling.", "").replace("datetime.", "")


def markdown() -> str:
    parts = [
        "# The signaling protocol (`/ws`)",
        "",
        "Generated from `server/protocol.py` and `scheduling/` by `python -m server.protocol > docs/protocol.md`;",
        "`tests/server/test_protocol_doc.py` fails when this file and the code disagree.",
        "",
        "One WebSocket per page at `/ws`, JSON text frames (at most 64 KiB), one object each, keyed on `type`.",
        "The first message is `hello`. A page that reconnects sends the `last_seq` it holds and misses nothing.",
        "Every command carries an idempotency `key` (1–64 of `A-Za-z0-9_.:-`), made by the client: a command",
        "retried with the same key (after a reconnect, say) is answered with the same `ack` and records nothing new;",
        "the key sent again with another command (another type or other fields) is refused with the `error`",
        "`key_reused` and records nothing (by the server process that accepted the first, which remembers the",
        "last 10,000 commands of each stream; elsewhere, or after a restart, it is answered as a retry).",
        "",
        "## Client → server: control messages",
        "",
    ]
    parts += [_struct_doc(c) for c in (Hello, Ping, Offer, Candidate, MediaPrefs, MediaState)]
    parts += ["## Client → server: conference commands", "",
              "`{\"type\": ..., \"key\": ..., ...fields}`; fields are strictly typed (no coercion); date-times are ISO 8601",
              "with an offset; dates `YYYY-MM-DD`. Who may send each is decided by the domain (see docs/architecture.md).",
              "", "| type | fields | notes |", "|---|---|---|"]
    conference_commands = [c for c in scheduling.COMMANDS.values()
                           if c not in (*_admin_commands(),)]
    parts += [_dataclass_doc(c, "command") for c in sorted(conference_commands, key=lambda c: c.TYPE)]
    parts += ["", "## Server → client", ""]
    parts += [_struct_doc(c) for c in get_args(ServerMessage)]
    parts += ["## Events (the `event` of an `event` message)", "",
              "Every event also has `type`, `at` (ISO date-time), `actor` (`account:ID`, `site:CODE` or `system:server`) and `key`.",
              "", "| type | fields | notes |", "|---|---|---|"]
    parts += [_dataclass_doc(c, "event") for c in sorted(scheduling.EVENTS.values(), key=lambda c: c.TYPE)]
    parts += ["", "## Close codes", "",
              "| code | meaning |", "|---|---|",
              "| 1001 | server going away (restart): reconnect |",
              "| 1009 | message over 64 KiB |",
              "| 4400 | no valid `hello` within 10 s |",
              "| 4401 | token missing, malformed, expired or revoked |",
              "| 4403 | token for another conference or site |",
              "| 4404 | no such conference |",
              "| 4408 | the page fell too far behind: reconnect with `last_seq` |",
              "| 4429 | flood: too many messages refused for rate |", ""]
    return "\n".join(parts)


def _admin_commands() -> tuple[type, ...]:
    return (*scheduling.directory.DIRECTORY_COMMANDS, scheduling.CreateAccount, scheduling.UpdateAccount,
            scheduling.ChangePassword, scheduling.IssueLink, scheduling.RevokeLink)


if __name__ == "__main__":
    sys.stdout.write(markdown())
