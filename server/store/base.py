"""The event store port.

Hierarchy of errors::

    StoreError
    └── ConcurrencyError     expected_seq is not the stream's last seq

A stream is a named, gap-free sequence of events numbered 1, 2, 3, ... Events are stored
as JSON text, encoded once by the caller; the store never parses them on the write path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreError(Exception):
    pass


class ConcurrencyError(StoreError):
    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream!r}: expected seq {expected}, found {actual}")
        self.stream, self.expected, self.actual = stream, expected, actual


@dataclass(frozen=True, slots=True)
class Recorded:
    stream: str
    seq: int
    data: str          # the event as JSON text


class EventStore(Protocol):
    async def append(self, stream: str, expected_seq: int, events: Sequence[str]) -> int:
        """Append ``events`` after ``expected_seq``; return the new last seq. The events are
        durable when this returns. Raise ConcurrencyError if the stream moved on."""
        ...

    async def read(self, stream: str, after_seq: int = 0, limit: int | None = None) -> list[Recorded]:
        """Events with seq > ``after_seq``, in order."""
        ...

    async def last_seq(self, stream: str) -> int: ...

    async def streams(self, prefix: str) -> list[str]:
        """Names of the streams that start with ``prefix``."""
        ...

    def subscribe(self, stream: str, after_seq: int) -> AsyncIterator[Recorded]:
        """Every event with seq > ``after_seq`` appended by anyone, in order, forever."""
        ...

    async def close(self) -> None: ...
