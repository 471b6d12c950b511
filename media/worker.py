"""Run a :class:`Forwarder` in a child process, driven through a small control channel.

The signaling server's event loop then never spends time forwarding packets: it
talks to :class:`WorkerForwarder`, which has the forwarder's interface (the same
method names and errors) and relays each call as one JSON line to the child
(``python -m media.worker``) over its stdin; answers, callbacks and periodic
stats snapshots come back as JSON lines on the child's stdout.

Channel (one JSON object per line)::

    parent -> child   {"op": "config", "config": {...}}                 first line
                      {"id": 7, "op": "accept_offer", "peer_id": ..., "sdp": ...}
                      {"op": "set_speakers", "peer_ids": [...]}          no id: no answer
                      (steer, set_program, set_share, set_speakers, set_muted, set_audio_only,
                       set_previews, mark_chapter; the others carry an id)
    child -> parent   {"ready": pid}
                      {"id": 7, "ok": <result>} | {"id": 7, "error": {"code", "message"}}
                      {"event": "audio_level" | "peer_state" | "publish_hint" | "link_quality" | "stats", ...}

If the child dies, pending and later calls raise ``MediaError(WORKER_FAILED)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Collection, Sequence
from dataclasses import asdict
from typing import Any

from .checks import check_ids, check_peer_id
from .config import IceServer, MediaConfig
from .errors import ErrorCode, MediaError
from .forwarder import (
    AudioLevelCallback,
    Forwarder,
    LinkQuality,
    LinkQualityCallback,
    PeerStateCallback,
    PublishHintCallback,
    RelayStateCallback,
)
from .loops import use_loop
from .recording import Chapter, RecordingInfo
from .relay import RelayLink
from .routing import PublishHint, VideoSend
from .session import PeerState

logger = logging.getLogger(__name__)

LINE_LIMIT = 4 * 1024 * 1024
CALL_TIMEOUT = 30.0


def config_to_json(config: MediaConfig) -> dict[str, Any]:
    return asdict(config)


def config_from_json(data: dict[str, Any]) -> MediaConfig:
    data = dict(data)
    data["ice_servers"] = tuple(
        IceServer(urls=tuple(s["urls"]), username=s.get("username"), credential=s.get("credential"))
        for s in data.get("ice_servers", ())
    )
    data["gather_addresses"] = tuple(data.get("gather_addresses", ()))
    data["relay_ports"] = tuple(data.get("relay_ports", (0, 0)))
    return MediaConfig(**data)


class WorkerForwarder:
    """A forwarder in a child process, with the :class:`Forwarder` interface.

    ``stats()`` returns the latest summary the child pushed (``totals`` and
    ``control``, every ``stats_interval`` seconds); ``await fetch_stats()`` asks for
    the full, per-peer figures.
    """

    def __init__(
        self,
        config: MediaConfig,
        on_audio_level: AudioLevelCallback | None = None,
        on_peer_state: PeerStateCallback | None = None,
        on_publish_hint: PublishHintCallback | None = None,
        on_link_quality: LinkQualityCallback | None = None,
        stats_interval: float = 1.0,
    ) -> None:
        self.config = config
        self.on_audio_level = on_audio_level
        self.on_peer_state = on_peer_state
        self.on_publish_hint = on_publish_hint
        self.on_link_quality = on_link_quality
        self.stats_interval = stats_interval
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._stats: dict[str, Any] = {}
        self._failed: str | None = None
        self._closing = False
        self._ready: asyncio.Future[int] | None = None
        self.relay_state_changed: RelayStateCallback | None = None
        """``(link_id, "flowing" | "stalled")``, as on :class:`Forwarder`."""
        self._relay_address: tuple[str, int] | None = None
        self._relay_stats: dict[str, Any] = {"links": {}, "dropped_unknown": 0}

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        if self._proc is not None:
            return
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "media.worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=env, limit=LINE_LIMIT,
        )  # fmt: skip
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(), name="media-worker-reader")
        self._send({"op": "config", "config": config_to_json(self.config), "stats_interval": self.stats_interval})
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), CALL_TIMEOUT)
        except (TimeoutError, MediaError):
            await self.close()
            raise MediaError(ErrorCode.WORKER_FAILED, "the media worker did not start") from None

    async def close(self) -> None:
        self._closing = True
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            try:
                self._send({"op": "close"})
                await asyncio.wait_for(proc.wait(), 10)
            except (TimeoutError, MediaError, ConnectionError):
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self._fail("the media worker is closed")

    # -- channel --

    def _send(self, message: dict[str, Any]) -> None:
        if self._failed is not None and message.get("op") != "close":
            raise MediaError(ErrorCode.WORKER_FAILED, self._failed)
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            raise MediaError(ErrorCode.WORKER_FAILED, "the media worker is not running")
        proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def _call(self, op: str, **args: Any) -> Any:
        self._next_id += 1
        call_id = self._next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = fut
        try:
            self._send({"id": call_id, "op": op, **args})
            return await asyncio.wait_for(fut, CALL_TIMEOUT)
        except TimeoutError:
            raise MediaError(ErrorCode.WORKER_FAILED, f"the media worker did not answer {op}") from None
        finally:
            self._pending.pop(call_id, None)

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        try:
            while True:
                line = await stdout.readline()
                if not line:
                    break
                try:
                    self._dispatch(json.loads(line))
                except Exception:
                    logger.exception("bad message from the media worker")
        finally:
            self._fail("the media worker exited" if self._closing else "the media worker died")

    def _fail(self, reason: str) -> None:
        if self._failed is None:
            self._failed = reason
            if not self._closing:
                logger.error("%s", reason)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MediaError(ErrorCode.WORKER_FAILED, reason))
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(MediaError(ErrorCode.WORKER_FAILED, reason))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "ready" in msg:
            relay = msg.get("relay")
            self._relay_address = (str(relay[0]), int(relay[1])) if relay else None
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(int(msg["ready"]))
            return
        if "id" in msg:
            fut = self._pending.get(msg["id"])
            if fut is None or fut.done():
                return
            if "error" in msg:
                err = msg["error"]
                fut.set_exception(MediaError(ErrorCode(err["code"]), err["message"]))
            else:
                fut.set_result(msg.get("ok"))
            return
        event = msg.get("event")
        try:
            if event == "stats":
                self._stats = msg["stats"]
                self._relay_stats = msg.get("relays", {})
            elif event == "relay_state" and self.relay_state_changed:
                self.relay_state_changed(msg["link"], msg["state"])
            elif event == "audio_level" and self.on_audio_level:
                self.on_audio_level(msg["peer"], int(msg["level"]))
            elif event == "peer_state" and self.on_peer_state:
                self.on_peer_state(msg["peer"], PeerState(msg["state"]))
            elif event == "publish_hint" and self.on_publish_hint:
                self.on_publish_hint(msg["peer"], PublishHint(msg["audio"], VideoSend(msg["video"]),
                                                              bool(msg.get("share", False))))
            elif event == "link_quality" and self.on_link_quality:
                self.on_link_quality(msg["peer"], LinkQuality(bool(msg["audio_only"]), str(msg["reason"]),
                                                              float(msg["loss"])))
        except Exception:
            logger.exception("media worker callback for %s failed", event)

    # -- the forwarder interface --

    async def accept_offer(self, peer_id: str, sdp: str) -> str:
        check_peer_id(peer_id)
        if not isinstance(sdp, str) or len(sdp) > self.config.max_sdp_bytes * 2:
            raise MediaError(ErrorCode.BAD_SDP, "the offer is not text or is too large")
        return str(await self._call("accept_offer", peer_id=peer_id, sdp=sdp))

    async def add_candidate(self, peer_id: str, candidate: dict[str, Any] | None) -> None:
        check_peer_id(peer_id)
        await self._call("add_candidate", peer_id=peer_id, candidate=candidate)

    async def remove_peer(self, peer_id: str) -> None:
        await self._call("remove_peer", peer_id=peer_id)

    def steer(self, program: str | None, speakers: Sequence[str], muted: Collection[str]) -> None:
        if program is not None:
            check_peer_id(program)
        self._send({"op": "steer", "program": program, "speakers": list(check_ids(speakers, "speakers")),
                    "muted": list(check_ids(list(muted), "muted"))})

    def set_program(self, peer_id: str | None) -> None:
        if peer_id is not None:
            check_peer_id(peer_id)
        self._send({"op": "set_program", "peer_id": peer_id})

    def set_share(self, peer_id: str | None) -> None:
        if peer_id is not None:
            check_peer_id(peer_id)
        self._send({"op": "set_share", "peer_id": peer_id})

    def set_speakers(self, peer_ids: Sequence[str]) -> None:
        self._send({"op": "set_speakers", "peer_ids": list(check_ids(peer_ids, "speakers"))})

    def set_muted(self, peer_id: str, muted: bool) -> None:
        self._send({"op": "set_muted", "peer_id": check_peer_id(peer_id), "on": bool(muted)})

    def set_audio_only(self, peer_id: str, on: bool) -> None:
        self._send({"op": "set_audio_only", "peer_id": check_peer_id(peer_id), "on": bool(on)})

    def set_previews(self, viewer_id: str, peer_ids: Sequence[str]) -> None:
        ids = check_ids(peer_ids, "previews")
        if len(ids) > self.config.max_preview_slots:
            raise MediaError(ErrorCode.BAD_ARGUMENT, f"at most {self.config.max_preview_slots} previews")
        self._send({"op": "set_previews", "viewer_id": check_peer_id(viewer_id), "peer_ids": list(ids)})

    async def start_recording(self, path: str, title: str = "Start") -> None:
        await self._call("start_recording", path=path, title=title)

    def mark_chapter(self, title: str) -> None:
        self._send({"op": "mark_chapter", "title": str(title)})

    async def stop_recording(self) -> RecordingInfo:
        info = await self._call("stop_recording")
        info["chapters"] = [Chapter(c["start"], c["title"]) for c in info["chapters"]]
        return RecordingInfo(**info)

    def stats(self) -> dict[str, Any]:
        return self._stats

    # -- relays between forwarders (media/relay.py) --

    @property
    def relay_address(self) -> tuple[str, int] | None:
        return self._relay_address

    async def open_relay_out(self, link: RelayLink) -> None:
        await self._call("open_relay_out", link=_link_json(link))

    async def open_relay_in(self, link: RelayLink) -> None:
        await self._call("open_relay_in", link=_link_json(link))

    async def close_relay(self, link_id: str) -> None:
        await self._call("close_relay", link_id=str(link_id))

    def relay_stats(self) -> dict[str, Any]:
        """The latest figures the child pushed (every ``stats_interval``); see :meth:`fetch_relay_stats`."""
        return self._relay_stats

    async def fetch_relay_stats(self) -> dict[str, Any]:
        self._relay_stats = await self._call("relay_stats")
        return self._relay_stats

    async def fetch_stats(self) -> dict[str, Any]:
        self._stats = await self._call("stats")
        return self._stats


def _link_json(link: RelayLink) -> dict[str, Any]:
    if not isinstance(link, RelayLink):
        raise MediaError(ErrorCode.BAD_ARGUMENT, "expected a RelayLink")
    return link.to_json()


# --- the child ------------------------------------------------------------------------


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    # Our stdout is the channel; anything printed by accident goes to stderr instead.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(out_fd, "wb", buffering=0)
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def emit(msg: dict[str, Any]) -> None:
        out.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")

    first = json.loads(await reader.readline())
    config = config_from_json(first["config"])
    fwd = Forwarder(
        config,
        on_audio_level=lambda peer, level: emit({"event": "audio_level", "peer": peer, "level": level}),
        on_peer_state=lambda peer, state: emit({"event": "peer_state", "peer": peer, "state": state.value}),
        on_publish_hint=lambda peer, hint: emit(
            {"event": "publish_hint", "peer": peer, "audio": hint.audio, "video": hint.video.value, "share": hint.share}
        ),
        on_link_quality=lambda peer, q: emit(
            {"event": "link_quality", "peer": peer, "audio_only": q.audio_only, "reason": q.reason, "loss": q.loss}
        ),
    )
    fwd.relay_state_changed = lambda link, state: emit({"event": "relay_state", "link": link, "state": state})
    await fwd.start()
    emit({"ready": os.getpid(), "relay": list(fwd.relay_address) if fwd.relay_address else None})

    async def push_stats() -> None:
        while True:
            await asyncio.sleep(float(first.get("stats_interval", 1.0)))
            emit({"event": "stats", "stats": fwd.stats(per_peer=False),  # per peer on request
                  "relays": fwd.relay_stats()})

    async def call(msg: dict[str, Any]) -> None:
        try:
            op = msg["op"]
            if op == "accept_offer":
                result: Any = await fwd.accept_offer(msg["peer_id"], msg["sdp"])
            elif op == "add_candidate":
                await fwd.add_candidate(msg["peer_id"], msg["candidate"])
                result = None
            elif op == "remove_peer":
                await fwd.remove_peer(msg["peer_id"])
                result = None
            elif op == "stats":
                result = fwd.stats()
            elif op == "start_recording":
                fwd.start_recording(msg["path"], msg.get("title", "Start"))
                result = None
            elif op == "stop_recording":
                result = asdict(await fwd.stop_recording())
            elif op == "open_relay_out":
                await fwd.open_relay_out(RelayLink.from_json(msg["link"]))
                result = None
            elif op == "open_relay_in":
                await fwd.open_relay_in(RelayLink.from_json(msg["link"]))
                result = None
            elif op == "close_relay":
                await fwd.close_relay(str(msg["link_id"]))
                result = None
            elif op == "relay_stats":
                result = fwd.relay_stats()
            else:
                raise MediaError(ErrorCode.BAD_ARGUMENT, f"unknown operation {op!r}")
            emit({"id": msg["id"], "ok": result})
        except MediaError as exc:
            emit({"id": msg["id"], "error": {"code": exc.code.value, "message": exc.message}})
        except Exception as exc:  # never let one call kill the worker
            logger.exception("worker call failed")
            emit({"id": msg["id"], "error": {"code": ErrorCode.WORKER_FAILED.value, "message": str(exc)}})

    control = {
        "steer": lambda m: fwd.steer(m["program"], m["speakers"], m["muted"]),
        "set_program": lambda m: fwd.set_program(m["peer_id"]),
        "set_share": lambda m: fwd.set_share(m["peer_id"]),
        "set_speakers": lambda m: fwd.set_speakers(m["peer_ids"]),
        "set_muted": lambda m: fwd.set_muted(m["peer_id"], m["on"]),
        "set_audio_only": lambda m: fwd.set_audio_only(m["peer_id"], m["on"]),
        "set_previews": lambda m: fwd.set_previews(m["viewer_id"], m["peer_ids"]),
        "mark_chapter": lambda m: fwd.mark_chapter(m["title"]),
    }
    stats_task = asyncio.create_task(push_stats())
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            msg = json.loads(line)
            op = msg.get("op")
            if op == "close":
                break
            if "id" in msg:
                task = asyncio.create_task(call(msg))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif op in control:
                try:
                    control[op](msg)
                except MediaError as exc:
                    logger.warning("control %s refused: %s", op, exc)
    finally:
        stats_task.cancel()
        await fwd.close()


def main() -> None:
    logging.basicConfig(level=os.environ.get("BRIDGECONF_MEDIA_LOG", "WARNING"), stream=sys.stderr)
    use_loop()   # the server's choice (BRIDGECONF_LOOP)
    asyncio.run(_serve())


if __name__ == "__main__":
    main()
