"""Checks of what the control interface receives (shared by the forwarder and its worker proxy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiortc.sdp import candidate_from_sdp

from .errors import ErrorCode, MediaError

MAX_PEER_ID = 200
MAX_CANDIDATE = 1024

def check_peer_id(peer_id: object) -> str:
    if not isinstance(peer_id, str) or not 0 < len(peer_id) <= MAX_PEER_ID:
        raise MediaError(ErrorCode.BAD_ARGUMENT, "a peer id is a non-empty string of at most 200 characters")
    return peer_id


def check_ids(peer_ids: object, what: str) -> tuple[str, ...]:
    if isinstance(peer_ids, str) or not isinstance(peer_ids, Sequence):
        raise MediaError(ErrorCode.BAD_ARGUMENT, f"{what} must be a sequence of peer ids")
    return tuple(dict.fromkeys(check_peer_id(p) for p in peer_ids))  # in order, once each


def parse_candidate(candidate: object) -> tuple[Any | None, str | None, int | None]:
    """(aiortc candidate or None for end-of-candidates, sdpMid, sdpMLineIndex)."""
    if candidate is None:
        return None, None, None
    if not isinstance(candidate, dict):
        raise MediaError(ErrorCode.BAD_CANDIDATE, "a candidate is an object like RTCIceCandidate.toJSON()")
    text = candidate.get("candidate")
    mid = candidate.get("sdpMid")
    index = candidate.get("sdpMLineIndex")
    if mid is not None and not isinstance(mid, str):
        raise MediaError(ErrorCode.BAD_CANDIDATE, "sdpMid must be a string")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise MediaError(ErrorCode.BAD_CANDIDATE, "sdpMLineIndex must be a non-negative integer")
    if text is None or text == "":
        return None, mid, index
    if not isinstance(text, str) or len(text) > MAX_CANDIDATE:
        raise MediaError(ErrorCode.BAD_CANDIDATE, "candidate must be a short string")
    body = text.removeprefix("a=").removeprefix("candidate:")
    bits = body.split()
    try:
        if len(bits) < 8 or bits[6] != "typ":
            raise ValueError
        int(bits[1]), int(bits[3])
        if not 0 <= int(bits[5]) <= 65535 or bits[2].lower() not in ("udp", "tcp"):
            raise ValueError
        parsed = candidate_from_sdp(body)
    except (ValueError, AssertionError, IndexError):
        raise MediaError(ErrorCode.BAD_CANDIDATE, f"malformed ICE candidate: {text[:80]!r}") from None
    parsed.sdpMid = mid
    parsed.sdpMLineIndex = index
    return parsed, mid, index
