"""JSON Schemas (OpenAPI 3.1) of the types the REST handlers parse with: the domain's frozen
dataclasses read by ``scheduling.codec.from_plain`` (the schema says what that reader takes:
exact types, no unknown field, a date-time with its offset) and msgspec Structs (``msgspec.json``
makes theirs). Named types go to ``components.schemas`` and are referred to by ``$ref``."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Any

import msgspec

Components = dict[str, Any]


class SchemaMaker:
    """Builds schemas, collecting the named ones in ``components``."""

    def __init__(self) -> None:
        self.components: Components = {}

    def of(self, tp: Any) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            nullable = len(args) < len(typing.get_args(tp))
            options = [self.of(a) for a in args] + ([{"type": "null"}] if nullable else [])
            return options[0] if len(options) == 1 else {"anyOf": options}
        if origin is tuple:
            args = typing.get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.of(args[0])}
            return {"type": "array", "prefixItems": [self.of(a) for a in args], "minItems": len(args),
                    "maxItems": len(args)}
        if origin is list:
            return {"type": "array", "items": self.of(typing.get_args(tp)[0])}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.of(typing.get_args(tp)[1])}
        if origin is typing.Literal:
            return {"enum": list(typing.get_args(tp))}
        if tp is typing.Any:
            return {}
        if isinstance(tp, type):
            if issubclass(tp, Enum):
                return {"type": "string", "enum": [m.value for m in tp]}
            if tp is bool:
                return {"type": "boolean"}
            if tp is int:
                return {"type": "integer"}
            if tp is float:
                return {"type": "number"}
            if tp is str:
                return {"type": "string"}
            if tp is datetime:
                return {"type": "string", "format": "date-time",
                        "description": "ISO 8601 with a UTC offset, e.g. 2025-10-03T08:00:00+07:00"}
            if tp is date:
                return {"type": "string", "format": "date"}
            if dataclasses.is_dataclass(tp):
                return self.ref(tp.__name__, lambda: self.dataclass_schema(tp))
            if issubclass(tp, msgspec.Struct):
                return self.msgspec_schema(tp)
        raise TypeError(f"no schema for {tp!r}")

    def ref(self, name: str, build: typing.Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if name not in self.components:
            self.components[name] = {}          # a placeholder: recursive types end here
            self.components[name] = build()
        return {"$ref": f"#/components/schemas/{name}"}

    def dataclass_schema(self, cls: type, *, drop: frozenset[str] = frozenset(),
                         optional: frozenset[str] = frozenset(),
                         extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The object ``from_plain(cls, ...)`` accepts: no unknown field; the fields without a
        default are required (but those of ``optional``); ``drop``: fields the client does not
        send (taken from the path, made by the server); ``extra``: required fields the handler
        reads beside."""
        hints = typing.get_type_hints(cls)
        props: dict[str, Any] = {}
        required: list[str] = []
        for f in dataclasses.fields(cls):
            if not f.init or f.name in drop:
                continue
            props[f.name] = self.of(hints[f.name])
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING \
                    and f.name not in optional:
                required.append(f.name)
        for name, schema in (extra or {}).items():
            props[name] = schema
            required.append(name)
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        if doc and not doc.startswith(cls.__name__ + "("):
            out["description"] = " ".join(doc.split())
        return out

    def msgspec_schema(self, tp: type) -> dict[str, Any]:
        (schema,), components = msgspec.json.schema_components([tp], ref_template="#/components/schemas/{name}")
        self.components.update(components)
        return dict(schema)


def command_schema(maker: SchemaMaker, cls: type, *, drop: frozenset[str] = frozenset(),
                   with_type: bool = False, extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A command as a REST body: its fields, ``key`` optional (the server makes one), and with
    ``with_type`` its ``type`` (a constant) in front."""
    schema = maker.dataclass_schema(cls, drop=drop, optional=frozenset({"key"}), extra=extra)
    if with_type:
        schema["properties"] = {"type": {"const": cls.TYPE}, **schema["properties"]}
        schema["required"] = ["type", *schema.get("required", [])]
    return schema
