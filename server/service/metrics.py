"""Prometheus metrics of one server process, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge("bridgeconf_ws_connections", "Open WebSocket connections", registry=self.registry)
        self.events = Counter("bridgeconf_events_appended_total", "Events appended by this process",
                              ["stream_kind"], registry=self.registry)
        self.commands = Counter("bridgeconf_commands_total", "Commands handled", ["outcome"], registry=self.registry)
        self.errors = Counter("bridgeconf_errors_total", "Messages and requests refused", ["code"],
                              registry=self.registry)
        self.fanout = Histogram("bridgeconf_fanout_seconds", "Time to hand one event to every page of a conference",
                                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                                registry=self.registry)
        self.append = Histogram("bridgeconf_append_seconds", "Time to append a command's events durably",
                                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
                                registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
