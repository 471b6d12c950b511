"""The aiohttp application factory, ``create_app(config)``: where the layers are wired
together — the store, the service, the reactors that follow its streams, and the edges
(REST and pages, the WebSocket) that reach them through ``service.keys``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from media.worker import WorkerForwarder
from scheduling import ConferenceState, Connection, Phase

from .config import Config
from .documents.decks import DeckStore
from .documents.render_cache import RENDERS
from .memory import GcTender
from .reactors.mailer import start_mailer
from .reactors.media_cluster import MediaCluster
from .reactors.media_plane import MediaPlane
from .reactors.presence import Presence
from .reactors.recorder import ProgramRecorder
from .reactors.timers import floor_timers, vote_timers
from .reactors.webhooks import WebhookReactor
from .service.hub import StreamHub
from .service.keys import MEDIA, METRICS, PRESENCE, RECORDER, SERVICE, WEBHOOKS
from .service.metrics import ConferenceLive, Metrics
from .service.security import Signer, new_secret
from .service.service import Service
from .signaling.admission import ADMISSION, Admission
from .signaling.fanout import PageFanout, announce_presence
from .signaling.liveness import LIVENESS, Liveness
from .signaling.open_pages import OPEN_PAGES, OpenPages
from .signaling.ws import handle_ws
from .store import EventStore
from .store.redis import RedisEventStore
from .store.sqlite import SqliteEventStore
from .web import (
    accounts_api,
    audit_api,
    conferences_api,
    decks_api,
    directory_api,
    documents_api,
    minutes_api,
    organisation_api,
    pages,
    recommendations_api,
    recordings_api,
    webhooks_api,
)
from .web.contracts import CONTRACTS
from .web.http import errors_middleware
from .web.http_metrics import count_errors, json_http_errors
from .web.routes import add_routes

ROUTE_TABLES = (accounts_api.routes, directory_api.routes, conferences_api.routes, minutes_api.routes,
                recordings_api.routes, documents_api.routes, recommendations_api.routes, organisation_api.routes,
                audit_api.routes, decks_api.routes, webhooks_api.routes)
"""The REST API's handler modules, by subject (their routes make the OpenAPI document)."""

log = logging.getLogger(__name__)


async def open_store(config: Config) -> EventStore:
    if config.redis_url:
        return await RedisEventStore.open(config.redis_url)
    return await SqliteEventStore.open(config.data_dir / "events.db")


async def load_secret(config: Config, store: EventStore) -> str:
    """The signing key: given, or kept beside the data (Redis: shared by every process)."""
    if config.secret:
        return config.secret
    shared = getattr(store, "shared_secret", None)
    if shared is not None:
        return str(await shared(new_secret()))
    path = Path(config.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_secret())
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[count_errors, json_http_errors, errors_middleware], client_max_size=4 * 1024 * 1024)
    metrics = Metrics()
    app[METRICS] = metrics
    app[decks_api.DECKS] = DeckStore(config.data_dir / "decks", originals=config.data_dir / "blobs" / "decks")

    leaving: list[Callable[[], Awaitable[None]]] = []   # said first when the server stops (SIGTERM)

    async def leave(app: web.Application) -> None:
        for say in leaving:     # before the open pages are waited for: the other processes act now
            await say()
        liveness = app.get(LIVENESS)
        if liveness is not None:
            await liveness.going_away()     # the pages come back on another process now
    app.on_shutdown.append(leave)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = await open_store(config)
        service = Service(config, store, Signer(await load_secret(config, store)))

        def timing(kind: str, seconds: float) -> None:
            (metrics.append if kind == "append" else metrics.fanout).observe(seconds)

        def watch(hub: StreamHub[Any]) -> None:
            hub.timing = timing
        service.on_new_conference.append(watch)
        for hub in (service.directory, service.accounts, service.links):
            watch(hub)
        service.on_command.append(metrics.command)
        metrics.live.renders = lambda: dict(RENDERS)
        await service.start()
        # several processes: share who holds which site
        board = store if isinstance(store, RedisEventStore) else None
        presence = Presence(service, config.offline_after_s, board, every_s=config.heartbeat_s)
        presence.listeners.append(lambda conf_id, sites: announce_presence(service, conf_id, sites))
        presence.start()
        liveness = Liveness(config.heartbeat_s)
        app[LIVENESS] = liveness
        liveness.start()
        timers = floor_timers(service)
        app[SERVICE] = service
        app[OPEN_PAGES] = OpenPages(service.rights)   # pages re-checked when rights change
        app[ADMISSION] = Admission(config.reconnects_per_link, config.reconnects_per_address)
        app[PRESENCE] = presence
        timers.start()
        votes = vote_timers(service)   # closes each vote at its deadline
        votes.start()
        media_plane = None
        cluster = None
        if config.media.enabled:
            # several processes (Redis) with relays on: one media plane across them (issue 15)
            relays = board is not None and config.media.relay_host is not None
            process = uuid.uuid4().hex[:12]
            media_plane = MediaPlane(config.media, peer_tag=process[:8] if relays else None)
            if relays and board is not None:
                cluster = MediaCluster(media_plane, board, process)
            recorder = ProgramRecorder(media_plane, config.data_dir / "recordings") if config.media.record else None
            for hub in service.conferences.values():
                media_plane.watch(hub)
                if recorder is not None:
                    recorder.watch(hub)
            service.on_new_conference.append(media_plane.watch)
            if recorder is not None:
                service.on_new_conference.append(recorder.watch)
            media_plane.start()
            if cluster is not None:
                cluster.start()
                leaving.append(cluster.leave)
            app[MEDIA] = media_plane
            if recorder is not None:
                app[RECORDER] = recorder
        metrics.live.conferences = lambda: live_conferences(service, media_plane, cluster)
        if cluster is not None:
            metrics.live.cluster = lambda: (cluster.store_ok, cluster.processes)
        if not config.redis_url:
            _sweep_connections(service, presence)
        mailer = start_mailer(app, service, config.smtp)   # None without SMTP settings
        webhooks = WebhookReactor(service, retry_s=config.webhook_retry_s,
                                  report=lambda result: metrics.webhooks.labels(result=result).inc())
        await webhooks.start()
        app[WEBHOOKS] = webhooks
        metrics.live.webhook_outbox = webhooks.pending
        tender = GcTender()
        tender.start()
        try:
            yield
        finally:
            await tender.close()
            await webhooks.close()
            if mailer is not None:
                await mailer.close()
            if cluster is not None:
                await cluster.close()
            if media_plane is not None:
                await media_plane.close()
            await liveness.close()
            await timers.close()
            await votes.close()
            await presence.close()
            await service.close()
            await store.close()

    app.cleanup_ctx.append(lifecycle)
    add_routes(app, ROUTE_TABLES, CONTRACTS)
    app.router.add_get("/ws", handle_ws)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    pages.add_pages(app)
    return app


