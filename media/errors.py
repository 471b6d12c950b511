"""Errors of the media plane.

Hierarchy::

    MediaError(code, message)      every error the media plane raises on purpose
      .code: ErrorCode             a stable, wire-friendly string (StrEnum)

The signaling server maps ``ErrorCode`` values to its own ``error`` messages; the
media plane never knows about HTTP statuses or WebSocket close codes.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_SDP = "media.bad_sdp"
    """The offer is not parseable SDP, or is not an offer we can answer."""
    BAD_LAYOUT = "media.bad_layout"
    """The offer's m-lines do not follow the documented layout (docs/media.md)."""
    NO_CODEC = "media.no_codec"
    """The offer has no codec the conference uses (Opus, and the configured video codec)."""
    BAD_CANDIDATE = "media.bad_candidate"
    """A trickled ICE candidate is malformed."""
    UNKNOWN_PEER = "media.unknown_peer"
    """No peer with this id (never offered, or removed)."""
    PEER_CLOSED = "media.peer_closed"
    """The peer's connection is closed or failed; send a new offer to reconnect."""
    BAD_ARGUMENT = "media.bad_argument"
    """A control call got an argument it cannot use (for instance too many previews)."""
    NOT_RUNNING = "media.not_running"
    """The forwarder is not started, or already closed."""
    WORKER_FAILED = "media.worker_failed"
    """The forwarder worker process died or did not answer."""


class MediaError(Exception):
    """An error with a stable ``code`` and a human-readable ``message``."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[MediaError], tuple[ErrorCode, str]]:
        return (MediaError, (self.code, self.message))
