"""The forwarder in a worker process, driven through WorkerForwarder."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from media_helpers import LOOPBACK, wait_for

from media.client import SiteClient
from media.errors import ErrorCode, MediaError
from media.routing import PublishHint, VideoSend
from media.session import PeerState
from media.testsrc import PatternSource, ToneSource
from media.worker import WorkerForwarder


@pytest.fixture
async def worker() -> AsyncIterator[WorkerForwarder]:
    w = WorkerForwarder(LOOPBACK, stats_interval=0.2)
    await w.start()
    yield w
    await w.close()


def client(w: WorkerForwarder, peer_id: str, publish: bool = False) -> SiteClient:
    async def signal(offer: str) -> str:
        return await w.accept_offer(peer_id, offer)

    return SiteClient(
        LOOPBACK, signal, name=peer_id, capture=True,
        audio=ToneSource(keep=300) if publish else None,
        video=PatternSource(peer_id, 160, 96, keep=300) if publish else None,
    )  # fmt: skip


async def test_the_worker_forwards_and_the_server_loop_stays_free(worker: WorkerForwarder, tmp_path: Path) -> None:
    states: list[tuple[str, PeerState]] = []
    hints: dict[str, PublishHint] = {}
    levels: list[tuple[str, int]] = []
    worker.on_peer_state = lambda p, s: states.append((p, s))
    worker.on_publish_hint = lambda p, h: hints.__setitem__(p, h)
    worker.on_audio_level = lambda p, lvl: levels.append((p, lvl))
    assert worker.pid is not None and worker.pid != os.getpid()

    main = client(worker, "main", publish=True)
    subs = [client(worker, f"site-{i}") for i in range(1, 4)]
    try:
        await asyncio.gather(main.connect(), *(s.connect() for s in subs))
        worker.set_program("main")
        # measure how late this loop's timers run while the worker forwards
        lags: list[float] = []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t - 0.01)
        await wait_for(lambda: all(s.counter("program/video").frames >= 10 for s in subs), what="program")
        sent = set(main.video.sent)  # type: ignore[union-attr]
        for s in subs:
            video = s.counter("program/video")
            assert video.first_frame_keyframe and all(f.data in sent for f in video.captured)
        assert ("main", PeerState.CONNECTED) in states
        assert hints["main"] == PublishHint(True, VideoSend.FULL)
        await wait_for(lambda: any(p == "main" for p, _ in levels), what="audio levels from the worker")
        await wait_for(lambda: worker.stats().get("totals", {}).get("packets_out", 0) > 0, what="pushed stats")
        fresh = await worker.fetch_stats()
        assert fresh["totals"]["connected"] == 4 and fresh["control"]["program"] == "main"
        assert sorted(lags)[len(lags) // 2] < 0.05, "the caller's loop is not doing the forwarding"

        # errors cross the process boundary with their codes
        with pytest.raises(MediaError) as info:
            await worker.accept_offer("bad", "not sdp")
        assert info.value.code is ErrorCode.BAD_SDP
        with pytest.raises(MediaError) as info:
            await worker.add_candidate("nobody", {"candidate": ""})
        assert info.value.code is ErrorCode.UNKNOWN_PEER
        with pytest.raises(MediaError):
            worker.set_speakers("main")  # checked on this side already

        worker.set_speakers(["main"])
        worker.set_audio_only("site-1", True)
        worker.set_muted("main", True)
        await wait_for(lambda: hints["main"].audio is False, what="hint after muting")
        await worker.start_recording(str(tmp_path / "w.webm"), title="Opening")
        worker.mark_chapter("Item 1")
        await asyncio.sleep(0.5)
        info = await worker.stop_recording()
        assert [c.title for c in info.chapters][:2] == ["Opening", "Item 1"] and info.size > 0
        assert info.share_path is None, "nothing was shared: no share file"
        await worker.remove_peer("site-3")
        fresh = await worker.fetch_stats()
        assert "site-3" not in fresh["peers"] and fresh["control"]["audio_only"] == ["site-1"]
    finally:
        for s in [main, *subs]:
            await s.close()


async def test_a_dead_worker_fails_calls_clearly() -> None:
    w = WorkerForwarder(LOOPBACK)
    await w.start()
    assert w.pid is not None
    os.kill(w.pid, signal.SIGKILL)
    await wait_for(lambda: w._failed is not None, what="the proxy to notice")
    with pytest.raises(MediaError) as info:
        await w.accept_offer("x", "v=0")
    assert info.value.code is ErrorCode.WORKER_FAILED
    with pytest.raises(MediaError) as info:
        w.set_program("x")
    assert info.value.code is ErrorCode.WORKER_FAILED
    await w.close()