def live_conferences(service: Service, media_plane: MediaPlane | None,
                     cluster: MediaCluster | None = None) -> list[ConferenceLive]:
    """What the metrics show per conference: those this process has pages or media for, and
    the live ones (their sites online); ended conferences drop out (bounded labels)."""
    media = media_plane.stats() if media_plane is not None else {}
    out = []
    for conf_id, hub in service.conferences.items():
        fanout = next((x for x in hub.listeners if isinstance(x, PageFanout)), None)
        pages = fanout.pages if fanout is not None else set()
        sites = sum(1 for page in pages if page.site_view)
        stats = media.get(conf_id)
        state = hub.state
        live = state is not None and state.phase in (Phase.REHEARSAL, Phase.LIVE)
        if not pages and stats is None and not live:
            continue
        out.append(ConferenceLive(conf_id, staff_pages=len(pages) - sites, site_pages=sites,
                                  sites_online=_online(state), media=_media_totals(stats),
                                  worker_up=_worker_up(media_plane, conf_id),
                                  relays=_relays(media_plane, cluster, conf_id)))
    return out


def _relays(media_plane: MediaPlane | None, cluster: MediaCluster | None, conf_id: str) -> dict[str, int]:
    """The conference's relays to and from other processes: counts, and the data plane's totals."""
    cm = media_plane.conferences.get(conf_id) if media_plane is not None else None
    if cluster is None or cm is None:
        return {}
    counts = cluster.stats()["relays"].get(conf_id, {"in": 0, "out": 0})
    stats = cm.forwarder.relay_stats()
    links = stats.get("links", {}).values()
    return {"in": counts["in"], "out": counts["out"],
            "packets": sum(int(link.get("packets", 0)) for link in links),
            "lost": sum(int(link.get("lost", 0)) for link in links),
            "dropped": int(stats.get("dropped_unknown", 0)),
            "stalled": sum(1 for link in links if link.get("role") == "in" and link.get("state") == "stalled")}


def _worker_up(media_plane: MediaPlane | None, conf_id: str) -> bool | None:
    """Whether the conference's forwarder worker process runs (None: it forwards in this process)."""
    cm = media_plane.conferences.get(conf_id) if media_plane is not None else None
    if cm is None or not isinstance(cm.forwarder, WorkerForwarder):
        return None
    proc = cm.forwarder._proc    # read only: media.worker has no public "alive" yet
    return proc is not None and proc.returncode is None


def _online(state: ConferenceState | None) -> int:
    if state is None:
        return 0
    return sum(1 for att in state.attendance.values() if att.connection is Connection.ONLINE)


def _media_totals(stats: dict[str, Any] | None) -> dict[str, Any]:
    """The forwarder's totals, with the packets lost upstream summed over its peers' sources."""
    if not stats or "totals" not in stats:   # a worker's forwarder before its first report
        return {}
    totals = dict(stats["totals"])
    totals["lost"] = sum(src.get("lost", 0) for peer in stats.get("peers", {}).values()
                         for src in peer.get("in", {}).values())
    return totals


def _sweep_connections(service: Service, presence: Presence) -> None:
    """After a restart no page is connected yet: sites the log shows online are reconnecting."""
    for conf_id, hub in service.conferences.items():
        state = hub.state
        if state is None or state.phase in (Phase.ENDED, Phase.CANCELLED):
            continue
        for code, att in state.attendance.items():
            if att.connection is not Connection.OFFLINE:
                presence.lost(conf_id, code)


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    return web.json_response({"status": "ok", "conferences": len(service.conferences)})


async def metrics_view(request: web.Request) -> web.Response:
    return web.Response(body=request.app[METRICS].render(), content_type="text/plain", charset="utf-8")
