"""bridgeconf's media plane: a selective forwarder on aiortc (see docs/media.md).

The signaling server uses :class:`Forwarder` (same event loop) or
:class:`WorkerForwarder` (a child process, same interface); both take a
:class:`MediaConfig` and raise :class:`MediaError` with an :class:`ErrorCode`.
This package imports nothing else of bridgeconf's.
"""

from .config import IceServer, MediaConfig
from .errors import ErrorCode, MediaError
from .forwarder import Forwarder, LinkQuality
from .recording import Chapter, RecordingInfo
from .routing import ControlState, PublishHint, VideoSend
from .session import PeerState


def __getattr__(name: str) -> object:
    # imported on use, so that `python -m media.worker` does not find itself imported twice
    if name == "WorkerForwarder":
        from .worker import WorkerForwarder

        return WorkerForwarder
    raise AttributeError(name)


__all__ = [
    "Chapter",
    "ControlState",
    "ErrorCode",
    "Forwarder",
    "IceServer",
    "LinkQuality",
    "MediaConfig",
    "MediaError",
    "PeerState",
    "PublishHint",
    "RecordingInfo",
    "VideoSend",
    "WorkerForwarder",
]
