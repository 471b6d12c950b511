"""The ``bridgeconf`` command: serve, admin, links, minutes, bridge, simulate."""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import getpass
import logging
import os
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from media.loops import DEFAULT, ENV, LOOPS, LoopUnavailable, use_loop
from scheduling import SYSTEM, Actor, CreateAccount, DomainError

from ..app import create_app, load_secret, open_store
from ..config import Config, MediaSettings, SmtpSettings
from ..service.keys import SERVICE
from ..service.security import MIN_PASSWORD, Signer, hash_password
from ..service.service import Service
from . import demo
from .bridge import print_reports, run_bridge, simulate
from .cli_minutes import add_parser as add_minutes_parser
from .cli_minutes import run as run_minutes


def _config(args: argparse.Namespace) -> Config:
    media = MediaSettings(
        enabled=not getattr(args, "no_media", False),
        ice_servers=tuple({"urls": url} for url in getattr(args, "ice_server", None) or ()),
        gather_addresses=tuple(getattr(args, "media_address", None) or ("127.0.0.1",)),
        announced_address=getattr(args, "announced_address", None),
        workers=getattr(args, "media_workers", 0) or 0,
        record=getattr(args, "record", False),
    )
    smtp = SmtpSettings(host=getattr(args, "smtp_host", "") or "", port=getattr(args, "smtp_port", 25) or 25,
                        sender=getattr(args, "smtp_from", None) or SmtpSettings.sender,
                        starttls=getattr(args, "smtp_starttls", False),
                        username=os.environ.get("BRIDGECONF_SMTP_USER", ""),
                        password=os.environ.get("BRIDGECONF_SMTP_PASSWORD", ""))
    return Config(host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8080),
                  data_dir=Path(args.data_dir), redis_url=args.redis or Config.env_redis_url(),
                  public_url=getattr(args, "public_url", "") or "", media=media, smtp=smtp,
                  heartbeat_s=getattr(args, "heartbeat", Config.heartbeat_s),
                  offline_after_s=getattr(args, "offline_after", Config.offline_after_s),
                  webhook_retry_s=getattr(args, "webhook_retry", Config.webhook_retry_s))


def _number_in(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``, with a message naming the range."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number{unit and ' of ' + unit}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}{unit and ' ' + unit}, not {value}")
        return value
    return parse


