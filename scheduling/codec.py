"""Plain-data conversion for the domain's frozen dataclasses.

``to_plain`` turns a command, event or value object into JSON-ready data; ``from_plain``
builds one back from untrusted data, checking every field's type strictly (no coercion:
``"3"`` is not an ``int``) and naming the field that is wrong. Pure standard library.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from .errors import ValidationError

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(to_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.init)


def from_plain(cls: type[T], data: Any, *, path: str = "", ignore: frozenset[str] = frozenset()) -> T:
    """Build dataclass ``cls`` from ``data``; raise ValidationError naming the bad field.

    Keys in ``ignore`` are skipped (an envelope's own keys such as ``type``).
    """
    if not isinstance(data, dict):
        raise ValidationError(f"{path or 'body'}: expected an object, got {_kind(data)}")
    klass: type = cls
    hints = _hints(klass)
    fields = {f.name: f for f in _fields(klass)}
    unknown = sorted(set(data) - set(fields) - ignore, key=str)   # a key may be any hashable
    if unknown:
        raise ValidationError(f"{_join(path, unknown[0])}: unknown field")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        where = _join(path, name)
        if name not in data:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise ValidationError(f"{where}: missing")
            continue
        kwargs[name] = _convert(hints[name], data[name], where)
    return cls(**kwargs)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except ValidationError as exc:
                errors.append(exc.message)
        raise ValidationError(errors[0] if len(errors) == 1 else f"{where}: no accepted type matches {_kind(value)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValidationError(f"{where}: expected an array, got {_kind(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ValidationError(f"{where}: expected {len(args)} elements, got {len(value)}")
        return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is dict:
        key_t, value_t = typing.get_args(tp)
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ValidationError(f"{where}: expected an object, got {_kind(value)}")
        return {k: _convert(value_t, v, f"{where}.{k}") for k, v in value.items()}
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ValidationError(f"{where}: expected one of {list(typing.get_args(tp))}")
        return value
    if tp is typing.Any:
        return value
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            try:
                return tp(value)
            except ValueError:
                allowed = ", ".join(str(m.value) for m in tp)
                raise ValidationError(f"{where}: {value!r} is not one of {allowed}") from None
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        elif tp is str:
            if isinstance(value, str):
                return value
        elif tp is datetime:
            return _datetime(value, where)
        elif tp is date:
            return _date(value, where)
        elif dataclasses.is_dataclass(tp):
            return from_plain(tp, value, path=where)
        else:
            raise TypeError(f"codec cannot convert {tp!r}")
        raise ValidationError(f"{where}: expected {_name(tp)}, got {_kind(value)}")
    raise TypeError(f"codec cannot convert {tp!r}")


def _name(tp: type) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}[tp]


def _datetime(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(f"{where}: expected an ISO 8601 date-time string, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{where}: {value[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValidationError(f"{where}: date-time needs a UTC offset, e.g. 2025-10-03T08:00:00+07:00")
    return parsed


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise ValidationError(f"{where}: expected an ISO 8601 date string, got {_kind(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{where}: {value[:40]!r} is not an ISO 8601 date (YYYY-MM-DD)") from None
