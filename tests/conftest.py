"""Shared fixtures: a real redis-server, bridgeconf servers (in this process or as a
``bridgeconf serve`` subprocess that a test may ``kill -9``), and protocol clients.

    redis_server      one redis-server per session on a free loopback port (AOF, appendfsync
                      always, no RDB); the tests fail with a clear message when it is not installed
    redis_url         a fresh, empty Redis database of that server for one test
    spawn_redis       a redis-server of the test's own, to kill -9 and restart
    server            start a bridgeconf app in this process: ``await server(store="redis", seed="small")``
    bridgeconf_proc   start ``bridgeconf serve`` subprocesses: ``proc = bridgeconf_proc(redis=url)``
    seeds             the seed functions, for a test that builds its own Service

Every server is seeded with the demo (Hanoi's 126 wards and communes, conference
``so-ket-quy-3``) or with ``small``: five sites, staff with every role and two conferences.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
# pytest put tests/ first on sys.path to import this file; tests/server and tests/scheduling
# would then shadow the real packages as namespace packages. The project comes first.
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

from tests.fixtures.procs import stop as stop_process  # noqa: E402  (the project first on sys.path)
from tests.fixtures.served import free_port, serve  # noqa: E402

PASSWORD = "mat-khau-thu-nghiem"


def wait_port(port: int, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


# -- Redis ------------------------------------------------------------------------------------

def wait_redis_ready(port: int, timeout: float, proc: subprocess.Popen[Any]) -> None:
    """Until the redis-server on ``port`` answers PING with PONG: a restarted one listens while
    it still loads its append-only file, and answers ``-LOADING`` to everything meanwhile."""
    wait_port(port, timeout, proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(64).startswith(b"+PONG"):
                return
        time.sleep(0.05)
    raise TimeoutError(f"redis-server on 127.0.0.1:{port} still not ready after {timeout} s")


@dataclass
class RedisServer:
    port: int
    dir: Path
    proc: subprocess.Popen[bytes]
    args: list[str]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def restart(self) -> None:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_redis_ready(self.port, 10, self.proc)

    def stop(self) -> None:
        stop_process(self.proc, 10)


def start_redis(directory: Path, *, fsync: str = "always", databases: int = 256) -> RedisServer:
    """A real redis-server on a free loopback port: AOF on (``appendfsync`` = ``fsync``), no RDB."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed: the Redis store and scale-out tests need a real one "
                    "(`make test` installs Debian's redis-server; or `apt-get install redis-server`)",
                    pytrace=False)
    directory.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for _ in range(5):
        port = free_port()
        args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                "--appendfsync", fsync, "--dir", str(directory), "--databases", str(databases),
                "--logfile", str(directory / "redis.log"), "--protected-mode", "yes"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_redis_ready(port, 10, proc)
            return RedisServer(port, directory, proc, args)
        except (RuntimeError, TimeoutError) as exc:   # the port was taken meanwhile: another one
            last = exc
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(10)
    raise RuntimeError(f"could not start redis-server: {last}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def spawn_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start a redis-server of the test's own (to kill -9 it): ``spawn_redis(fsync="always")``."""
    servers: list[RedisServer] = []

    def spawn(fsync: str = "always") -> RedisServer:
        servers.append(start_redis(tmp_path / f"redis{len(servers)}", fsync=fsync, databases=16))
        return servers[-1]

    yield spawn
    for s in servers:
        s.stop()


_databases = itertools.count(1)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A Redis database of the session's server that no other test uses, emptied."""
    import redis
    db = next(_databases) % 255 + 1
    with redis.Redis(host="127.0.0.1", port=redis_server.port, db=db) as r:
        r.flushdb()
    return redis_server.url(db)


# -- seeds --------------------------------------------------------------------------------------

SMALL = "hop-nho"            # the small seed's conference: P-AN, P-BINH, X-CHAU, X-DUNG invited
OTHER = "hop-khac"           # a second conference, to which only X-EM is invited
SMALL_MAIN = "TRU-SO"
SMALL_SITES = ("P-AN", "P-BINH", "X-CHAU", "X-DUNG")


@dataclass(frozen=True)
class Seeded:
    conference: str
    main_site: str
    sites: tuple[str, ...]          # invited remote sites
    accounts: dict[str, str]        # role -> account id
    password: str
    other_conference: str | None = None
    other_site: str | None = None   # invited to other_conference only


async def seed_demo(service: Any) -> Seeded:
    from server.tools import demo
    accounts = await demo.seed(service, password=PASSWORD)
    state = service.conferences[demo.CONFERENCE].state
    return Seeded(demo.CONFERENCE, state.main_site, tuple(c for c in state.sites if c != state.main_site),
                  {"admin": accounts.admin, "chair": accounts.chair, "secretary": accounts.secretaries[0]},
                  accounts.password)


async def seed_small(service: Any) -> Seeded:
    """Staff with every role, five sites, two conferences (both scheduled)."""
    from scheduling import (
        SYSTEM,
        Actor,
        AddAgendaItem,
        CreateAccount,
        CreateConference,
        ImportSites,
        InviteSites,
        ScheduleConference,
    )
    from server.service.service import utcnow

    admin = Actor.account("admin", admin=True)
    if not service.accounts.state.accounts:
        pw = _password_hash()
        await service.run_accounts(CreateAccount(key="seed-admin", account_id="admin", name="Quản trị",
                                                 admin=True, password_hash=pw), SYSTEM)
        for acc, name in (("chutri", "Chủ trì"), ("thuky", "Thư ký"), ("quansat", "Quan sát viên"),
                          ("khach", "Tài khoản không có vai trò")):
            await service.run_accounts(CreateAccount(key=f"seed-{acc}", account_id=acc, name=name,
                                                     password_hash=pw), admin)
    rows = ["code,name,parent,kind,expected_headcount",
            f"{SMALL_MAIN},Điểm cầu chính,Thành phố,main,50",
            "P-AN,Phường An,Khu vực 1,remote,40", "P-BINH,Phường Bình,Khu vực 1,remote,35",
            "X-CHAU,Xã Châu,Khu vực 2,remote,30", "X-DUNG,Xã Dũng,Khu vực 2,remote,25",
            "X-EM,Xã Em,Khu vực 3,remote,20"]
    if SMALL_MAIN not in service.directory.state.sites:
        await service.run_directory(ImportSites(key="seed-sites", csv="\n".join(rows) + "\n"), admin)
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    for conf, sites in ((SMALL, SMALL_SITES), (OTHER, ("X-EM",))):
        if conf in service.conferences:
            continue
        await service.run_conference(conf, CreateConference(
            key=f"seed-{conf}", conference_id=conf, title=f"Hội nghị {conf}", starts_at=start,
            ends_at=start + timedelta(hours=3), main_site=SMALL_MAIN, chair="chutri", secretaries=("thuky",),
            observers=("quansat",)), admin)
        await service.run_conference(conf, InviteSites(key=f"seed-inv-{conf}", codes=sites), admin)
        for n in (1, 2, 3):
            await service.run_conference(conf, AddAgendaItem(key=f"seed-item-{conf}-{n}", item_id=f"muc-{n}",
                                                             title=f"Mục {n}", planned_minutes=10), admin)
        await service.run_conference(conf, ScheduleConference(key=f"seed-sched-{conf}"), admin)
    return Seeded(SMALL, SMALL_MAIN, SMALL_SITES,
                  {"admin": "admin", "chair": "chutri", "secretary": "thuky", "observer": "quansat",
                   "norole": "khach"}, PASSWORD, OTHER, "X-EM")


_hashes: list[str] = []


def _password_hash() -> str:
    """argon2 of PASSWORD, made once per session (a hash costs ~0.1-0.5 s)."""
    from server.service.security import hash_password
    if not _hashes:
        _hashes.append(hash_password(PASSWORD))
    return _hashes[0]


SEEDS: dict[str, Callable[[Any], Awaitable[Seeded]]] = {"demo": seed_demo, "small": seed_small}


@pytest.fixture
def seeds() -> dict[str, Callable[[Any], Awaitable[Seeded]]]:
    """The seed functions, for a test that builds its own Service: ``await seeds["small"](service)``."""
    return SEEDS


# -- an in-process server -----------------------------------------------------------------------

@dataclass
class Server:
    """A bridgeconf app served on a loopback port by this test's event loop."""

    config: Any
    app: web.Application
    runner: web.AppRunner
    seeded: Seeded
    clients: list[Any] = field(default_factory=list)
    _sessions: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def service(self) -> Any:
        from server.service.keys import SERVICE
        return self.app[SERVICE]

    @property
    def conference(self) -> str:
        return self.seeded.conference

    def hub(self, conf: str | None = None) -> Any:
        return self.service.conferences[conf or self.conference]

    def state(self, conf: str | None = None) -> Any:
        return self.hub(conf).state

    def session(self, role: str) -> str:
        """A session token of the account with ``role`` (admin, chair, secretary, observer,
        norole), as POST /api/v1/session issues it (signed here, skipping the password check)."""
        account = self.seeded.accounts[role]
        if account not in self._sessions:
            self._sessions[account] = self.service.identity.new_session(self.service.accounts.state.accounts[account])
        return self._sessions[account]

    async def site_token(self, site: str, conf: str | None = None) -> str:
        conf = conf or self.conference
        return (await self.service.ensure_links(conf, [site]))[site]

    async def client(self, token: str, conf: str | None = None, *, base_url: str | None = None, **kw: Any) -> Any:
        """A connected BridgeClient (closed with the server); ``base_url``: through a proxy, say."""
        from server.tools.client import BridgeClient
        c = BridgeClient(base_url or self.base_url, conf or self.conference, token, **kw)
        self.clients.append(c)
        return await c.connect()

    def api(self, token: str | None = None) -> Any:
        from server.tools.client import ApiClient
        c = ApiClient(self.base_url, token)
        self.clients.append(c)
        return c

    async def run(self, actor_role: str, type_: str, conf: str | None = None, **fields: Any) -> Any:
        """Run a conference command in-process as one of the seeded accounts (setting up tests)."""
        from scheduling import Actor, parse_command
        account = self.seeded.accounts[actor_role]
        actor = Actor.account(account, admin=actor_role == "admin")
        cmd = parse_command({"type": type_, "key": f"setup-{time.monotonic_ns()}", **fields})
        return await self.service.run_conference(conf or self.conference, cmd, actor)

    async def go_live(self, conf: str | None = None) -> None:
        await self.run("chair", "open_conference", conf)

    async def close(self) -> None:
        for c in reversed(self.clients):
            with contextlib.suppress(Exception):
                await c.close()
        await self.runner.cleanup()


@pytest.fixture
async def server(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """``await server(store="sqlite"|"redis", seed="demo"|"small", **Config fields)``."""
    from server.config import Config, MediaSettings
    from server.service.keys import SERVICE

    started: list[Server] = []

    async def start(store: str = "sqlite", seed: str = "small", redis: str | None = None, **overrides: Any) -> Server:
        redis_url = redis
        if store == "redis" and redis_url is None:
            redis_url = request.getfixturevalue("redis_url")
        data_dir = tmp_path / f"server{len(started)}"
        served = await serve(lambda port: Config(host="127.0.0.1", port=port, data_dir=data_dir,
                                                 redis_url=redis_url, media=MediaSettings(enabled=False),
                                                 **overrides))
        config, app, runner = served.config, served.app, served.runner
        seeded = await SEEDS[seed](app[SERVICE])
        srv = Server(config, app, runner, seeded)
        started.append(srv)
        return srv

    yield start
    for srv in reversed(started):
        await srv.close()


# -- bridgeconf serve as a subprocess --------------------------------------------------------------

@dataclass
class BridgeconfProcess:
    """``bridgeconf serve`` in a subprocess, on a fixed port across restarts."""

    data_dir: Path
    redis: str | None
    demo: bool
    extra: tuple[str, ...] = ()
    media: bool = False                 # the media plane on loopback (with Redis: relays on)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    output: str = ""
    password: str | None = None
    runs: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "server.tools.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir)]
        cmd += ["--media-address", "127.0.0.1"] if self.media else ["--no-media"]
        if self.redis:
            cmd += ["--redis", self.redis]
        if self.demo:
            cmd.append("--demo")
        return cmd + list(self.extra)

    def start(self, timeout: float = 30.0) -> BridgeconfProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.runs += 1
        out_path = self.data_dir / f"serve-{self.runs}.out"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("BRIDGECONF_REDIS_URL", None)
        with open(out_path, "w") as out, open(self.data_dir / f"serve-{self.runs}.err", "w") as err:
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            text = out_path.read_text()
            if "serving on" in text:
                self.output = text
                found = re.search(r"password: (\S+)", text)
                if found:
                    self.password = found.group(1)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"bridgeconf serve did not start (see {out_path} and .err):\n"
                           + (self.data_dir / f"serve-{self.runs}.err").read_text()[-3000:])

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        stop_process(self.proc, 15)


@pytest.fixture
def bridgeconf_proc(tmp_path: Path) -> Iterator[Callable[..., BridgeconfProcess]]:
    """``bridgeconf_proc(redis=URL|None, demo=True, extra=(more serve arguments), media=False)``:
    a started ``bridgeconf serve`` subprocess."""
    procs: list[BridgeconfProcess] = []

    def start(redis: str | None = None, demo: bool = True, data_dir: Path | None = None,
              extra: tuple[str, ...] = (), media: bool = False) -> BridgeconfProcess:
        last: Exception | None = None
        for _ in range(3):
            proc = BridgeconfProcess(data_dir or tmp_path / f"proc{len(procs)}", redis, demo, extra, media)
            procs.append(proc)
            try:
                return proc.start()
            except RuntimeError as exc:   # most likely the port was taken meanwhile
                last = exc
                proc.stop()
        raise RuntimeError(str(last))

    yield start
    for proc in reversed(procs):
        proc.stop()