_fraction = _number_in(0, 0.9)
_seconds = _number_in(0.5, 600, "seconds")


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default="var", metavar="DIR",
                   help="where the embedded SQLite store and the signing key live (default: ./var)")
    p.add_argument("--redis", metavar="URL", default=None,
                   help="use Redis (e.g. redis://127.0.0.1:6379/0) instead of SQLite, for several server "
                        "processes; also BRIDGECONF_REDIS_URL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bridgeconf", description="Online conferences for a main bridge and "
                                     "hundreds of remote bridge sites.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server",
                           description="Run the bridgeconf server (HTTP pages, REST API, WebSocket signaling, media).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    _store_args(serve)
    serve.add_argument("--public-url", default="", help="the URL sites use to reach this server (join links)")
    serve.add_argument("--demo", action="store_true", help="seed the demo directory, accounts and conference")
    serve.add_argument("--no-media", action="store_true", help="run without the media plane")
    serve.add_argument("--ice-server", action="append", metavar="URL",
                       help="a STUN/TURN server for sites behind NAT (repeatable); none by default")
    serve.add_argument("--media-address", action="append", metavar="IP",
                       help="local address the media plane gathers ICE candidates on (default: 127.0.0.1)")
    serve.add_argument("--announced-address", metavar="IP", help="public address to announce behind 1:1 NAT")
    serve.add_argument("--media-workers", type=int, default=0, help="forwarder worker processes (default: 0)")
    serve.add_argument("--heartbeat", type=_seconds, default=Config.heartbeat_s, metavar="SECONDS",
                       help="silent pages are pinged this often and dropped after 2.5 times it; with Redis, "
                       "processes share which sites they hold this often (default: %(default)s)")
    serve.add_argument("--offline-after", type=_seconds, default=Config.offline_after_s, metavar="SECONDS",
                       help="a site that lost its link shows offline after this (default: %(default)s)")
    serve.add_argument("--loop", choices=LOOPS, default=None,
                       help=f"the event loop of this process and its media workers (default: ${ENV} or {DEFAULT})")
    serve.add_argument("--webhook-retry", type=_number_in(0.1, 3600, "seconds"), default=Config.webhook_retry_s,
                       metavar="SECONDS", help="first wait before a failed webhook delivery is sent again; it "
                       "doubles each time, up to an hour (default: %(default)s)")
    serve.add_argument("--record", action="store_true",
                       help="record the program of live conferences to DATA_DIR/recordings (WebM, with chapters)")
    serve.add_argument("--smtp-host", default="", help="SMTP server that e-mails distributed minutes (default: none, "
                       "inboxes only); BRIDGECONF_SMTP_USER/BRIDGECONF_SMTP_PASSWORD to sign in")
    serve.add_argument("--smtp-port", type=int, default=25, help="SMTP port (default: 25)")
    serve.add_argument("--smtp-from", default=None, help=f"sender address (default: {SmtpSettings.sender})")
    serve.add_argument("--smtp-starttls", action="store_true", help="upgrade the SMTP connection with STARTTLS")

    admin = sub.add_parser("admin", help="manage accounts")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser("create", help="create an admin account (the first one needs no sign-in)")
    create.add_argument("account", help="account id, e.g. admin")
    create.add_argument("--name", default="Quản trị hệ thống")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _store_args(create)

    links = sub.add_parser("links", help="print or export the join links of a conference's sites")
    links.add_argument("conference")
    links.add_argument("--csv", metavar="FILE", help="write site,name,url,expires_at to FILE ('-' for stdout)")
    links.add_argument("--public-url", default="http://127.0.0.1:8080")
    _store_args(links)

    bridge = sub.add_parser("bridge", help="run one headless bridge site (aiortc) through a join link")
    bridge.add_argument("--join", required=True, metavar="LINK", help="the site's join link")
    bridge.add_argument("--seconds", type=float, default=3600.0, help="how long to stay (default: an hour)")
    bridge.add_argument("--headcount", type=int, default=None, help="check in with this many people")
    bridge.add_argument("--media-file", default=None, help="a WebM/MKV with VP8 and Opus to loop")
    bridge.add_argument("--gather", default="127.0.0.1", help="local address for ICE ('' for every address)")
    bridge.add_argument("--poor-link", type=_fraction, default=0.0, metavar="LOSS",
                        help="drop this fraction (0..0.9) of the packets received, as a poor link would")

    sim = sub.add_parser("simulate", help="run N headless bridge sites of a conference (join links made locally)")
    sim.add_argument("--conference", required=True)
    sim.add_argument("--sites", type=int, default=10)
    sim.add_argument("--seconds", type=float, default=3600.0)
    sim.add_argument("--url", default="http://127.0.0.1:8080", help="the running server (default: %(default)s)")
    sim.add_argument("--gather", default="127.0.0.1")
    _store_args(sim)

    add_minutes_parser(sub)   # bridgeconf minutes verify

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    handler: Callable[[argparse.Namespace], Awaitable[int]] = {
        "serve": _serve, "admin": _admin, "links": _links, "bridge": _bridge, "simulate": _simulate,
        "minutes": _minutes}[args.command]
    if args.command == "serve":
        try:
            use_loop(args.loop)
        except LoopUnavailable as exc:
            parser.error(str(exc))
    return asyncio.run(handler(args))


async def _serve(args: argparse.Namespace) -> int:
    _raise_open_files()
    config = _config(args)
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    service = app[SERVICE]
    if args.demo:
        await _print_demo(service, await _demo_seed(service, config), config)
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    print(f"bridgeconf serving on {config.base_url}  (store: {'Redis ' + config.redis_url if config.redis_url else config.data_dir / 'events.db'}; "
          f"loop: {os.environ.get(ENV, DEFAULT)})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    return 0


def _raise_open_files() -> None:
    """Thousands of pages need thousands of sockets: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _demo_seed(service: Any, config: Config) -> Any:
    pw_file = config.data_dir / "demo-password.txt"
    password = pw_file.read_text().strip() if pw_file.exists() else None
    seeded_before = bool(service.accounts.state.accounts)
    accounts = await demo.seed(service, password=password)
    if password is None and seeded_before:   # by another process on the same Redis: its password is not here
        return dataclasses.replace(accounts, password="(the one printed when the demo was first seeded)")
    if password is None:
        pw_file.parent.mkdir(parents=True, exist_ok=True)   # with Redis nothing else lives there
        pw_file.write_text(accounts.password)
        pw_file.chmod(0o600)
    return accounts


async def _print_demo(service: Any, accounts: Any, config: Config) -> None:
    tokens = await service.ensure_links(demo.CONFERENCE)
    state = service.conferences[demo.CONFERENCE].state
    base = config.base_url
    print("\n=== bridgeconf demo ===", flush=True)
    print(f"  Đăng nhập / sign in:   {base}/login", flush=True)
    print(f"    admin / chủ trì / thư ký: {accounts.admin}, {accounts.chair}, {', '.join(accounts.secretaries)}"
          f" — mật khẩu / password: {accounts.password}", flush=True)
    print(f"  Bàn chủ trì / chair console: {base}/c/{demo.CONFERENCE}/chair", flush=True)
    print(f"  Bàn thư ký / secretary desk: {base}/c/{demo.CONFERENCE}/secretary", flush=True)
    print(f"  Quản trị / admin:            {base}/admin", flush=True)
    print(f"  Điểm cầu chính / main bridge: {service.identity.join_url(tokens[state.main_site])}", flush=True)
    shown = [c for c in state.sites if c != state.main_site][:5]
    for code in shown:
        print(f"  Điểm cầu {state.sites[code].name}: {service.identity.join_url(tokens[code])}", flush=True)
    print(f"  (… {len(tokens) - len(shown) - 1} more: bridgeconf links {demo.CONFERENCE} --csv links.csv)\n", flush=True)


async def _with_service(args: argparse.Namespace, fn: Callable[[Any], Awaitable[int]]) -> int:
    config = _config(args)
    store = await open_store(config)
    service = Service(config, store, Signer(await load_secret(config, store)))
    await service.start()
    try:
        return await fn(service)
    finally:
        await service.close()
        await store.close()


async def _admin(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if len(password) < MIN_PASSWORD:
        print(f"error: a password has at least {MIN_PASSWORD} characters", file=sys.stderr)
        return 2

    async def run(service: Any) -> int:
        actor = SYSTEM if not service.accounts.state.accounts else Actor.account(args.account, admin=True)
        try:
            await service.run_accounts(CreateAccount(key=f"cli-admin-{args.account}", account_id=args.account,
                                                     name=args.name, admin=True,
                                                     password_hash=hash_password(password)), actor)
        except DomainError as exc:
            print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
            if not service.accounts.state.accounts:
                return 2
            print("hint: accounts exist already; create further admins from the admin page or the API",
                  file=sys.stderr)
            return 2
        print(f"admin account {args.account!r} created")
        return 0
    return await _with_service(args, run)


async def _ensure_links(service: Any, conference: str) -> dict[str, str] | None:
    """Every invited site's join-link token (issued when missing), or None after printing why not."""
    try:
        return dict(await service.ensure_links(conference))
    except DomainError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return None


async def _links(args: argparse.Namespace) -> int:
    async def run(service: Any) -> int:
        tokens = await _ensure_links(service, args.conference)
        if tokens is None:
            return 2
        state = service.conferences[args.conference].state
        rows = [(code, state.sites[code].name, service.identity.join_url(tok),
                 service.links.state.links[(args.conference, code)].expires_at.isoformat())
                for code, tok in tokens.items()]
        if args.csv:
            out = sys.stdout if args.csv == "-" else open(args.csv, "w", newline="", encoding="utf-8")  # noqa: SIM115
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["site", "name", "url", "expires_at"])
            w.writerows(rows)
            if out is not sys.stdout:
                out.close()
                print(f"{len(rows)} links written to {args.csv}")
        else:
            for code, name, url, _ in rows:
                print(f"{code:<24} {name:<40} {url}")
        return 0
    args.no_media = True
    return await _with_service(args, run)


async def _minutes(args: argparse.Namespace) -> int:
    return await run_minutes(args)


async def _bridge(args: argparse.Namespace) -> int:
    report = await run_bridge(args.join, seconds=args.seconds, gather=args.gather, headcount=args.headcount,
                              media_file=args.media_file, poor_link=args.poor_link)
    print_reports([report])
    return 0


async def _simulate(args: argparse.Namespace) -> int:
    args.no_media = True
    args.public_url = args.url

    async def links(service: Any) -> int:
        tokens = await _ensure_links(service, args.conference)
        if tokens is None:
            return 2
        state = service.conferences[args.conference].state
        sites = [c for c in tokens if c != state.main_site][: args.sites]
        args.links = [service.identity.join_url(tokens[c]) for c in sites]
        return 0
    if await _with_service(args, links):
        return 2
    print(f"{len(args.links)} headless sites joining {args.url} ...", flush=True)
    print_reports(await simulate(args.links, seconds=args.seconds, gather=args.gather))
    return 0


if __name__ == "__main__":
    sys.exit(main())
