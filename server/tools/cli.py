"""The ``bridgeconf`` command: serve, admin, links, minutes, bridge, simulate."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import logging
import os
import random
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from media.loops import DEFAULT, ENV, LOOPS, LoopUnavailable, use_loop
from scheduling import (
    SYSTEM,
    Actor,
    CreateAccount,
    DomainError,
    ImportSites,
    InviteSites,
    SiteInfo,
    SiteKind,
    sites_to_csv,
)

from ..app import create_app, load_secret, open_store
from ..config import Config, MediaSettings, SigningSettings, SmtpSettings
from ..documents.demo_pki import DEMO_PASSWORD, ensure_demo_pki
from ..documents.spreadsheet import csv_text
from ..service.keys import SERVICE
from ..service.security import MIN_PASSWORD, Signer, hash_password
from ..service.service import Service
from . import demo
from .bridge import print_reports, run_bridge, simulate
from .cli_minutes import add_parser as add_minutes_parser
from .cli_minutes import run as run_minutes


def _signing(args: argparse.Namespace) -> SigningSettings:
    """The organisation's certificate (--signing-cert, password in BRIDGECONF_SIGNING_PASSWORD);
    with --demo and none given, the DEMO one made on first start in <data-dir>/pki."""
    cert, roots = getattr(args, "signing_cert", None), getattr(args, "trust_root", None)
    password = os.environ.get("BRIDGECONF_SIGNING_PASSWORD", "")
    if cert is None and getattr(args, "demo", False):
        demo_root, demo_p12 = ensure_demo_pki(Path(args.data_dir) / "pki", "Văn phòng UBND Thành phố Hà Nội")
        cert, password, roots = str(demo_p12), DEMO_PASSWORD.decode(), roots or str(demo_root)
    return SigningSettings(certificate=Path(cert) if cert else None, password=password,
                           tsa_url=getattr(args, "tsa_url", "") or "", trust_roots=Path(roots) if roots else None)


def _relay_host(args: argparse.Namespace) -> str | None:
    """Relays between processes exist only with Redis (a shared control plane) and media:
    the single-process default has none."""
    if getattr(args, "no_media", False) or not (getattr(args, "redis", None) or Config.env_redis_url()):
        return None
    given = getattr(args, "relay_host", None)
    if given:
        return str(given)
    return str((getattr(args, "media_address", None) or ["127.0.0.1"])[0])


def _port_range(text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("-")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port range LO-HI: {text!r}") from None
    if not (1 <= low <= high <= 65535):
        raise argparse.ArgumentTypeError(f"ports must be 1..65535 with LO <= HI: {text!r}")
    return low, high


def _config(args: argparse.Namespace) -> Config:
    media = MediaSettings(
        enabled=not getattr(args, "no_media", False),
        ice_servers=tuple({"urls": url} for url in getattr(args, "ice_server", None) or ()),
        gather_addresses=tuple(getattr(args, "media_address", None) or ("127.0.0.1",)),
        announced_address=getattr(args, "announced_address", None),
        workers=getattr(args, "media_workers", 0) or 0,
        record=getattr(args, "record", False),
        relay_host=_relay_host(args),
        relay_ports=getattr(args, "relay_ports", None) or (0, 0),
        relay_announce=getattr(args, "relay_announce", None),
    )
    smtp = SmtpSettings(host=getattr(args, "smtp_host", "") or "", port=getattr(args, "smtp_port", 25) or 25,
                        sender=getattr(args, "smtp_from", None) or SmtpSettings.sender,
                        starttls=getattr(args, "smtp_starttls", False),
                        username=os.environ.get("BRIDGECONF_SMTP_USER", ""),
                        password=os.environ.get("BRIDGECONF_SMTP_PASSWORD", ""))
    return Config(host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8080),
                  data_dir=Path(args.data_dir), redis_url=args.redis or Config.env_redis_url(),
                  public_url=getattr(args, "public_url", "") or "", media=media, smtp=smtp, signing=_signing(args),
                  heartbeat_s=getattr(args, "heartbeat", Config.heartbeat_s),
                  ack_liveness=getattr(args, "ack_liveness", Config.ack_liveness),
                  offline_after_s=getattr(args, "offline_after", Config.offline_after_s),
                  webhook_retry_s=getattr(args, "webhook_retry", Config.webhook_retry_s),
                  reconnects_per_link=getattr(args, "reconnects_per_link", Config.reconnects_per_link),
                  reconnects_per_address=getattr(args, "reconnects_per_address", Config.reconnects_per_address),
                  listen_backlog=getattr(args, "backlog", Config.listen_backlog))


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


def _count_in(low: int, high: int, unit: str) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        if not text.strip().isdigit():
            raise argparse.ArgumentTypeError(f"not a number of {unit}: {text!r}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high} {unit}, not {value}")
        return value
    return parse


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
    serve.add_argument("--relay-host", metavar="IP",
                       help="with --redis: the local address the media relays between processes listen on "
                       "(default: the first --media-address; relays are on whenever --redis and media are)")
    serve.add_argument("--relay-ports", type=_port_range, metavar="LO-HI",
                       help="with --redis: the UDP ports the media relays may bind (default: any free port)")
    serve.add_argument("--relay-announce", metavar="IP",
                       help="with --redis: the address other processes reach this one's relays at "
                       "(default: the relay host)")
    serve.add_argument("--heartbeat", type=_seconds, default=Config.heartbeat_s, metavar="SECONDS",
                       help="silent pages are pinged this often and dropped after 2.5 times it; with Redis, "
                       "processes share which sites they hold this often (default: %(default)s)")
    serve.add_argument("--ack-liveness", action=argparse.BooleanOptionalAction, default=Config.ack_liveness,
                       help="do not ping a page that events were written to within the heartbeat and that answered "
                       "a ping within ten: its kernel drops it when a write stays unacknowledged for 1.5 heartbeats "
                       "(Linux; behind a TCP relay that acknowledges for the pages, a dead page shows up to 30 s "
                       "later: docs/operations.md; default: on)")
    serve.add_argument("--offline-after", type=_seconds, default=Config.offline_after_s, metavar="SECONDS",
                       help="a site that lost its link shows offline after this (default: %(default)s)")
    serve.add_argument("--reconnects-per-link", type=_count_in(1, 1_000_000, "connections"),
                       default=Config.reconnects_per_link, metavar="N",
                       help="WebSocket connections one join link (or account) may open to a conference at once, "
                       "then one a second (default: %(default)s)")
    serve.add_argument("--reconnects-per-address", type=_count_in(1, 10_000_000, "connections"),
                       default=Config.reconnects_per_address, metavar="N",
                       help="WebSocket connections one client address may open at once, then as many a minute; "
                       "behind a proxy every page has the proxy's address (default: %(default)s)")
    serve.add_argument("--backlog", type=_count_in(16, 1_000_000, "connections"), default=Config.listen_backlog,
                       metavar="N", help="connections the kernel queues before they are accepted: after a restart "
                       "every page reconnects at once (capped by net.core.somaxconn; default: %(default)s)")
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
    serve.add_argument("--signing-cert", metavar="P12", default=None,
                       help="the organisation's PKCS#12 certificate that signs approved minutes (PAdES); "
                            "its password in BRIDGECONF_SIGNING_PASSWORD")
    serve.add_argument("--tsa-url", default="", help="a timestamp authority for the signatures (optional)")
    serve.add_argument("--trust-root", metavar="PEM", default=None,
                       help="the CA certificate(s) signatures are checked against")

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
    bridge.add_argument("--present", default=None, metavar="PDF",
                        help="upload this PDF and present it (main bridge, or floor holder the chair allows)")
    bridge.add_argument("--turn-every", type=float, default=5.0, metavar="SECONDS",
                        help="with --present: turn a page this often (default 5)")
    bridge.add_argument("--share", action="store_true",
                        help="share a test-pattern screen (main bridge, or floor holder the chair allows)")
    bridge.add_argument("--share-seconds", type=float, default=None, metavar="SECONDS",
                        help="with --share: stop sharing after this long (default: until the bridge leaves)")
    bridge.add_argument("--no-media", action="store_true", help="signaling only: no audio or video peer")
    bridge.add_argument("--gather", default="127.0.0.1", help="local address for ICE ('' for every address)")
    bridge.add_argument("--poor-link", type=_fraction, default=0.0, metavar="LOSS",
                        help="drop this fraction (0..0.9) of the packets received, as a poor link would")
    bridge.add_argument("--check", action="store_true",
                        help="run the connectivity check (5 s), report it to the conference, print the verdict "
                             "and leave; exit status 0 when ready, 3 when something needs attention")

    sim = sub.add_parser("simulate", help="run N headless bridge sites of a conference (join links made locally); "
                         "the wards whose links `serve --demo` prints are left to the browsers")
    sim.add_argument("--conference", required=True)
    sim.add_argument("--sites", type=_count_in(1, 2000, "sites"), default=10)
    sim.add_argument("--seconds", type=_number_in(1, 86_400, "seconds"), default=3600.0)
    sim.add_argument("--speaking", type=_count_in(0, 20, "sites"), default=3,
                     help="sites that publish a clip encoded once and ask for the floor; the others only "
                          "receive (default: %(default)s)")
    sim.add_argument("--media-file", default=None, help="a WebM/MKV (VP8, Opus) the speaking sites loop as it is")
    sim.add_argument("--with-main", action="store_true",
                     help="also run the main bridge headless, publishing the program (when no browser does)")
    sim.add_argument("--add-sites", action="store_true",
                     help="when the conference has fewer free sites than --sites, register and invite "
                          "simulated ones (SIM-001, …) to make up the number")
    sim.add_argument("--url", default="http://127.0.0.1:8080", help="the running server (default: %(default)s)")
    sim.add_argument("--gather", default="127.0.0.1")
    _store_args(sim)

    add_minutes_parser(sub)   # bridgeconf minutes verify

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aioice", "aiortc", "weasyprint", "fontTools"):   # progress lines, not news
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
    # a deep accept queue (--backlog, 4096 by default): when a process dies, all its pages
    # reconnect to the others at once, and a full queue (aiohttp's default is 128) drops their
    # SYNs for 1, 3, 7 s of TCP retries
    site = web.TCPSite(runner, config.host, config.port, backlog=config.listen_backlog)
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
    shown = demo.printed_sites(list(state.sites), state.main_site)
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
            out.write(csv_text(["site", "name", "url", "expires_at"], rows))   # BOM: Excel reads the names right
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
    if args.share and args.no_media:
        raise SystemExit("error: --share needs media (drop --no-media)")
    # SIGTERM / Ctrl-C: leave properly (a share is stopped on the way out), then report
    run = asyncio.ensure_future(run_bridge(args.join, seconds=args.seconds, gather=args.gather,
                                           headcount=args.headcount, media_file=args.media_file,
                                           poor_link=args.poor_link, check=args.check, present=args.present,
                                           turn_every=args.turn_every, media=not args.no_media,
                                           share=args.share, share_seconds=args.share_seconds))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, run.cancel)
    try:
        report = await run
    except asyncio.CancelledError:
        print("bridge: stopped by a signal (a share was stopped on the way out)", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print_reports([report])
    if args.check:
        return 0 if report.get("readiness", {}).get("status") == "ready" else 3
    return 0


async def _simulate(args: argparse.Namespace) -> int:
    args.no_media = True
    args.public_url = args.url

    async def links(service: Any) -> int:
        if args.conference not in service.conferences:
            print(f"error: no conference {args.conference!r}", file=sys.stderr)
            return 2
        state = service.conferences[args.conference].state
        kept = set(demo.printed_sites(list(state.sites), state.main_site)) if args.conference == demo.CONFERENCE else set()
        free = [c for c in state.sites if c != state.main_site and c not in kept]
        if len(free) < args.sites and args.add_sites:
            await _add_simulated_sites(service, args.conference, args.sites - len(free))
            state = service.conferences[args.conference].state
            free = [c for c in state.sites if c != state.main_site and c not in kept]
        issued = dict(service.links.state.links)
        tokens = await _ensure_links(service, args.conference)
        if tokens is None:
            return 2
        args.new_links = dict(service.links.state.links) != issued
        sites = free[: args.sites]
        if len(sites) < args.sites:
            print(f"note: {args.conference} has {len(free)} invited sites besides the main bridge and the "
                  f"{len(kept)} wards whose links `serve --demo` prints; simulating {len(sites)} "
                  "(--add-sites makes up the number with simulated sites)", file=sys.stderr)
        print(f"simulating {len(sites)} sites: {', '.join(sites[:8])}{' …' if len(sites) > 8 else ''}"
              f" (left to browsers: {', '.join(sorted(kept)) or 'none'})", flush=True)
        args.links = [service.identity.join_url(tokens[c]) for c in sites]
        args.headcounts = [state.sites[c].expected_headcount for c in sites]
        args.main_link = service.identity.join_url(tokens[state.main_site]) if args.with_main else None
        return 0
    if await _with_service(args, links):
        return 2
    if args.new_links:   # issued by this process: let the server read them before the sites knock
        await asyncio.sleep(NEW_LINKS_SETTLE_S)
    speaking = min(args.speaking, len(args.links))
    print(f"{len(args.links)} headless sites joining {args.url}: {speaking} speaking, "
          f"{len(args.links) - speaking} receiving only ...", flush=True)
    reports = await simulate(args.links, seconds=args.seconds, gather=args.gather, speaking=speaking,
                             media_file=args.media_file, headcounts=_varied(args.headcounts),
                             main_link=args.main_link)
    print_reports(reports, summarize=True)
    lost = [r for r in reports if r.get("error") or r.get("state") not in (None, "connected")]
    if lost:
        print(f"note: {len(lost)} of {len(reports)} sites lost or never got their link; on a busy PC start the "
              "server with --heartbeat 10 (a starved simulator answers pings late; docs/performance.md)",
              file=sys.stderr)
    return 0


NEW_LINKS_SETTLE_S = 2.5   # a server reads what another process appended within about a second


def _varied(expected: list[int]) -> list[int]:
    """Headcounts around each site's expected number (70-105 %), the same every run."""
    rng = random.Random(17)
    return [max(1, round(n * rng.uniform(0.7, 1.05))) for n in expected]


