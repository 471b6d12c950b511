"""Base classes of commands and events, their registries, and field checks.

A command is what someone asks for (``type`` on the wire, an idempotency ``key``); an event
is what happened (``type``, and the ``at``/``actor``/``key`` of the command that caused it).
Every concrete class names its wire ``TYPE`` and registers itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar

from .codec import from_plain, to_plain
from .errors import DomainError, ErrorCode, ValidationError

# patterns match the whole string: ``\Z``, not ``$`` (which also matches before a final newline)
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}\Z")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

COMMANDS: dict[str, type[Command]] = {}
EVENTS: dict[str, type[Event]] = {}

C = TypeVar("C", bound="type[Command]")
E = TypeVar("E", bound="type[Event]")


@dataclass(frozen=True, kw_only=True)
class Command:
    TYPE: ClassVar[str]
    key: str

    def __post_init__(self) -> None:
        if not KEY_RE.match(self.key):
            raise ValidationError("key: 1-64 characters of A-Z a-z 0-9 _ . : -")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime) and value.utcoffset() is None:
                raise ValidationError(f"{f.name}: date-time needs a UTC offset, e.g. 2025-10-03T08:00:00+07:00")
        self.check()

    def check(self) -> None:
        """Field checks of a concrete command; raise ValidationError."""


@dataclass(frozen=True, kw_only=True)
class Event:
    TYPE: ClassVar[str]
    at: datetime
    actor: str
    key: str


def command(cls: C) -> C:
    COMMANDS[cls.TYPE] = cls
    return cls


def event(cls: E) -> E:
    EVENTS[cls.TYPE] = cls
    return cls


def parse_command(data: Any) -> Command:
    """Build a command from untrusted plain data ``{"type": ..., "key": ..., ...}``."""
    if not isinstance(data, dict):
        raise ValidationError("command: expected an object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ValidationError("type: missing or not a string")
    cls = COMMANDS.get(kind)
    if cls is None:
        raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"unknown command type {kind[:40]!r}")
    return from_plain(cls, data, ignore=frozenset({"type"}))


def command_to_dict(cmd: Command) -> dict[str, Any]:
    return {"type": cmd.TYPE, **to_plain(cmd)}


def event_to_dict(ev: Event) -> dict[str, Any]:
    return {"type": ev.TYPE, **to_plain(ev)}


def event_from_dict(data: dict[str, Any]) -> Event:
    cls = EVENTS.get(data.get("type", ""))
    if cls is None:
        raise ValidationError(f"unknown event type {data.get('type')!r}")
    return from_plain(cls, data, ignore=frozenset({"type", "seq"}))


# -- field checks used by commands' check() -------------------------------------------------

def check_text(name: str, value: str, *, max_len: int, required: bool = True) -> None:
    if required and not value.strip():
        raise ValidationError(f"{name}: must not be empty")
    if len(value) > max_len:
        raise ValidationError(f"{name}: at most {max_len} characters, got {len(value)}")
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in value):
        raise ValidationError(f"{name}: control characters are not allowed")


def check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ValidationError(f"{name}: must be between {lo} and {hi}, got {value}")


def check_code(name: str, value: str) -> None:
    if not CODE_RE.match(value):
        raise ValidationError(f"{name}: {value[:40]!r} is not a site code (A-Z 0-9 _ -, up to 32)")


def check_id(name: str, value: str) -> None:
    if not ID_RE.match(value):
        raise ValidationError(f"{name}: {value[:40]!r} is not an id (A-Z a-z 0-9 _ . -, up to 64)")


def check_codes(name: str, values: tuple[str, ...], *, max_len: int = 2000, required: bool = True) -> None:
    if required and not values:
        raise ValidationError(f"{name}: at least one is needed")
    if len(values) > max_len:
        raise ValidationError(f"{name}: at most {max_len}, got {len(values)}")
    for i, v in enumerate(values):
        check_code(f"{name}[{i}]", v)
    if len(set(values)) != len(values):
        raise ValidationError(f"{name}: duplicates are not allowed")


def local_date(at: datetime, tz: Any) -> date:
    return at.astimezone(tz).date()


# -- idempotency ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """What a command produced. ``replayed`` is true when its key had been seen: the events
    are those it produced the first time, already recorded up to ``seq``; they must not be
    appended again."""

    events: tuple[Event, ...]
    replayed: bool = False
    seq: int = 0


Results = dict[str, tuple[tuple[Event, ...], int]]   # actor|key -> (events, seq of the last one)


def result_key(actor_ref: str, key: str) -> str:
    return f"{actor_ref}|{key}"


def record_result(results: Results, ev: Event, seq: int) -> None:
    k = result_key(ev.actor, ev.key)
    earlier = results.get(k)
    results[k] = ((earlier[0] if earlier else ()) + (ev,), seq)


def replay_of(results: Results, actor_ref: str, key: str) -> Decision | None:
    """The decision a command already produced, when this actor used this key before."""
    earlier = results.get(result_key(actor_ref, key))
    return Decision(earlier[0], replayed=True, seq=earlier[1]) if earlier else None


# Fields that differ on every sending of one request by design: a password hash is salted
# anew each time, so a retried account creation or password change differs only there.
NOT_FINGERPRINTED = frozenset({"password_hash"})


def command_fingerprint(cmd: Command) -> str:
    """A digest of what a command asks for: its type and every field but its key (and the
    fields of NOT_FINGERPRINTED); date-times count as instants, whatever their offset. One key
    with one fingerprint is a retry; one key with another fingerprint was reused."""
    asked = {f.name: _instant(getattr(cmd, f.name)) for f in fields(cmd)
             if f.name != "key" and f.name not in NOT_FINGERPRINTED}
    text = json.dumps([cmd.TYPE, to_plain(asked)], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _instant(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def key_reused(key: str) -> DomainError:
    """The refusal of a command sent with a key its actor already used for another command."""
    return DomainError(ErrorCode.KEY_REUSED,
                       f"the key {key!r} was already used for another command (another type or other "
                       "fields): nothing was applied; send each new command with a new key")
