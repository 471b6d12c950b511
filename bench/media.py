"""Media forwarder benchmark: one publisher, N lean subscribing sites, all on loopback.

    .venv/bin/python bench/media.py                      # N = 10 25 50 100 200 + MediaRelay baseline
    .venv/bin/python bench/media.py --sizes 50 --duration 5 --no-baseline
    .venv/bin/python bench/media.py --sizes 200 --profile  # py-spy the forwarder during the window
    .venv/bin/python bench/media.py --relay 200 --duration 8  # 1 x 200 sites, 2 x 100 + a relay link, 1 x 100

Processes: this one (signaling hub over HTTP on 127.0.0.1), the forwarder (a
``media.worker`` child: the process whose CPU is measured), one publisher
(pre-encoded VP8 1280x720 30 fps ~1.2 Mbit/s + Opus 20 ms, looped, no encoding at
run time) and a few subscriber processes holding the N sites (``media.client``:
real ICE + DTLS-SRTP peers that unprotect and count packets and complete frames,
never decode). For each N: connect everything, warm up, then measure a fixed
window: forwarder CPU (user+sys s/s from /proc), RSS, CPU microseconds per RTP
packet it sent, frames/s delivered per site vs frames/s the publisher sent.
The MediaRelay baseline (aiortc decodes the program once and encodes it per
site) runs the same clients against a plain aiortc server. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from aiohttp import ClientSession, web  # noqa: E402

from media.config import MediaConfig  # noqa: E402
from media.loops import ENV, LOOPS  # noqa: E402

CONFIG = MediaConfig(gather_addresses=("127.0.0.1",))
CLK_TCK = os.sysconf("SC_CLK_TCK")
WIDTH, HEIGHT, FPS, BITRATE, KEYINT, CLIP_SECONDS = 1280, 720, 30, 1_200_000, 60, 4


# --- /proc -------------------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    return sum(proc_cpu_split(pid))


def proc_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def proc_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def udp_drops() -> int:
    """UDP datagrams the kernel dropped for full receive buffers (all sockets)."""
    with open("/proc/net/snmp") as f:
        lines = [line.split() for line in f if line.startswith("Udp:")]
    fields = dict(zip(lines[0][1:], lines[1][1:], strict=True))
    return int(fields.get("RcvbufErrors", 0))


def machine_jiffies() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def renice(pid: int, value: int) -> bool:
    """Raise a bench process's priority above the machine's other work (root only)."""
    if value == 0:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, value)
        return True
    except OSError:
        return False


def pin(pid: int, cpus: set[int]) -> bool:
    """Keep a bench process on these CPUs (the forwarder gets a core of its own)."""
    try:
        os.sched_setaffinity(pid, cpus)
        return True
    except (OSError, AttributeError):
        return False


# --- the program clip -------------------------------------------------------------------------


def make_clip(width: int = WIDTH, height: int = HEIGHT, fps: int = FPS, bitrate: int = BITRATE) -> list[tuple[bytes, bool]]:
    """A VP8 clip (720p ~1.2 Mbit/s by default): bars, a moving box and a noisy band (so
    the encoder spends its bitrate like a camera does). Cached in the temp directory."""
    path = os.path.join(tempfile.gettempdir(), f"bridgeconf-clip-{width}x{height}-{fps}-{bitrate}-{KEYINT}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    import fractions

    import av
    from PIL import Image, ImageDraw

    cc = av.CodecContext.create("libvpx", "w")
    cc.width, cc.height, cc.pix_fmt = width, height, "yuv420p"
    cc.bit_rate = bitrate
    cc.time_base = fractions.Fraction(1, fps)
    cc.framerate = fractions.Fraction(fps, 1)
    cc.gop_size = KEYINT
    rate = str(bitrate)
    cc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "minrate": rate,
                  "maxrate": rate, "bufsize": rate, "undershoot-pct": "95", "overshoot-pct": "15"}  # fmt: skip
    base = Image.new("RGB", (width, height), (40, 80, 120))
    draw = ImageDraw.Draw(base)
    for i, c in enumerate([(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0)]):
        draw.rectangle([i * width // 6, 0, (i + 1) * width // 6, height // 4], fill=c)
    frames: list[tuple[bytes, bool]] = []
    for n in range(fps * CLIP_SECONDS):
        img = base.copy()
        img.paste(Image.effect_noise((width // 3, height // 6), 40).convert("RGB"), ((n * 8) % (width // 2), height // 2))
        ImageDraw.Draw(img).rectangle([n * 10 % width, height // 4 + 20, n * 10 % width + 80, height // 4 + 200], fill=(255, 255, 255))
        frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
        frame.pts = n
        if n % KEYINT == 0:
            frame.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(p) for p in cc.encode(frame))
        frames.append((data, bool(data) and not data[0] & 1))
    with open(path + ".tmp", "wb") as f:
        pickle.dump(frames, f)
    os.replace(path + ".tmp", path)
    return frames


# --- child processes ---------------------------------------------------------------------------


async def _commands(conn: Any, handlers: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: queue.put_nowait(conn.recv()))
    while True:
        cmd = await queue.get()
        if cmd == "stop":
            return
        name, at = cmd  # every process takes its snapshot at the same monotonic instant
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        conn.send(await handlers[name]())


def _signal(session: ClientSession, url: str, name: str) -> Any:
    async def signal(offer: str) -> str:
        async with session.post(f"{url}/offer/{name}", data=offer) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"offer refused: {text}")
            return text

    return signal


SPEAKER_CLIP = (320, 180, 15, 150_000)  # a floor holder's camera as the wall would ask for it


SHARE_CLIP = (1280, 720, 10, 600_000)  # a shared screen: detailed, slow (content hint "detail")


def publisher_main(conn: Any, url: str, name: str = "pub", small: bool = False, share: bool = False) -> None:
    async def run() -> None:
        from media.client import SiteClient
        from media.testsrc import ClipSource, ToneSource

        video = ClipSource(make_clip(*SPEAKER_CLIP), SPEAKER_CLIP[2]) if small else ClipSource(make_clip(), FPS)
        audio = ToneSource(440)
        async with ClientSession() as session:
            screen = ClipSource(make_clip(*SHARE_CLIP), SHARE_CLIP[2]) if share else None
            client = SiteClient(CONFIG, _signal(session, url, name), audio=audio, video=video, name=name,
                                share=screen)  # fmt: skip
            await client.connect(timeout=30)
            conn.send("ready")

            async def snapshot() -> dict[str, Any]:
                return {"video_frames": video.frames_sent, "audio_frames": audio.frames_sent,
                        "share_frames": screen.frames_sent if screen is not None else 0,
                        "skipped": video.pacer.skipped, "t": time.monotonic(), "cpu": proc_cpu(os.getpid()),
                        "state": client.link.state if client.link else "none"}  # fmt: skip

            async def pause() -> float:
                for source in (video, audio, screen):
                    if source is not None:
                        source.pacer.pause()
                return time.monotonic()

            async def resume() -> float:
                for source in (video, audio, screen):
                    if source is not None:
                        source.pacer.resume()
                return time.monotonic()

            # the longest wait between two video frames handed to the packetizer: what the
            # publisher itself contributes to a gap the sites see (a busy machine)
            sending = {"gap": 0.0, "at": 0.0}
            next_frame = video.next_frame

            async def timed_next_frame() -> Any:
                frame = await next_frame()
                now = time.monotonic()
                if sending["at"]:
                    sending["gap"] = max(sending["gap"], now - sending["at"])
                sending["at"] = now
                return frame

            video.next_frame = timed_next_frame  # type: ignore[method-assign]

            async def reset_gaps() -> float:
                sending["gap"] = sending["at"] = 0.0
                return time.monotonic()

            async def gaps() -> dict[str, float]:
                return {name: sending["gap"]}

            await _commands(conn, {"snapshot": snapshot, "pause": pause, "resume": resume,
                                   "reset_gaps": reset_gaps, "gaps": gaps})  # fmt: skip
            await client.close()

    asyncio.run(run())


def subscriber_main(conn: Any, url: str, names: list[str], share: bool = False) -> None:
    async def run() -> None:
        from media.client import SiteClient

        async with ClientSession() as session:
            clients = [SiteClient(CONFIG, _signal(session, url, n), speaker_slots=1, name=n, rcvbuf=1 << 20,
                                  share_slot=share) for n in names]  # fmt: skip
            gate = asyncio.Semaphore(8)

            async def connect(c: SiteClient) -> bool:
                async with gate:
                    try:
                        await c.connect(timeout=30)
                        return True
                    except Exception as exc:  # report, do not hide
                        print(f"{c.name}: {exc}", file=sys.stderr)
                        return False

            ok = await asyncio.gather(*(connect(c) for c in clients))
            conn.send(("ready", sum(ok)))

            async def snapshot() -> dict[str, Any]:
                return {
                    "t": time.monotonic(),
                    "cpu": proc_cpu(os.getpid()),
                    "sites": {
                        c.name: (c.counter("program/video").frames, c.counter("program/video").packets,
                                 c.counter("program/audio").packets, c.counter("program/video").incomplete,
                                 c.counter("program/video").gaps, c.link.rx_errors if c.link else 0)
                        for c in clients if c.counters
                    },
                }  # fmt: skip

            at_reset: dict[str, int] = {}

            async def reset_gaps() -> float:
                for c in clients:
                    if c.counters:
                        c.counter("program/video").reset_frame_gap()
                        at_reset[c.name] = c.counter("program/video").frames
                return time.monotonic()

            async def gaps() -> dict[str, float | None]:
                """Each site's longest wait between two complete program frames (None: fewer
                than two frames since the reset)."""
                return {c.name: c.counter("program/video").frame_gap
                        if c.counter("program/video").frames - at_reset.get(c.name, 0) >= 2 else None
                        for c in clients if c.counters}  # fmt: skip

            await _commands(conn, {"snapshot": snapshot, "reset_gaps": reset_gaps, "gaps": gaps})
            for c in clients:
                await c.close()

    asyncio.run(run())


def relay_main(conn: Any) -> None:
    """The baseline: plain aiortc, MediaRelay (decode the program once, encode per site)."""

    async def run() -> None:
        from aiortc import RTCPeerConnection, RTCSessionDescription
        from aiortc.contrib.media import MediaRelay

        from media.peering import restrict_gathering

        relay = MediaRelay()
        tracks: dict[str, Any] = {}
        pcs: list[RTCPeerConnection] = []

        async def offer(request: web.Request) -> web.Response:
            peer = request.match_info["peer"]
            pc = RTCPeerConnection(CONFIG.rtc_configuration())
            pcs.append(pc)
            if peer == "pub":
                pc.on("track", lambda track: tracks.__setitem__(track.kind, track))
            await pc.setRemoteDescription(RTCSessionDescription(sdp=await request.text(), type="offer"))
            if peer != "pub":
                for t in pc.getTransceivers()[:2]:
                    t.sender.replaceTrack(relay.subscribe(tracks[t.kind]))
                    t.direction = "sendrecv"
            restrict_gathering(pc, CONFIG)
            await pc.setLocalDescription(await pc.createAnswer())
            return web.Response(text=pc.localDescription.sdp)

        app = web.Application()
        app.router.add_post("/offer/{peer}", offer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        conn.send(port)

        async def snapshot() -> dict[str, Any]:
            return {}

        await _commands(conn, {"snapshot": snapshot})
        for pc in pcs:
            await pc.close()
        await runner.cleanup()

    asyncio.run(run())


# --- one measurement -----------------------------------------------------------------------------


async def _offer_hub(worker: Any, route: Any = None) -> tuple[web.AppRunner, str]:
    """The signaling of the bench: POST /offer/<peer> with the offer, the answer back.
    ``route(peer)``: which worker answers that peer (default: ``worker``)."""
    app = web.Application()

    async def offer(request: web.Request) -> web.Response:
        peer = request.match_info["peer"]
        answer = await (route(peer) if route else worker).accept_offer(peer, await request.text())
        return web.Response(text=answer)

    app.router.add_post("/offer/{peer}", offer)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    return runner, f"http://127.0.0.1:{tcp._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


def _start(target: Any, *args: Any) -> tuple[Any, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    return proc, parent


async def _recv(conn: Any, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while not conn.poll():
        if time.monotonic() > deadline:
            raise TimeoutError("child did not report")
        await asyncio.sleep(0.05)
    return conn.recv()


def _py_spy(pid: int, seconds: float, out: str, native: bool = False) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(exe):
        return None
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
         "--format", "raw", "--output", out, "--nonblocking", *(["--native"] if native else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summarize_profile(path: str, top: int = 14) -> dict[str, Any]:
    """Self time per function and time under a few functions of interest, from py-spy raw stacks."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    marks = {"forward": "Source.forward", "srtp_protect": "srtp_protect", "sendto": "sendto",
             "aes_gcm": "aes_gcm", "EVP": "EVP_", "udp_sendmsg": "sendmsg", "pack_into": "pack_into",
             "send_reports": "send_reports", "_on_rtcp": "_on_rtcp", "select": "select",
             "datagram_received": "datagram_received", "unprotect": "unprotect"}  # fmt: skip
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            n = int(count)
            frames = stack.split(";")
            total += n
            own[frames[-1].split(" (")[0]] += n
            seen = set()
            for fr in frames:
                name = fr.split(" (")[0]
                for key, pat in marks.items():
                    if pat in name and key not in seen:
                        under[key] += n
                        seen.add(key)
    return {
        "samples": total,
        "self_top": [(name, round(100 * n / total, 1)) for name, n in own.most_common(top)],
        "inclusive_pct": {k: round(100 * v / total, 1) for k, v in under.most_common()},
    }


