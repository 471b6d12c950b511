"""Prometheus metrics of one server process, served at /metrics (docs/operations.md lists
them, with the alerting rules to start with and docs/grafana-dashboard.json).

Counters and histograms are fed as things happen: commands by type and result (from
``Service.on_command``), events appended, REST errors by code, WebSocket closes by code,
webhook deliveries. Gauges of live things (pages and sites per conference, the forwarder's
counts per conference, minutes renders) are read at scrape time from the sources ``server.app``
wires in (``live``), so that nothing is counted twice and nothing stale stays.

Label cardinality is bounded: a conference label only for conferences this process serves
pages or media for (or that are live), codes only from the known tables (anything else is
``other``), never a page, a site or an address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scheduling import COMMANDS, Command, DomainError, ErrorCode, Event, MinutesMailed

from ..errors import HTTP_STATUS, WS_CLOSE_MEANINGS
from ..store import StoreError
from .hub import Outcome

# 1000 normal, 1001 going away, 1006 abnormal (no close frame), 1005 none given
_STANDARD_CLOSES = frozenset({1000, 1001, 1005, 1006, 1008, 1009, 1011})
_KNOWN_CODES = frozenset({str(c) for c in ErrorCode}) | frozenset(HTTP_STATUS) | frozenset(
    {"internal", "bad_message", "invalid_message", "rate_limited", "hello_first", "already_welcome",
     "media_unavailable", "not_distributed", "no_follow_up", "unknown_action"})


def bounded_code(code: str) -> str:
    """An error code as a label value: a known one, or ``other``."""
    return code if code in _KNOWN_CODES else "other"


def close_label(code: int | None) -> str:
    if code is None:
        return "none"
    return str(code) if code in WS_CLOSE_MEANINGS or code in _STANDARD_CLOSES else "other"


@dataclass(frozen=True)
class ConferenceLive:
    """What one conference has in this process at scrape time."""

    conference: str
    staff_pages: int = 0
    site_pages: int = 0
    sites_online: int = 0              # from the conference's state: every process's sites
    media: dict[str, Any] = field(default_factory=dict)   # the forwarder's totals (MediaPlane.stats)
    worker_up: bool | None = None      # its forwarder worker process runs (None: forwarding in this process)
    relays: dict[str, int] = field(default_factory=dict)  # relays between processes: in, out, packets, lost, dropped


@dataclass
class LiveSources:
    """Callables ``server.app`` wires in, read at each scrape."""

    conferences: Callable[[], Iterable[ConferenceLive]] = lambda: ()
    renders: Callable[[], dict[tuple[str, str], int]] = dict   # (format, result) -> count
    webhook_outbox: Callable[[], int] = lambda: 0
    cluster: Callable[[], tuple[bool, int] | None] = lambda: None   # (store reachable, live media processes)


MEDIA_COUNTERS = (
    ("packets_in", "bridgeconf_media_packets_in", "RTP packets the forwarder received"),
    ("packets_out", "bridgeconf_media_packets_out", "RTP packets the forwarder sent"),
    ("octets_in", "bridgeconf_media_bytes_in", "RTP payload bytes the forwarder received"),
    ("octets_out", "bridgeconf_media_bytes_out", "RTP payload bytes the forwarder sent"),
    ("lost", "bridgeconf_media_packets_lost", "RTP packets lost upstream (expected minus received)"),
    ("keyframe_requests_sent", "bridgeconf_media_keyframe_requests_sent", "PLI/FIR the forwarder sent upstream"),
    ("keyframe_requests_received", "bridgeconf_media_keyframe_requests_received",
     "PLI/FIR the forwarder received from subscribers"),
    ("send_errors", "bridgeconf_media_send_errors", "packets the forwarder failed to send"),
)

RELAY_COUNTERS = (
    ("packets", "bridgeconf_media_relay_packets", "RTP/RTCP packets through the relays between processes"),
    ("lost", "bridgeconf_media_relay_lost", "packets lost on the relays (before retransmission)"),
    ("dropped", "bridgeconf_media_relay_dropped", "relay packets dropped: unknown sender or failed SRTP check"),
)


class _LiveCollector(Collector):
    def __init__(self, sources: LiveSources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        pages = GaugeMetricFamily("bridgeconf_pages", "Connected pages of this process, by conference and view",
                                  labels=["conference", "view"])
        sites = GaugeMetricFamily("bridgeconf_sites_online", "Sites online in a live conference (all processes)",
                                  labels=["conference"])
        peers = GaugeMetricFamily("bridgeconf_media_peers", "WebRTC peers of the forwarder, by state",
                                  labels=["conference", "state"])
        workers = GaugeMetricFamily("bridgeconf_media_worker_up", "1 while a conference's forwarder worker process "
                                    "runs, 0 once it died", labels=["conference"])
        counters = {key: CounterMetricFamily(name, doc, labels=["conference"]) for key, name, doc in MEDIA_COUNTERS}
        relays = GaugeMetricFamily("bridgeconf_media_relays", "Relays between this process's forwarder and other "
                                   "processes', by direction (in: pulled, out: sent)", labels=["conference", "direction"])
        stalled = GaugeMetricFamily("bridgeconf_media_relays_stalled", "Relays this process pulls whose origin "
                                    "sent nothing for relay_timeout_s (5 s)", labels=["conference"])
        relay_counters = {key: CounterMetricFamily(name, doc, labels=["conference"]) for key, name, doc in RELAY_COUNTERS}
        for c in self.sources.conferences():
            pages.add_metric([c.conference, "staff"], c.staff_pages)
            pages.add_metric([c.conference, "site"], c.site_pages)
            sites.add_metric([c.conference], c.sites_online)
            if c.worker_up is not None:
                workers.add_metric([c.conference], 1.0 if c.worker_up else 0.0)
            if c.media:
                peers.add_metric([c.conference, "all"], c.media.get("peers", 0))
                peers.add_metric([c.conference, "connected"], c.media.get("connected", 0))
                for key, _, _ in MEDIA_COUNTERS:
                    counters[key].add_metric([c.conference], float(c.media.get(key, 0)))
            if c.relays:
                relays.add_metric([c.conference, "in"], c.relays.get("in", 0))
                relays.add_metric([c.conference, "out"], c.relays.get("out", 0))
                stalled.add_metric([c.conference], c.relays.get("stalled", 0))
                for key, _, _ in RELAY_COUNTERS:
                    relay_counters[key].add_metric([c.conference], float(c.relays.get(key, 0)))
        yield pages
        yield sites
        yield peers
        yield workers
        yield from counters.values()
        yield relays
        yield stalled
        yield from relay_counters.values()
        cluster = self.sources.cluster()     # None: one process, no relays (the families stay empty)
        up = GaugeMetricFamily("bridgeconf_media_cluster_store_up", "1 while this process reaches the media "
                               "control plane (Redis); 0: relays flowing go on, new ones wait")
        procs = GaugeMetricFamily("bridgeconf_media_cluster_processes", "Media processes with a live lease, "
                                  "as this process saw at its last look (itself included)")
        if cluster is not None:
            up.add_metric([], 1.0 if cluster[0] else 0.0)
            procs.add_metric([], cluster[1])
        yield up
        yield procs
        renders = CounterMetricFamily("bridgeconf_minutes_renders", "Minutes documents rendered or served from the "
                                      "cache, by format and result (rendered, cached, failed)",
                                      labels=["format", "result"])
        for (fmt, result), n in sorted(self.sources.renders().items()):
            renders.add_metric([fmt, result], n)
        yield renders
        outbox = GaugeMetricFamily("bridgeconf_webhook_outbox", "Webhook deliveries waiting to be sent")
        outbox.add_metric([], self.sources.webhook_outbox())
        yield outbox


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("bridgeconf_ws_connections", "Open WebSocket connections of this process",
                                 registry=r)
        self.events = Counter("bridgeconf_events_appended_total", "Events appended by this process",
                              ["stream_kind"], registry=r)
        self.commands = Counter("bridgeconf_commands_total", "Commands handled by this process, by type and "
                                "result (ok, replayed, busy, or the refusal's code)", ["type", "result"], registry=r)
        self.errors = Counter("bridgeconf_errors_total", "WebSocket messages refused, by code", ["code"],
                              registry=r)
        self.http_errors = Counter("bridgeconf_http_errors_total", "REST requests answered with an error, by "
                                   "status and code", ["status", "code"], registry=r)
        self.ws_closes = Counter("bridgeconf_ws_closes_total", "WebSocket connections closed, by close code",
                                 ["code"], registry=r)
        self.fanout = Histogram("bridgeconf_fanout_seconds", "Time to hand one event to every page of a conference",
                                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                                registry=r)
        self.append = Histogram("bridgeconf_append_seconds", "Time to append a command's events durably",
                                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
                                registry=r)
        self.mail = Counter("bridgeconf_mail_total", "E-mails of the minutes, by result (sent, failed)",
                            ["result"], registry=r)
        self.webhooks = Counter("bridgeconf_webhook_deliveries_total", "Webhook delivery attempts, by result "
                                "(delivered, failed, gave_up)", ["result"], registry=r)
        self.live = LiveSources()
        r.register(_LiveCollector(self.live))
        ProcessCollector(registry=r)     # CPU seconds, resident memory, open files of this process
        r.register(GC_COLLECTOR)

    # -- fed by the service ------------------------------------------------------------------
    def command(self, stream_kind: str, cmd: Command, result: Outcome | DomainError | StoreError) -> None:
        kind = cmd.TYPE if cmd.TYPE in COMMANDS else "other"
        if isinstance(result, StoreError):    # nothing recorded: the store is down or too busy
            self.commands.labels(type=kind, result="busy").inc()
            return
        if isinstance(result, DomainError):
            self.commands.labels(type=kind, result=bounded_code(str(result.code))).inc()
            return
        self.commands.labels(type=kind, result="replayed" if result.replayed else "ok").inc()
        if not result.replayed and result.events:
            self.events.labels(stream_kind=stream_kind).inc(len(result.events))
            self._mail(result.events)

    def _mail(self, events: tuple[Event, ...]) -> None:
        for ev in events:
            if isinstance(ev, MinutesMailed):
                failed = sum(1 for r in ev.results if r.error)
                if failed:
                    self.mail.labels(result="failed").inc(failed)
                if len(ev.results) - failed:
                    self.mail.labels(result="sent").inc(len(ev.results) - failed)

    def http_error(self, status: int, code: str) -> None:
        self.http_errors.labels(status=str(status), code=bounded_code(code)).inc()

    def ws_closed(self, code: int | None) -> None:
        self.ws_closes.labels(code=close_label(code)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
