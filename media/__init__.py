"""bridgeconf's media plane: a selective forwarder on aiortc (see docs/media.md).

The signaling server uses :class:`Forwarder` (same event loop) or
``media.worker.WorkerForwarder`` (a child process, same interface; not imported here, so
that ``python -m media.worker`` does not find itself imported twice); both take a
:class:`MediaConfig` and raise :class:`MediaError` with an :class:`ErrorCode`.
This package imports nothing else of bridgeconf's.
"""

from .config import IceServer, MediaConfig
from .errors import ErrorCode, MediaError
from .forwarder import Forwarder, LinkQuality
from .recording import Chapter, RecordingInfo
from .relay import RelayLink
from .routing import ControlState, PublishHint, VideoSend
from .session import PeerState

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
    "RelayLink",
    "VideoSend",
]
