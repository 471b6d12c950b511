"""The scale-out store: Redis Streams, shared by several server processes.

Layout (every key under one prefix, ``bridgeconf:`` by default)::

    {prefix}s:{stream}   a Redis Stream per event stream; entry ID ``0-<seq>``, field ``d`` = the event
    {prefix}streams      a sorted set of stream names (all score 0, listed by prefix with ZRANGEBYLEX)
    {prefix}secret       the token-signing key every process shares (SET NX by the first one)
    {prefix}wake:{id}    a small stream per process that wakes its reader for a new subscription
    {prefix}held:{id}    a set per process of the ``conference|site`` it has pages of, with a TTL
                         that process renews (presence: a crashed process's sites are found)
    {prefix}presence     a pub/sub channel: "<id> <1|0> <conference|site>" when a process takes
                         or lets go of a site (the others show it at once)
    {prefix}media:proc:{id}  a media process's record (its publishers and the relays it pulls,
                         server/reactors/media_cluster.py), with a lease it renews
    {prefix}media:procs  a sorted set of media process ids, scored by their lease's end (ms)
    {prefix}media:nudge:{id}  a pub/sub channel: "read the board now" (a relay was asked of it)

An append is one Lua script: it compares the stream's last entry ID with ``expected_seq``
and adds the events with IDs ``0-(expected+1)``… atomically, so two processes that decide
against the same seq cannot both append (the loser gets :class:`ConcurrencyError`).

Fan-out between processes: one reader task per process runs ``XREAD BLOCK`` over every
stream somebody in the process subscribed to (plus its wake stream), and hands the entries to
the subscribers in order. One Redis connection serves every subscription of the process.

Durability is Redis's: run it with ``appendonly yes``. With ``appendfsync always`` an
appended event is on disk before ``append`` returns (it survives ``kill -9`` of Redis and a
power cut); with ``everysec`` a crash of Redis itself may lose the last second, a crash of a
bridgeconf process never loses anything. See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from dataclasses import dataclass, field

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from .base import ConcurrencyError, Recorded, StoreError

log = logging.getLogger(__name__)

BLOCK_MS = 5_000          # a reader's XREAD waits at most this long before it asks again
READ_COUNT = 1_000        # entries per stream per XREAD
SOCKET_TIMEOUT_S = 15.0   # above BLOCK_MS, so a blocked XREAD is not mistaken for a dead server
POOL_CONNECTIONS = 50     # Redis connections of a process's operations (the XREAD reader has its own)
WAKE_TTL_S = 86_400       # a dead process's wake stream goes away by itself

# KEYS: stream key, names key. ARGV: expected seq, stream name, event 1, event 2, ...
# Returns the new last seq, or {-1, actual} when expected is not the stream's last seq.
APPEND = """
local last = 0
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top > 0 then
  last = tonumber(string.match(top[1][1], '^0%-(%d+)$'))
end
local expected = tonumber(ARGV[1])
if last ~= expected then
  return {-1, last}