def _merge_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Several workers' stats as one: totals summed, peers together, each worker's totals kept."""
    keys = ("packets_out", "packets_in", "cpu_time", "send_errors")
    peers: dict[str, Any] = {}
    for s in stats:
        peers.update(s.get("peers", {}))
    return {"totals": {k: sum(s["totals"][k] for s in stats) for k in keys}, "peers": peers,
            "per_process": [{k: s["totals"][k] for k in keys} for s in stats]}  # fmt: skip


async def measure(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One run: ``kind`` is "forwarder" (ours, in a media.worker process), "relay" (two
    workers: the publisher and the first half of the sites on one, the other half on the
    second, fed by a relay link from the first) or "mediarelay"."""
    from media.relay import RelayLink
    from media.worker import WorkerForwarder

    runner: web.AppRunner | None = None
    worker: WorkerForwarder | None = None
    workers: list[WorkerForwarder] = []
    relay_proc = relay_conn = None
    server_pids: list[int] = []
    on_origin = {"pub", *(f"site-{i}" for i in range(n // 2))} if kind == "relay" else {"pub"}
    if kind in ("forwarder", "relay"):
        config = replace(CONFIG, relay_host="127.0.0.1") if kind == "relay" else CONFIG
        workers = [WorkerForwarder(config) for _ in range(2 if kind == "relay" else 1)]
        for w in workers:
            await w.start()
            w.set_program("pub")
            if args.share:
                make_clip(*SHARE_CLIP)  # cached before the publisher needs it
                w.set_share("pub")
            assert w.pid is not None
            server_pids.append(w.pid)
        worker = workers[0]
        route = (lambda peer: workers[0] if peer in on_origin else workers[1]) if kind == "relay" else None
        runner, url = await _offer_hub(worker, route)
        server_pid = worker.pid
        if kind == "relay":
            key = os.urandom(30)
            origin, edge = workers
            assert origin.relay_address is not None and edge.relay_address is not None
            await edge.open_relay_in(RelayLink("bench:pub@2", "pub", origin.relay_address, key))
            await origin.open_relay_out(RelayLink("bench:pub@2", "pub", edge.relay_address, key))
    else:
        relay_proc, relay_conn = _start(relay_main)
        url = f"http://127.0.0.1:{await _recv(relay_conn)}"
        server_pid = relay_proc.pid
        assert server_pid is not None
        server_pids = [server_pid]
    assert server_pid is not None

    reniced = all([renice(pid, args.nice) for pid in server_pids])
    ncpu = os.cpu_count() or 1
    pinned = args.pin and ncpu >= 2 and pin(server_pid, {0})
    others = set(range(1, ncpu))
    share = bool(args.share and kind != "mediarelay")
    procs: list[tuple[Any, Any]] = []

    async def start_publisher() -> tuple[Any, Any]:
        proc, conn = _start(publisher_main, url, "pub", False, share)
        renice(proc.pid, args.nice)
        if pinned:
            pin(proc.pid, others)
        procs.append((proc, conn))
        assert await _recv(conn) == "ready"
        return proc, conn

    # Our forwarder: the publisher joins last, so that its connection does not sit through the
    # sites' join storm (on a busy machine a starved forwarder let its ICE consent lapse);
    # MediaRelay needs the publisher's tracks before the first site.
    publisher_last = kind != "mediarelay"
    try:
        if not publisher_last:
            pub_proc, pub_conn = await start_publisher()
            await asyncio.sleep(0.5)
        k = args.sub_procs or max(1, min(4, math.ceil(n / 100)))
        names = [f"site-{i}" for i in range(n)]
        subs = [_start(subscriber_main, url, names[i::k], share) for i in range(k)]
        for proc, _ in subs:  # the sites yield to the forwarder, the system under test
            renice(proc.pid, args.nice // 2)
            if pinned:
                pin(proc.pid, others)
        procs += subs
        t_connect = time.monotonic()
        connected = 0
        for _, conn in subs:
            connected += (await _recv(conn))[1]
        t_connect = time.monotonic() - t_connect
        if publisher_last:
            pub_proc, pub_conn = await start_publisher()
        await asyncio.sleep(args.warmup)

        async def snap() -> tuple[Any, ...]:
            at = time.monotonic() + 0.2  # CLOCK_MONOTONIC is shared by all processes
            for conn in [pub_conn, *(c for _, c in subs)]:
                conn.send(("snapshot", at))
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            t, jiffies, drops = time.monotonic(), machine_jiffies(), udp_drops()
            splits = [proc_cpu_split(pid) for pid in server_pids]
            cpu = (sum(x[0] for x in splits), sum(x[1] for x in splits))
            stats = _merge_stats([await w.fetch_stats() for w in workers]) if workers else None
            if kind == "relay" and stats is not None:
                stats["relay"] = await workers[1].fetch_relay_stats()
            return (t, cpu, jiffies, stats, await _recv(pub_conn), [await _recv(c) for _, c in subs], drops)

        async def publisher(command: str) -> float:
            pub_conn.send((command, 0.0))
            return float(await _recv(pub_conn))

        # The window is bracketed by pauses of the publisher, and everything in flight
        # drains before each snapshot: frames sent and frames received are the same set,
        # however late a busy process reads its socket.
        async def drained() -> tuple[Any, ...]:
            """Snapshots until the sites' counters stop moving: nothing left in flight."""
            await asyncio.sleep(args.drain)
            last = await snap()
            for _ in range(20):
                await asyncio.sleep(0.3)
                cur = await snap()
                if all(x["sites"] == y["sites"] for x, y in zip(last[5], cur[5], strict=True)):
                    return cur
                last = cur
            return last

        await publisher("pause")
        a = await drained()
        started = await publisher("resume")
        spy = None
        if args.profile and kind == "forwarder":
            profile_path = os.path.join(tempfile.gettempdir(), f"bridgeconf-media-{n}.pyspy")
            spy = _py_spy(server_pid, args.duration, profile_path, native=args.native)
        await asyncio.sleep(args.duration)
        stopped = await publisher("pause")
        b = await drained()
        profile = None
        if spy is not None:
            spy.wait(timeout=60)
            if os.path.exists(profile_path):
                profile = summarize_profile(profile_path)
        rss = sum(proc_rss_mb(pid) for pid in server_pids)
    finally:
        for _, conn in procs:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("stop")
        for proc, _ in procs:
            proc.join(timeout=20)
            if proc.is_alive():
                proc.kill()
        for w in workers:
            await w.close()
        if runner is not None:
            await runner.cleanup()
        if relay_proc is not None:
            relay_conn.send("stop")
            relay_proc.join(timeout=20)
            if relay_proc.is_alive():
                relay_proc.kill()

    active = stopped - started  # the publisher sent only in this interval
    user, system = (b[1][0] - a[1][0]) / active, (b[1][1] - a[1][1]) / active
    cpu = user + system
    busy = (b[2][0] - a[2][0]) / max(1, b[2][1] - a[2][1]) * (os.cpu_count() or 1)
    sent_video = b[4]["video_frames"] - a[4]["video_frames"]
    sent_audio = b[4]["audio_frames"] - a[4]["audio_frames"]
    ratios: list[float] = []
    by_side: dict[str, list[float]] = {}  # relay mode: the sites on the publisher's process, the others
    audio_ratios: list[float] = []
    video_pkts = audio_pkts = incomplete = gaps = rx_errors = 0
    sub_cpu = sum(sb["cpu"] - sa["cpu"] for sa, sb in zip(a[5], b[5], strict=True)) / active
    for sa, sb in zip(a[5], b[5], strict=True):
        for name, vb in sb["sites"].items():
            va = sa["sites"].get(name, (0, 0, 0, 0, 0, 0))
            incomplete += vb[3] - va[3]
            gaps += vb[4] - va[4]
            rx_errors += vb[5] - va[5]
            ratios.append((vb[0] - va[0]) / max(1, sent_video))
            by_side.setdefault("origin" if name in on_origin else "edge", []).append(ratios[-1])
            audio_ratios.append((vb[2] - va[2]) / max(1, sent_audio))
            video_pkts += vb[1] - va[1]
            audio_pkts += vb[2] - va[2]
    ratios += [0.0] * (n - len(ratios))
    audio_ratios += [0.0] * (n - len(audio_ratios))
    ratio = sum(ratios) / n
    if worker is not None:  # the worker's own CPU clock and counters, read at the same instant
        packets_out = b[3]["totals"]["packets_out"] - a[3]["totals"]["packets_out"]
        self_cpu = b[3]["totals"]["cpu_time"] - a[3]["totals"]["cpu_time"]
        packets_in = b[3]["totals"]["packets_in"] - a[3]["totals"]["packets_in"]
    else:
        packets_out = video_pkts + audio_pkts  # what the sites received
        self_cpu = cpu * active
        packets_in = None
    result = {
        "n": n,
        "connected": connected,
        "connect_s": round(t_connect, 1),
        "window_s": round(active, 2),
        "forwarder_cpu": round(cpu, 3),
        "forwarder_cpu_user_sys": [round(user, 3), round(system, 3)],
        "forwarder_rss_mb": round(rss, 1),
        "packets_out_per_s": round(packets_out / active),
        "cpu_us_per_packet": round(self_cpu / packets_out * 1e6, 1) if packets_out else None,
        "sent_fps": round(sent_video / active, 2),
        "sent_audio_pps": round(sent_audio / active, 1),
        "share_sent_fps": round((b[4]["share_frames"] - a[4]["share_frames"]) / active, 2),
        "delivered_fps_mean": round(ratio * sent_video / active, 2),
        "delivered_ratio": round(ratio, 4),
        "delivered_ratio_min": round(min(ratios), 4),
        "audio_ratio": round(sum(audio_ratios) / n, 4),
        "sites_per_core": round(n / cpu, 1) if cpu else None,
        "delivered_sites_per_core": round(n * min(1.0, ratio) / cpu, 1) if cpu else None,
        "subscribers_cpu": round(sub_cpu, 2),
        "machine_busy_cores": round(busy, 2),
        "loadavg": os.getloadavg()[0],
        "publisher_skipped_frames": b[4]["skipped"] - a[4]["skipped"],
        "reniced": args.nice if reniced else 0,
        "forwarder_pinned_to_cpu0": pinned,
        "udp_rcvbuf_drops": b[6] - a[6],
        "forwarder_packets_in": packets_in,
        "forwarder_send_errors": (b[3]["totals"]["send_errors"] - a[3]["totals"]["send_errors"]) if worker else None,
        "sites_incomplete_frames": incomplete,
        "sites_seq_gaps": gaps,
        "sites_srtp_errors": rx_errors,
        "publisher_state": b[4].get("state"),
        "publisher_state_at_forwarder": (b[3]["peers"].get("pub", {}).get("state") if worker else None),
    }
    if kind == "relay":
        per = [{"cpu_s": round(y["cpu_time"] - x["cpu_time"], 3), "packets_out": y["packets_out"] - x["packets_out"],
                "packets_in": y["packets_in"] - x["packets_in"]}
               for x, y in zip(a[3]["per_process"], b[3]["per_process"], strict=True)]  # fmt: skip
        for p in per:
            p["cpu_us_per_packet"] = round(p["cpu_s"] / p["packets_out"] * 1e6, 1) if p["packets_out"] else None
        link_a, link_b = a[3]["relay"]["links"]["bench:pub@2"], b[3]["relay"]["links"]["bench:pub@2"]
        result["processes"] = per
        result["delivered_ratio_min_by_process"] = {side: round(min(v), 4) for side, v in by_side.items()}
        result["relay_link"] = {k: link_b[k] - link_a[k] for k in ("packets", "bytes", "lost", "recovered", "nacks", "plis")}
        result["relay_link"]["dropped_unknown"] = b[3]["relay"]["dropped_unknown"]
    if profile:
        result["profile"] = profile
    return result


def _spread(values: list[float], scale: float = 1000.0) -> dict[str, float | None]:
    """min / p50 / p95 / max of ``values`` (seconds), in milliseconds."""
    if not values:
        return {"min": None, "p50": None, "p95": None, "max": None}
    v = sorted(values)
    return {"min": round(v[0] * scale, 3), "p50": round(v[len(v) // 2] * scale, 3),
            "p95": round(v[min(len(v) - 1, int(len(v) * 0.95))] * scale, 3), "max": round(v[-1] * scale, 3)}  # fmt: skip


async def handovers(n: int, args: argparse.Namespace, with_media: bool) -> dict[str, Any]:
    """The control path at N pages: 20 floor handovers between two speaking sites.

    The forwarder (a ``media.worker``, as in :func:`measure`) times each change itself:
    the call (rerouting every output that moves, the publish hints) and until its event
    loop has run everything that was ready at that moment ("back to idle"). First with
    the publishers paused (the control cost alone), then, when ``with_media``, with the
    program flowing: the longest wait between two complete program frames at each site
    over a window without handovers (the reference: pacing and the machine's noise) and
    over the 20 handovers, against the frame interval (33 ms at 30 fps).
    """
    from media.worker import WorkerForwarder

    make_clip(), make_clip(*SPEAKER_CLIP)  # cached before two publishers would both make it
    # no automatic audio-only: a site the busy machine pushed to audio only would count as a freeze
    worker = WorkerForwarder(replace(CONFIG, auto_audio_only=False))
    await worker.start()
    assert worker.pid is not None
    worker.steer("pub", [], [])
    runner, url = await _offer_hub(worker)
    renice(worker.pid, args.nice)
    procs = []
    try:
        k = args.sub_procs or max(1, min(4, math.ceil(n / 100)))
        names = [f"site-{i}" for i in range(n)]
        subs = [_start(subscriber_main, url, names[i::k]) for i in range(k)]
        procs += subs
        for proc, _ in subs:
            renice(proc.pid, args.nice // 2)
        t_connect = time.monotonic()
        connected = sum([(await _recv(conn))[1] for _, conn in subs])
        t_connect = time.monotonic() - t_connect
        # the publishers join last, as in measure(): their connections skip the join storm
        pubs = [_start(publisher_main, url, name, name != "pub") for name in ("pub", "spk-a", "spk-b")]
        procs += pubs
        for proc, conn in pubs:
            renice(proc.pid, args.nice)
            assert await _recv(conn) == "ready"
        await asyncio.sleep(args.warmup)

        async def each(command: str, conns: list[Any]) -> list[Any]:
            for conn in conns:
                conn.send((command, 0.0))
            return [await _recv(conn) for conn in conns]

        async def twenty(pause: float) -> None:
            for i in range(20):
                worker.steer("pub", ["spk-a" if i % 2 == 0 else "spk-b"], [])
                await asyncio.sleep(pause)

        async def timings() -> list[Any]:
            """The forwarder's own timings of the last 20 handovers (fetched outside the
            windows: the per-peer stats take the worker's loop a while)."""
            timing = (await worker.fetch_stats())["control"]["timing"]
            calls = [s for what, s in timing["recent_s"] if what == "steer"][-20:]
            to_idle = [s for what, s in timing["recent_to_idle_s"] if what == "steer"][-20:]
            return [calls, to_idle]

        pub_conns = [c for _, c in pubs]
        sub_conns = [c for _, c in subs]
        await each("pause", pub_conns)
        await asyncio.sleep(args.drain)
        load = os.getloadavg()[0]
        await twenty(0.25)
        idle_calls, idle_to_idle = await timings()
        result: dict[str, Any] = {
            "n": n, "connected": connected, "connect_s": round(t_connect, 1), "loadavg": load,
            "publishers_paused": {"floor_change_ms": _spread(idle_calls), "back_to_idle_ms": _spread(idle_to_idle)},
        }  # fmt: skip
        if with_media:
            await each("resume", pub_conns)
            await asyncio.sleep(2.0)
            jiffies = machine_jiffies()
            program = pub_conns[:1]
            await each("reset_gaps", sub_conns + program)
            await asyncio.sleep(10.0)
            quiet_all = [g for part in await each("gaps", sub_conns) for g in part.values()]
            quiet = [g for g in quiet_all if g is not None]
            quiet_sent = (await each("gaps", program))[0]["pub"]
            await each("reset_gaps", sub_conns + program)
            await twenty(0.5)
            gaps_all = [g for part in await each("gaps", sub_conns) for g in part.values()]
            gaps = [g for g in gaps_all if g is not None]
            gaps_sent = (await each("gaps", program))[0]["pub"]
            calls, to_idle = await timings()
            publishers = [snap["state"] for snap in await each("snapshot", pub_conns)]
            j2 = machine_jiffies()
            result["program_flowing"] = {
                "floor_change_ms": _spread(calls), "back_to_idle_ms": _spread(to_idle),
                "frame_interval_ms": round(1000 / FPS, 1),
                "largest_program_frame_gap_ms_per_site_without_handovers_10s": _spread(quiet),
                "largest_program_frame_gap_ms_per_site_during_20_handovers": _spread(gaps),
                "largest_gap_at_the_publisher_ms": {"without_handovers": round(quiet_sent * 1000, 1),
                                                    "during_handovers": round(gaps_sent * 1000, 1)},
                "sites_measured": len(gaps),
                "publisher_connections": publishers,
                "sites_without_program_frames": {"without_handovers": len(quiet_all) - len(quiet),
                                                 "during_handovers": len(gaps_all) - len(gaps)},
                "machine_busy_cores": round((j2[0] - jiffies[0]) / max(1, j2[1] - jiffies[1]) * (os.cpu_count() or 1), 2),
                "loadavg": os.getloadavg()[0],
            }  # fmt: skip
        return result
    finally:
        for _, conn in procs:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("stop")
        for proc, _ in procs:
            proc.join(timeout=20)
            if proc.is_alive():
                proc.kill()
        await worker.close()
        await runner.cleanup()


async def control_micro(sizes: list[int], rounds: int = 40) -> list[dict[str, Any]]:
    """The control path alone, in this process: a Forwarder with N connected sites (real
    SitePeer, Source and Output objects; no sockets: the keyframe requests go nowhere), then
    ``rounds`` floor handovers between two speakers, a mute-all and an unmute-all, a site
    joining and leaving. Wall time per change — what the server's loop is blocked for."""
    from media.forwarder import Forwarder
    from media.layout import Layout, Slot, SlotRole
    from media.session import PeerState, SitePeer
    from media.streams import Output, Source

    class NoLink:
        send_errors = 0

        def send_rtcp(self, data: bytes) -> None:
            pass

    def fake_site(fwd: Forwarder, pid: str) -> SitePeer:
        peer = SitePeer(pid, fwd.config, fwd._peer_state_changed, fwd._output_waiting)
        link: Any = NoLink()
        peer.layout = Layout((Slot(0, "0", "audio", SlotRole.MAIN, 0, "sendrecv"),
                              Slot(1, "1", "video", SlotRole.MAIN, 0, "sendrecv"),
                              Slot(2, "2", "audio", SlotRole.SPEAKER, 0, "recvonly"),
                              Slot(3, "3", "video", SlotRole.SPEAKER, 0, "recvonly")))  # fmt: skip
        for kind, pt in (("audio", 111), ("video", 96)):
            src = peer.sources[kind] = Source(pid, kind, link, pt, 48000 if kind == "audio" else 90000, "VP8", 1)
            src.ssrc = 1000 + len(fwd._peers)  # as if it had sent: keyframe requests are "sent"
        for n, (role, kind) in enumerate([(SlotRole.MAIN, "audio"), (SlotRole.MAIN, "video"),
                                          (SlotRole.SPEAKER, "audio"), (SlotRole.SPEAKER, "video")]):  # fmt: skip
            peer.outputs[(role, 0, kind)] = Output(pid, f"{role}/{kind}", kind, str(n), 2000 + n, 96, 90000, 0,
                                                   link, fwd._output_waiting)  # fmt: skip
        peer.state = PeerState.CONNECTED
        fwd._peers[pid] = peer
        return peer

    async def one(n: int) -> dict[str, Any]:
        fwd = Forwarder(CONFIG)
        await fwd.start()
        try:
            names = [f"site-{i}" for i in range(n)]
            for pid in ["main", *names]:
                fwd._peer_changed(fake_site(fwd, pid))
            fwd.steer("main", [names[0]], [])

            def timed(change: Any) -> float:
                t = time.perf_counter()
                change()
                return time.perf_counter() - t

            floor = [timed(lambda i=i: fwd.steer("main", [names[i % 2]], [])) for i in range(1, rounds + 1)]
            mute_all = timed(lambda: fwd.steer("main", [names[0]], names))
            unmute_all = timed(lambda: fwd.steer("main", [names[0]], []))
            mute_one = timed(lambda: fwd.steer("main", [names[0]], [names[-1]]))
            joins = []
            for i in range(rounds):
                peer = fake_site(fwd, f"late-{i}")
                joins.append(timed(lambda peer=peer: fwd._peer_changed(peer)))
            moved = sum(1 for p in fwd._peers.values() for o in p.outputs.values() if o.source is not None)
            return {"n": n, "floor_change_ms": _spread(floor), "mute_all_ms": round(mute_all * 1000, 2),
                    "unmute_all_ms": round(unmute_all * 1000, 2), "mute_one_site_ms": round(mute_one * 1000, 3),
                    "join_ms": _spread(joins), "bound_outputs": moved}  # fmt: skip
        finally:
            fwd._peers.clear()
            await fwd.close()

    return [await one(n) for n in sizes]


def micro(outputs: int = 200, packets: int = 300) -> dict[str, float]:
    """Cost of the hot loop's parts per output (µs), in this process: Source.forward to
    ``outputs`` outputs whose packets go to one draining socket; then without sendto;
    then without SRTP either."""
    import socket
    import struct

    from pylibsrtp import Policy, Session

    from media.peering import srtp_handle
    from media.streams import Output, Source

    class FakeLink:
        send_errors = 0

        def send_rtcp(self, data: bytes) -> None:
            pass

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.setblocking(False)
    src = Source("pub", "video", FakeLink(), 96, 90000, "VP8", 1)  # type: ignore[arg-type]
    keep = []
    outs = []
    for i in range(outputs):
        policy = Policy(key=os.urandom(44), ssrc_type=Policy.SSRC_ANY_OUTBOUND,
                        srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM)  # fmt: skip
        policy.allow_repeat_tx = True  # as aiortc sets it; the runs below resend the same packets
        session = Session(policy)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.bind(("127.0.0.1", 0))
        tx.setblocking(False)
        keep += [session, tx]
        o = Output(f"s{i}", "program/video", "video", "1", 1000 + i, 96, 90000, 1, None, lambda o, on: None)  # type: ignore[arg-type]
        o.srtp, o.sendto, o.addr = srtp_handle(session), tx.sendto, rx.getsockname()
        o.bind(src)
        outs.append(o)
    desc = bytes([0x90, 0x80, 0x80, 0x10])
    ext = struct.pack("!HH", 0xBEDE, 1) + bytes([0x10, 0x33, 0, 0])
    pkts = [struct.pack("!BBHII", 0x90, 0x80 | 96, i, i * 3000, 5555) + ext + desc + (b"\x00" if i == 0 else b"\x01")
            + os.urandom(1150) for i in range(packets)]  # fmt: skip

    def drain() -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                rx.recv(2048)

    def run(with_drain: bool) -> float:
        t = time.process_time()
        for p in pkts:
            src.forward(p)
            if with_drain:
                drain()
        return (time.process_time() - t) / packets / outputs * 1e6

    full = run(True)
    assert not any(o.errors for o in outs), "SRTP refused a packet"
    for o in outs:
        o.sendto = lambda data, addr: None
    no_send = run(False)
    import media.streams as streams

    real = streams._PROTECT
    streams._PROTECT = lambda handle, buf, lenp: 0  # type: ignore[assignment]
    try:
        no_srtp = run(False)
    finally:
        streams._PROTECT = real
    return {
        "outputs": outputs,
        "us_per_output_total_with_loopback_receive": round(full, 2),
        "us_sendto_and_kernel": round(full - no_send, 2),
        "us_srtp_protect": round(no_send - no_srtp, 2),
        "us_python_loop_header_copy": round(no_srtp, 2),
    }


async def relay_bench(args: argparse.Namespace) -> None:
    """``--relay N``: the cost of a relay between forwarder processes, beside one process."""
    t0 = time.monotonic()
    make_clip()
    out: dict[str, Any] = {
        "command": "bench/media.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
        "program": f"VP8 {WIDTH}x{HEIGHT} {FPS} fps ~{BITRATE // 1000} kbit/s + Opus 20 ms",
    }
    single = await measure("forwarder", args.relay, args)
    print(json.dumps(single), file=sys.stderr)
    relayed = await measure("relay", args.relay, args)
    print(json.dumps(relayed), file=sys.stderr)
    # the control: what one process costs per packet with half the sites (each relay process
    # has half), so that the relay's own cost can be told from the cost of a smaller fan-out
    half = await measure("forwarder", args.relay // 2, args)
    print(json.dumps(half), file=sys.stderr)
    out["one_process"] = single
    out["two_processes_relay"] = relayed
    out["one_process_half_the_sites"] = half
    if single["cpu_us_per_packet"] and relayed["cpu_us_per_packet"]:
        out["cpu_per_packet_ratio_relay_vs_one"] = round(relayed["cpu_us_per_packet"] / single["cpu_us_per_packet"], 3)
    if half["cpu_us_per_packet"] and relayed["cpu_us_per_packet"]:
        out["cpu_per_packet_ratio_relay_vs_half"] = round(relayed["cpu_us_per_packet"] / half["cpu_us_per_packet"], 3)
    out["goal"] = "ratio <= 1.15, delivered_ratio_min >= 0.999 at every site"
    out["delivered_ratio_min"] = {"one_process": single["delivered_ratio_min"],
                                  "two_processes_relay": relayed["delivered_ratio_min"]}  # fmt: skip
    out["loadavg_at_end"] = os.getloadavg()
    out["elapsed_s"] = round(time.monotonic() - t0)
    print(json.dumps(out, indent=2))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 25, 50, 100, 200])
    parser.add_argument("--baseline-sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--duration", type=float, default=10.0, help="measured window per N (s)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--sub-procs", type=int, default=0, help="subscriber processes (0: auto)")
    parser.add_argument("--profile", action="store_true", help="py-spy the forwarder during each window")
    parser.add_argument("--native", action="store_true", help="with --profile: C frames too (py-spy --native)")
    parser.add_argument("--pin", action="store_true",
                        help="give the forwarder CPU 0 and the other processes the other CPUs (an experiment: "
                             "on 2 cores it starves the sites)")
    parser.add_argument("--drain", type=float, default=1.0, help="least pause before each snapshot (s)")
    parser.add_argument("--nice", type=int, default=-10,
                        help="priority of the bench's processes (the machine is shared; 0: leave as is)")
    parser.add_argument("--micro", action="store_true", help="only the in-process cost breakdown of the hot loop")
    parser.add_argument("--share", action="store_true",
                        help="the publisher also shares a screen (720p 10 fps ~0.6 Mbit/s) to every site's share slot")
    parser.add_argument("--handovers", type=int, nargs="*", metavar="N",
                        help="only the control path: 20 floor handovers at N pages (default 50 200 500)")
    parser.add_argument("--control-micro", type=int, nargs="*", metavar="N",
                        help="only the control path in this process, N fake connected sites (default 50 200 500 1000)")
    parser.add_argument("--gap-sizes", type=int, nargs="+", default=[50, 200],
                        help="with --handovers: the N at which the program also flows, to measure frame gaps")
    result: dict[str, Any]
    parser.add_argument("--relay", type=int, metavar="N",
                        help="relays: 1 process x N sites, then 2 processes x N/2 sites with the publisher on the "
                             "first and a relay link to the second; CPU per packet of both, summed")
    parser.add_argument("--loop", choices=LOOPS, default="asyncio", help="the forwarder worker's event loop")
    args = parser.parse_args()
    os.environ[ENV] = args.loop   # the forwarder worker processes started from here run it (media.loops)
    if args.micro:
        print(json.dumps(micro(), indent=2))
        return
    if args.control_micro is not None:
        result = {"command": "bench/media.py " + " ".join(sys.argv[1:]), "loadavg": os.getloadavg(),
                  "control": await control_micro(args.control_micro or [50, 200, 500, 1000])}  # fmt: skip
        print(json.dumps(result, indent=2))
        return
    if args.handovers is not None:
        result = {"command": "bench/media.py " + " ".join(sys.argv[1:]),
                  "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
                  "handovers": []}  # fmt: skip
        for n in args.handovers or [50, 200, 500]:
            r = await handovers(n, args, with_media=n in args.gap_sizes)
            result["handovers"].append(r)
            print(json.dumps(r), file=sys.stderr)
        print(json.dumps(result, indent=2))
        return

    if args.relay is not None:
        await relay_bench(args)
        return

    t0 = time.monotonic()
    clip = make_clip()
    kbps = sum(len(d) for d, _ in clip) * 8 / (len(clip) / FPS) / 1000
    out: dict[str, Any] = {
        "command": "bench/media.py " + " ".join(sys.argv[1:]),
        "loop": args.loop,
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
        "program": {"video": f"VP8 {WIDTH}x{HEIGHT} {FPS} fps, {kbps:.0f} kbit/s, keyframe every {KEYINT} frames",
                    "audio": "Opus 20 ms (50 packets/s)"},  # fmt: skip
        "forwarder": [],
    }
    for n in args.sizes:
        r = await measure("forwarder", n, args)
        out["forwarder"].append(r)
        print(json.dumps(r), file=sys.stderr)
    good = [r for r in out["forwarder"] if r["delivered_ratio"] >= 0.98]
    out["largest_n_with_98pct_frames"] = max((r["n"] for r in good), default=None)
    best = max(good, key=lambda r: r["n"]) if good else None
    if best:
        out["sites_per_core"] = best["sites_per_core"]
        out["cpu_us_per_packet_at_largest_n"] = best["cpu_us_per_packet"]
    if not args.no_baseline:
        out["mediarelay"] = []
        for n in args.baseline_sizes:
            r = await measure("mediarelay", n, args)
            out["mediarelay"].append(r)
            print(json.dumps(r), file=sys.stderr)
        base = max((r["delivered_sites_per_core"] or 0 for r in out["mediarelay"]), default=0)
        out["mediarelay_sites_per_core"] = base
        if best and base:
            out["ratio_vs_mediarelay"] = round(best["delivered_sites_per_core"] / base, 1)
    out["loadavg_at_end"] = os.getloadavg()
    out["elapsed_s"] = round(time.monotonic() - t0)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
