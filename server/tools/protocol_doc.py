"""docs/protocol.md, generated from the one schema module (``server/protocol.py``), the
domain's commands and events, and the close codes of ``server/errors.py``:

    python -m server.tools.protocol_doc > docs/protocol.md
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from typing import Any, get_args

import msgspec

import scheduling

from .. import protocol as p
from ..errors import WS_CLOSE_MEANINGS


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
    if isinstance(t, msgspec.inspect.StructType):
        return t.cls.__name__
    return name


def _dataclass_doc(cls: type, kind: str) -> str:
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
        "Generated from `server/protocol.py` and `scheduling/` by `python -m server.tools.protocol_doc > docs/protocol.md`;",
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
    parts += [_struct_doc(c) for c in (p.Hello, p.Ping, p.Offer, p.Candidate, p.MediaPrefs)]
    parts += ["## Client → server: conference commands", "",
              "`{\"type\": ..., \"key\": ..., ...fields}`; fields are strictly typed (no coercion); date-times are ISO 8601",
              "with an offset; dates `YYYY-MM-DD`. Who may send each is decided by the domain (see docs/architecture.md).",
              "", "| type | fields | notes |", "|---|---|---|"]
    conference_commands = [c for c in scheduling.COMMANDS.values()
                           if c not in p.ADMIN_COMMANDS]
    parts += [_dataclass_doc(c, "command") for c in sorted(conference_commands, key=lambda c: c.TYPE)]
    parts += ["", "## Server → client", ""]
    parts += [_struct_doc(c) for c in get_args(p.ServerMessage)]
    parts += ["## Events (the `event` of an `event` message)", "",
              "Every event also has `type`, `at` (ISO date-time), `actor` (`account:ID`, `site:CODE` or `system:server`) and `key`.",
              "", "| type | fields | notes |", "|---|---|---|"]
    parts += [_dataclass_doc(c, "event") for c in sorted(scheduling.EVENTS.values(), key=lambda c: c.TYPE)]
    parts += ["", "## Close codes", "", "| code | meaning |", "|---|---|"]
    parts += [f"| {code} | {meaning} |" for code, meaning in sorted(WS_CLOSE_MEANINGS.items())]
    parts += [""]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(markdown())