async def _add_simulated_sites(service: Any, conference: str, count: int) -> None:
    """Register SIM-001… in the directory (once) and invite them, as the conference's admin would."""
    admin = next((a for a in service.accounts.state.accounts.values() if a.admin and not a.disabled), None)
    if admin is None:
        raise SystemExit("error: --add-sites needs an admin account (bridgeconf admin)")
    actor = Actor.account(admin.account_id, admin=True)
    state = service.conferences[conference].state
    codes, n = [], 0
    while len(codes) < count:
        n += 1
        code = f"SIM-{n:03d}"
        if code not in state.sites:
            codes.append(code)
    new = [SiteInfo(code=c, name=f"Điểm cầu mô phỏng {c[4:]}", parent="Mô phỏng", kind=SiteKind.REMOTE,
                    expected_headcount=30 + (int(c[4:]) * 37) % 150)
           for c in codes if c not in service.directory.state.sites]
    if new:
        await service.run_directory(ImportSites(key=f"sim-import-{codes[0]}-{len(codes)}", csv=sites_to_csv(new)), actor)
    await service.run_conference(conference, InviteSites(key=f"sim-invite-{codes[0]}-{len(codes)}", codes=tuple(codes)),
                                 actor)
    print(f"invited {len(codes)} simulated sites: {codes[0]}…{codes[-1]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