end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], '0-' .. string.format('%d', expected + i - 2), 'd', ARGV[i])
end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return {1, expected + #ARGV - 2}
"""


def _seq(entry_id: str) -> int:
    ms, _, seq = entry_id.partition("-")
    if ms != "0":
        raise StoreError(f"entry {entry_id!r} was not written by bridgeconf")
    return int(seq)


@dataclass(eq=False)
class _Subscription:
    stream: str
    seq: int                                  # the last seq handed to the queue
    queue: asyncio.Queue[Recorded | None] = field(default_factory=asyncio.Queue)   # None: the store closed


class RedisEventStore:
    def __init__(self, redis: Redis, reader: Redis, *, prefix: str = "bridgeconf:") -> None:
        self._redis = redis
        self._reader_redis = reader
        self.prefix = prefix
        self._names = prefix + "streams"
        self._wake = f"{prefix}wake:{uuid.uuid4().hex}"
        self._wake_id = "0-0"
        self._append = redis.register_script(APPEND)
        self._subs: dict[str, set[_Subscription]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._waker: asyncio.Task[None] | None = None
        self._wake_needed = asyncio.Event()
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, prefix: str = "bridgeconf:") -> RedisEventStore:
        """Connect to ``url`` (``redis://host:port/db``) and check that Redis answers."""
        # a pool that waits for a free connection: redis-py's default refuses the 101st
        # operation at once ("Too many connections"), and a restarted process has a burst of
        # them (every site's presence when its pages come back)
        pool = BlockingConnectionPool.from_url(url, max_connections=POOL_CONNECTIONS, timeout=SOCKET_TIMEOUT_S,
                                               decode_responses=True, socket_timeout=SOCKET_TIMEOUT_S,
                                               socket_connect_timeout=5.0)
        redis = Redis.from_pool(pool)     # closed with the client
        reader = Redis.from_url(url, decode_responses=True, socket_timeout=SOCKET_TIMEOUT_S,
                                socket_connect_timeout=5.0, single_connection_client=True)
        try:
            await redis.ping()
        except RedisError as exc:
            await redis.aclose()
            await reader.aclose()
            raise StoreError(f"cannot reach Redis at {_safe(url)}: {exc}") from exc
        return cls(redis, reader, prefix=prefix)

    def _key(self, stream: str) -> str:
        return f"{self.prefix}s:{stream}"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")

    # -- writes -----------------------------------------------------------------------------
    async def append(self, stream: str, expected_seq: int, events: Sequence[str]) -> int:
        self._check_open()
        if not events:
            return await self.last_seq(stream)
        with _unavailable():
            status, value = await self._append(keys=[self._key(stream), self._names],
                                               args=[expected_seq, stream, *events])
        if int(status) != 1:
            raise ConcurrencyError(stream, expected_seq, int(value))
        return int(value)

    async def shared_secret(self, default: str) -> str:
        """The signing key of the deployment: ``default`` if no process set one before."""
        self._check_open()
        key = self.prefix + "secret"
        with _unavailable():
            await self._redis.set(key, default, nx=True)
            return str(await self._redis.get(key))

    # -- presence: which process has pages of which sites --------------------------------------
    async def hold(self, owner: str, members: Collection[str], ttl_s: float) -> None:
        """``owner`` (a process) has pages of exactly these members; forgotten after ``ttl_s``
        unless said again (the process died)."""
        self._check_open()
        key = f"{self.prefix}held:{owner}"
        with _unavailable():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if members:
                    pipe.sadd(key, *members)
                pipe.pexpire(key, int(ttl_s * 1000))
                await pipe.execute()

    async def hold_one(self, owner: str, member: str, held: bool, ttl_s: float) -> None:
        """One member more (``held``) or less for ``owner``, at once."""
        self._check_open()
        key = f"{self.prefix}held:{owner}"
        with _unavailable():
            async with self._redis.pipeline(transaction=True) as pipe:
                if held:
                    pipe.sadd(key, member)
                else:
                    pipe.srem(key, member)
                pipe.pexpire(key, int(ttl_s * 1000))
                pipe.publish(self.prefix + "presence", f"{owner} {int(held)} {member}")   # told at once
                await pipe.execute()

    async def changes(self) -> AsyncIterator[tuple[str, str, bool]]:
        """Each ``hold_one`` of any process, as it happens: (owner, member, held), through
        Redis pub/sub (``{prefix}presence``). Best effort: a message missed while the
        connection was down is made up by the next look at :meth:`held`."""
        while not self._closed:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.prefix + "presence")
                while not self._closed:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is None or msg.get("type") != "message":
                        continue
                    owner, held, member = str(msg["data"]).split(" ", 2)
                    yield owner, member, held == "1"
            except (RedisError, OSError, ValueError) as exc:
                log.info("presence changes not heard (%s): trying again", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def held(self) -> set[str]:
        """Every member some live process has pages of."""
        self._check_open()
        with _unavailable():
            keys = [k async for k in self._redis.scan_iter(match=f"{self.prefix}held:*", count=1000)]
            return set(await self._redis.sunion(keys)) if keys else set()

    # -- media: each media process's leased record ----------------------------------------------
    async def media_put(self, process: str, record: bytes, lease_s: float) -> None:
        """``process``'s record, forgotten ``lease_s`` after it was last put (the process died)."""
        self._check_open()
        lease_ms = int(lease_s * 1000)
        with _unavailable():
            now_ms = await self._now_ms()
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(f"{self.prefix}media:proc:{process}", record, px=lease_ms)
                pipe.zadd(f"{self.prefix}media:procs", {process: now_ms + lease_ms})
                pipe.zremrangebyscore(f"{self.prefix}media:procs", "-inf", now_ms)
                await pipe.execute()

    async def _now_ms(self) -> int:
        """Redis's clock (every process reads the same one), in milliseconds."""
        seconds, micros = await self._redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def media_nudge(self, process: str) -> None:
        """Tell ``process`` to read the board now (it would within its poll anyway)."""
        self._check_open()
        with _unavailable():
            await self._redis.publish(f"{self.prefix}media:nudge:{process}", "1")

    async def media_nudges(self, process: str) -> AsyncIterator[None]:
        """One item per nudge to ``process``, until the store closes (StoreError when Redis goes)."""
        self._check_open()
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            with _unavailable():
                await pubsub.subscribe(f"{self.prefix}media:nudge:{process}")
            while not self._closed:
                with _unavailable():
                    msg = await pubsub.get_message(timeout=1.0)
                if msg is not None:
                    yield None
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def media_records(self) -> dict[str, bytes]:
        """The records of the media processes whose lease runs (this one's too)."""
        self._check_open()
        with _unavailable():
            now_ms = await self._now_ms()
            ids = [str(i) for i in await self._redis.zrangebyscore(f"{self.prefix}media:procs", now_ms, "+inf")]
            if not ids:
                return {}
            raws = await self._redis.mget([f"{self.prefix}media:proc:{i}" for i in ids])
        return {i: raw.encode() if isinstance(raw, str) else raw for i, raw in zip(ids, raws, strict=True)
                if raw is not None}

    # -- reads ------------------------------------------------------------------------------
    async def read(self, stream: str, after_seq: int = 0, limit: int | None = None) -> list[Recorded]:
        self._check_open()
        if limit is not None and limit <= 0:
            return []
        with _unavailable():
            entries = await self._redis.xrange(self._key(stream), min=f"0-{after_seq + 1}", max="+", count=limit)
        return [Recorded(stream, _seq(entry_id), fields["d"]) for entry_id, fields in entries]

    async def last_seq(self, stream: str) -> int:
        self._check_open()
        with _unavailable():
            top = await self._redis.xrevrange(self._key(stream), max="+", min="-", count=1)
        return _seq(top[0][0]) if top else 0

    async def streams(self, prefix: str) -> list[str]:
        self._check_open()
        low = prefix.encode()
        with _unavailable():
            names = await self._redis.zrangebylex(self._names, b"[" + low, b"[" + low + b"\xff")
        return [str(n) for n in names]

    # -- fan-out ----------------------------------------------------------------------------
    async def subscribe(self, stream: str, after_seq: int) -> AsyncIterator[Recorded]:
        # No Redis I/O happens in the subscriber's task: only queue.get() waits here, so that
        # cancelling the subscriber is always clean (redis-py can swallow a cancellation that
        # arrives mid-command, leaving the task running).
        self._check_open()
        sub = _Subscription(stream, after_seq)
        self._subs.setdefault(stream, set()).add(sub)
        try:
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read_loop(), name="redis-store-reader")
            if self._waker is None or self._waker.done():
                self._waker = asyncio.create_task(self._wake_loop(), name="redis-store-waker")
            self._wake_needed.set()      # the reader's XREAD must include this stream now
            while True:
                item = await sub.queue.get()
                if item is None:
                    return
                yield item
        finally:
            subs = self._subs.get(stream)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[stream]

    async def _wake_loop(self) -> None:
        """Interrupt the reader's blocking XREAD (by adding to the stream it also reads) so
        that it starts over with the streams subscribed meanwhile."""
        while not self._closed:
            await self._wake_needed.wait()
            self._wake_needed.clear()
            try:
                await self._redis.xadd(self._wake, {"w": "1"}, maxlen=16, approximate=True)
                await self._redis.expire(self._wake, WAKE_TTL_S)
            except (RedisError, OSError) as exc:
                log.warning("waking the Redis reader failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                self._wake_needed.set()

    async def _read_loop(self) -> None:
        delay = 0.1
        while not self._closed:
            positions = {self._key(s): f"0-{min(sub.seq for sub in subs)}"
                         for s, subs in self._subs.items() if subs}
            positions[self._wake] = self._wake_id
            try:
                reply = await self._reader_redis.xread(positions, count=READ_COUNT, block=BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("reading the event streams from Redis failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            for key, entries in reply or ():
                if key == self._wake:
                    self._wake_id = entries[-1][0]
                    continue
                stream = key[len(self.prefix) + 2:]
                for sub in tuple(self._subs.get(stream, ())):
                    for entry_id, fields in entries:
                        seq = _seq(entry_id)
                        if seq > sub.seq:
                            sub.seq = seq
                            sub.queue.put_nowait(Recorded(stream, seq, fields["d"]))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        tasks = [t for t in (self._reader, self._waker) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)   # not forever: see subscribe()
        for subs in self._subs.values():
            for sub in subs:
                sub.queue.put_nowait(None)
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(self._redis.delete(self._wake), 2.0)
        await self._reader_redis.aclose()
        await self._redis.aclose()


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    """Redis's failures as the port's StoreError (the server answers ``busy``; nothing was
    recorded — or, if the reply alone was lost, the retried command is recognized by its key)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StoreError(f"the event store (Redis) is unavailable: {exc}") from exc


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
