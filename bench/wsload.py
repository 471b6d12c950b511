"""A lean WebSocket load client for the signaling benchmarks: thousands of pages in one process.

A page is a plain TCP connection: the HTTP/1.1 upgrade is written by hand, the page sends its
masked ``hello`` text frame, waits for the ``welcome``, and from then on an incremental frame
parser answers the server's pings at once (masked pongs) and, for each text frame, records the
receipt time under the event's ``seq`` (a bytes search in the frame's first 60 bytes). Receipts
are kept per seq: [count, first, last, payload bytes, untimed]. The parser handles frames split across
reads, several frames in one read, 7-, 16- and 64-bit lengths, fragmented messages, pings and
close frames.

Why not aiohttp's ``ws_connect``: a reader task per socket and aiohttp's message objects cost
~35 µs per received message, so on a 2-core machine the load clients saturated before the
server did. Three ways to read (``mode``):

- ``protocol``: an ``asyncio.Protocol`` per page on asyncio's transports; the receipt time is
  taken in ``data_received``, so it includes the load process's own delay in reading.
- ``raw``: the page reads its socket itself (``recvmsg`` from a loop reader); same timing.
- ``kernel`` (default): connect as ``raw``, then leave asyncio for a plain ``epoll`` loop and
  take as the receipt time the kernel's ``SO_TIMESTAMPNS`` — when the bytes reached the page's
  socket, that is when the server's ``send`` put them there on loopback — however late the
  process reads them. The process then reads *after* each burst (it waits until no socket of
  its own became readable for 20 ms, at most 0.4 s), so that the clients do not compete with
  the server for the 2 cores while the server fans out, nor make its sends wake them up: both
  are costs that a server talking to remote browsers does not have. Caveat of kernel times:
  TCP merges segments that wait unread in a socket and keeps the later one's time, so a frame
  followed by more bytes in the same read (an event and then a ping, say) has only an upper
  bound for its time: such receipts are counted but not timed (``untimed``), and the server
  (which writes an event to every page before anything else) makes them rare.

``load_main(conn, pages, mode, nice)`` is the entry point of a load process (spawned by
bench/signaling.py): it connects the pages, reports ``{"connected", "failed", "connect_s",
"pid"}``, waits for ``"stop"`` on the pipe and sends back the receipts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import select
import socket
import struct
import time
from typing import Any

from bench.common import raise_nofile

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SEQ_RE = re.compile(rb'"seq":(\d+)')
SEQ_WINDOW = 60                 # the seq is looked for in the first bytes of a text frame
CONNECT_CONCURRENCY = 200       # handshakes in flight per load process
CONNECT_TIMEOUT_S = 60.0
CONNECT_ATTEMPTS = 5
MAX_MESSAGE = 16 * 1024 * 1024  # a message larger than this is a bug of the server under test
RECV_BYTES = 256 * 1024
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)    # Linux; not exported by Python's socket
QUIET_S = 0.02                  # kernel mode: a burst is over when no socket became readable for this long
MAX_DEFER_S = 0.4               # ... or after this, whatever
_TIMESPEC = struct.Struct("@qq")
_now = time.monotonic
REALTIME_OFFSET = time.time() - time.monotonic()   # kernel receive times are CLOCK_REALTIME
INF = float("inf")


def mask_frame(opcode: int, payload: bytes, key: bytes | None = None) -> bytes:
    """A client-to-server frame (FIN set, masked as RFC 6455 requires)."""
    key = key if key is not None else os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    if n:
        repeated = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")
    return header + key + payload


class Stats:
    """What one load process records, shared by its pages."""

    __slots__ = ("receipts", "pings", "frames", "close_codes", "dropped", "reads")

    def __init__(self) -> None:
        # seq -> [count, first, last, payload bytes, receipts counted without a time (kernel mode)]
        self.receipts: dict[int, list[float]] = {}
        self.pings = 0
        self.frames = 0                                # text frames after the welcome
        self.close_codes: dict[int, int] = {}
        self.dropped = 0                               # pages closed or lost, counted at "stop"
        self.reads: list[tuple[float, float]] = []     # kernel mode: (start, end) of each burst's reading


class Page(asyncio.Protocol):
    """One page: upgrade, hello, welcome, then receipts. ``ready`` resolves at the welcome."""

    def __init__(self, host: str, port: int, hello: bytes, stats: Stats, ready: asyncio.Future[None],
                 *, kernel_time: bool = False) -> None:
        self.host, self.port = host, port
        self.hello = hello
        self.stats = stats
        self.ready = ready
        self.kernel_time = kernel_time
        self.key = base64.b64encode(os.urandom(16))
        self.transport: asyncio.Transport | None = None
        self.sock: socket.socket | None = None      # raw and kernel modes: the page reads its socket
        self.loop: asyncio.AbstractEventLoop | None = None   # None once in the plain epoll loop
        self.pending = b""                           # bytes the socket did not take yet
        self.state = 0               # 0: upgrade, 1: waiting for the welcome, 2: live, 3: closed
        self.buf = b""               # the start of a frame not complete yet ...
        self.buf_t = 0.0             # ... and when it came
        self.fragments: list[bytes] = []
        self.frag_opcode = 0
        self.frag_t = 0.0            # when the first fragment came
        self.pong = mask_frame(0xA, b"")
        self.write = self._sock_write

    # -- protocol mode: asyncio's transport -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.write = transport.write
        self._upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = 3
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost before the welcome: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.feed(data, _now())

    # -- raw and kernel modes: the page reads its own socket --------------------------------
    def attach(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock, self.loop = sock, loop
        loop.add_reader(sock.fileno(), self.readable)
        self._upgrade()

    def detach(self) -> None:
        """Leave the asyncio loop (kernel mode): the plain epoll loop calls ``readable`` now."""
        if self.loop is not None and self.sock is not None and self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            if self.pending:       # hardly ever: a pong the socket did not take; send it now
                self.sock.setblocking(True)
                self.sock.sendall(self.pending)
                self.sock.setblocking(False)
                self.pending = b""
                self.loop.remove_writer(self.sock.fileno())
        self.loop = None

    def readable(self) -> None:
        sock = self.sock
        assert sock is not None
        try:
            data, anc, _, _ = sock.recvmsg(RECV_BYTES, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._gone(exc)
            return
        if not data:
            self._gone(None)
            return
        if anc and self.kernel_time:    # SO_TIMESTAMPNS: when the bytes reached the socket
            sec, nsec = _TIMESPEC.unpack_from(anc[0][2])
            self.feed(data, sec + nsec * 1e-9 - REALTIME_OFFSET)
        else:
            self.feed(data, _now())

    def _sock_write(self, data: bytes) -> None:
        sock = self.sock
        assert sock is not None
        if self.pending:
            self.pending += data
            return
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._gone(exc)
            return
        if sent < len(data):
            if self.loop is None:      # the plain epoll loop: a few bytes, wait for them
                sock.setblocking(True)
                sock.sendall(data[sent:])
                sock.setblocking(False)
            else:
                self.pending = data[sent:]
                self.loop.add_writer(sock.fileno(), self._writable)

    def _writable(self) -> None:
        assert self.sock is not None and self.loop is not None
        try:
            sent = self.sock.send(self.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._gone(exc)
            return
        self.pending = self.pending[sent:]
        if not self.pending:
            self.loop.remove_writer(self.sock.fileno())

    def _gone(self, exc: Exception | None) -> None:
        self._release()
        self.connection_lost(exc)

    def _release(self) -> None:
        sock = self.sock
        if sock is not None and sock.fileno() >= 0:
            if self.loop is not None:
                self.loop.remove_reader(sock.fileno())
                self.loop.remove_writer(sock.fileno())
            sock.close()      # also leaves the plain epoll loop's set

    # -- the frame parser -------------------------------------------------------------------
    def feed(self, data: bytes, t: float) -> None:  # noqa: C901, PLR0912, PLR0915
        """Bytes from the server, received at ``t`` (monotonic clock)."""
        held = 0
        t_held = t
        if self.buf:
            held, t_held = len(self.buf), self.buf_t
            data = self.buf + data
            self.buf = b""
        if self.state == 0:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > 16384:
                    self._fail("upgrade response too long")
                else:
                    self.buf, self.buf_t = data, t_held
                return
            if not self._upgraded(data[:end]):
                return
            self.state = 1
            self.write(self.hello)
            data = data[end + 4:]
            held = 0
        pos, n = 0, len(data)
        while n - pos >= 2:
            b0, b1 = data[pos], data[pos + 1]
            length = b1 & 0x7F
            start = pos + 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(data[start:start + 2], "big")
                start += 2
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(data[start:start + 8], "big")
                start += 8
                if length > MAX_MESSAGE:
                    self._fail(f"frame of {length} bytes")
                    return
            if b1 & 0x80:              # a server must not mask; unmask anyway (rare path)
                if n - start < 4 + length:
                    break
                key = data[start:start + 4]
                start += 4
                payload = bytes(c ^ key[i & 3] for i, c in enumerate(data[start:start + length]))
                data = data[:start] + payload + data[start + length:]
                n = len(data)
            end = start + length
            if end > n:
                break
            opcode = b0 & 0x0F
            if opcode == 0x1 and b0 & 0x80:       # a whole text message: the hot path
                if self.state == 2:
                    self._receipt(data, start, end, t_held if pos < held else t,
                                  not self.kernel_time or end == n)
                else:
                    self._message(data[start:end])
            elif opcode == 0x9:                   # ping: answer at once
                self.stats.pings += 1
                self.write(self.pong if end == start else mask_frame(0xA, data[start:end]))
            elif opcode == 0x8:                   # close: answer with the same code, then close
                code = int.from_bytes(data[start:start + 2], "big") if length >= 2 else 1005
                self.stats.close_codes[code] = self.stats.close_codes.get(code, 0) + 1
                self._close(data[start:start + 2] if length >= 2 else b"")
                return
            elif opcode == 0xA:                   # unsolicited pong
                pass
            elif opcode in (0x0, 0x1, 0x2):       # a fragmented message (or a binary one)
                if opcode:
                    self.frag_opcode = opcode
                    self.fragments = []
                    self.frag_t = t_held if pos < held else t
                self.fragments.append(data[start:end])
                if b0 & 0x80:
                    whole = b"".join(self.fragments)
                    self.fragments = []
                    if self.frag_opcode == 0x1:
                        if self.state == 2:
                            self._receipt(whole, 0, len(whole), self.frag_t, not self.kernel_time or end == n)
                        else:
                            self._message(whole)
            else:
                self._fail(f"unknown opcode {opcode}")
                return
            pos = end
        if pos < n:
            self.buf = data[pos:]
            self.buf_t = t_held if pos < held else t

    def _receipt(self, data: bytes, start: int, end: int, t: float, timed: bool) -> None:
        stats = self.stats
        stats.frames += 1
        m = SEQ_RE.search(data, start, min(end, start + SEQ_WINDOW))
        if m is None:
            return
        seq = int(m.group(1))
        r = stats.receipts.get(seq)
        if r is None:
            r = stats.receipts[seq] = [0, INF, 0.0, end - start, 0]
        r[0] += 1
        if timed:
            if t < r[1]:
                r[1] = t
            if t > r[2]:
                r[2] = t
        else:
            r[4] += 1

    def _upgraded(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 101"):
            self._fail(f"upgrade refused: {lines[0][:80]!r}")
            return False
        accept = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest())
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-accept":
                if value.strip() != accept:
                    self._fail("bad Sec-WebSocket-Accept")
                    return False
                return True
        self._fail("no Sec-WebSocket-Accept")
        return False

    def _upgrade(self) -> None:
        self.write(b"GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                   % (self.host.encode(), self.port, self.key))

    def _message(self, payload: bytes) -> None:
        """A text message before the welcome: the welcome, or an error."""
        if b'"welcome"' in payload[:40]:
            self.state = 2
            if not self.ready.done():
                self.ready.set_result(None)
        else:
            self._fail(f"expected a welcome, got {payload[:200]!r}")

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        self.state = 3
        self.abort()

    def _close(self, code: bytes) -> None:
        self.state = 3
        self._shut(mask_frame(0x8, code))
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed by the server before the welcome"))

    def close(self) -> None:
        """Close politely (masked close frame 1000)."""
        if self.state != 3:
            self.state = 3
            self._shut(mask_frame(0x8, (1000).to_bytes(2, "big")))

    def _shut(self, last: bytes) -> None:
        if self.transport is not None:
            if not self.transport.is_closing():
                self.transport.write(last)
                self.transport.close()
        elif self.sock is not None and self.sock.fileno() >= 0:
            with contextlib.suppress(OSError):
                self.sock.send(last)
            self._release()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        else:
            self._release()


async def open_page(host: str, port: int, hello: bytes, stats: Stats, sem: asyncio.Semaphore,
                    mode: str) -> Page | None:
    loop = asyncio.get_running_loop()
    async with sem:
        for attempt in range(CONNECT_ATTEMPTS):
            ready: asyncio.Future[None] = loop.create_future()
            page = Page(host, port, hello, stats, ready, kernel_time=mode == "kernel")
            try:
                if mode == "protocol":
                    await asyncio.wait_for(loop.create_connection(lambda p=page: p, host, port), CONNECT_TIMEOUT_S)
                else:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if mode == "kernel":
                        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    page.sock = sock
                    await asyncio.wait_for(loop.sock_connect(sock, (host, port)), CONNECT_TIMEOUT_S)
                    page.attach(sock, loop)
                await asyncio.wait_for(ready, CONNECT_TIMEOUT_S)
                return page
            except (TimeoutError, OSError) as exc:   # ConnectionError is an OSError
                page.state = 3
                page.abort()
                if attempt == CONNECT_ATTEMPTS - 1:
                    print(f"wsload: a page to {host}:{port} failed: {exc!r}", flush=True)
                await asyncio.sleep(0.2 * (attempt + 1))
    return None


def hello_frame(fields: dict[str, Any]) -> bytes:
    return mask_frame(0x1, json.dumps({"type": "hello", **fields}).encode())


def load_main(conn: Any, pages: list[tuple[str, int, dict[str, Any]]], mode: str = "kernel", nice: int = 0) -> None:
    """A load process: ``pages`` are (host, port, hello fields); ``mode`` "kernel", "raw" or
    "protocol" (see the module's doc); ``nice``: lower this process's priority."""
    global REALTIME_OFFSET
    raise_nofile()
    if nice:
        os.nice(nice)
    REALTIME_OFFSET = time.time() - time.monotonic()
    stats = Stats()
    live = asyncio.run(_load(conn, pages, mode, stats))
    if mode == "kernel":
        _epoll_loop(conn, live, stats)
        stats.dropped = sum(1 for p in live if p.state == 3)
    conn.recv()                                   # "stop"
    conn.send({"receipts": stats.receipts, "dropped": stats.dropped,
               "pings": stats.pings, "frames": stats.frames,
               "close_codes": stats.close_codes, "reads": stats.reads[-2000:]})
    if mode == "kernel":
        for p in live:
            p.close()


async def _load(conn: Any, pages: list[tuple[str, int, dict[str, Any]]], mode: str, stats: Stats) -> list[Page]:
    sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
    started = _now()
    opened = await asyncio.gather(*(open_page(h, p, hello_frame(f), stats, sem, mode) for h, p, f in pages))
    live = [p for p in opened if p is not None]
    conn.send({"connected": len(live), "failed": len(opened) - len(live), "connect_s": _now() - started,
               "pid": os.getpid()})
    if mode == "kernel":
        for p in live:
            p.detach()
        return live
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.poll, None)      # until "stop" comes
    stats.dropped = sum(1 for p in live if p.state == 3)
    for p in live:
        p.close()
    await asyncio.sleep(0.2)
    return live


def _epoll_loop(conn: Any, pages: list[Page], stats: Stats) -> None:
    """Kernel mode: read each burst once it is over (see the module's doc), until "stop"."""
    ep = select.epoll()
    by_fd: dict[int, Page] = {}
    for p in pages:
        if p.state == 2 and p.sock is not None:
            by_fd[p.sock.fileno()] = p
            ep.register(p.sock.fileno(), select.EPOLLIN)
    ep.register(conn.fileno(), select.EPOLLIN)
    cfd = conn.fileno()
    maxevents = len(by_fd) + 8
    try:
        while True:
            ready = ep.poll(1.0, maxevents)
            if not ready:
                continue
            waited = _now()
            count = len(ready)
            while _now() - waited < MAX_DEFER_S:      # wait for the burst to end
                time.sleep(QUIET_S)
                ready = ep.poll(0, maxevents)
                if len(ready) == count:
                    break
                count = len(ready)
            stop = False
            began = _now()
            for fd, _ in ready:
                page = by_fd.get(fd)
                if page is not None:
                    page.readable()
                    if page.state == 3:
                        del by_fd[fd]
                elif fd == cfd:
                    stop = True
            stats.reads.append((began, _now()))
            if stop:
                return
    finally:
        ep.close()
