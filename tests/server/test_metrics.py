"""/metrics after real activity: pages and sites per conference, commands by type and result,
events appended, the fan-out histogram, REST errors by code, WebSocket closes by code, the
forwarder's packets per conference (a real aiortc site publishing through the server), and
the process collector. No label names a page or a site."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from wshelp import RawPage, free_port, seed_demo, serving

from media import MediaConfig
from media.headless import HeadlessBridge
from server.config import Config, MediaSettings
from server.tools import demo
from server.tools.client import ApiClient, BridgeClient, CommandRefused

StartServer = Callable[..., Awaitable[Any]]
PASSWORD = "mat-khau-thu-nghiem"
ROOT = Path(__file__).resolve().parents[2]


async def scrape_text(base_url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(base_url + "/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


def exposed_names(text: str) -> set[str]:
    """Every series name /metrics may show: the TYPE lines' names, with a histogram's suffixes."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        names.add(name)
        if kind == "histogram":
            names |= {name + "_bucket", name + "_count", name + "_sum"}
        if kind == "counter" and not name.endswith("_total"):
            names.add(name + "_total")
    return names


def documented_names() -> set[str]:
    docs = ROOT / "docs"
    text = (docs / "prometheus-alerts.yml").read_text() + (docs / "grafana-dashboard.json").read_text() + \
        (docs / "operations.md").read_text()
    return set(re.findall(r"\b((?:bridgeconf|process)_[a-z_]+)\b", text))


async def scrape(base_url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = await scrape_text(base_url)
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for lab, v in samples.get(name, []) if all(lab.get(k) == x for k, x in labels.items()))


async def test_metrics_follow_commands_pages_errors_and_closes(server: StartServer, no_server_errors: None) -> None:
    srv = await server(seed="small")
    conf = srv.conference
    chair = await srv.client(srv.session("chair"))
    await chair.command("open_conference")
    site = await srv.client(await srv.site_token("P-AN"))
    await site.command("request_floor", site="P-AN")
    with pytest.raises(CommandRefused):
        await site.command("grant_floor", site="P-AN")         # only the chair: refused, forbidden
    await chair.command("grant_floor", site="P-AN")
    api = srv.api(srv.session("admin"))
    with pytest.raises(CommandRefused):
        await api.call("GET", "/conferences/khong-co")       # 404 no_conference
    with pytest.raises(CommandRefused):
        await srv.api().call("GET", "/conferences")          # 401 unauthorized

    m = await scrape(srv.base_url)
    assert value(m, "bridgeconf_commands_total", type="open_conference", result="ok") == 1
    assert value(m, "bridgeconf_commands_total", type="grant_floor", result="forbidden") == 1
    assert value(m, "bridgeconf_commands_total", type="grant_floor", result="ok") == 1
    assert value(m, "bridgeconf_events_appended_total", stream_kind="conference") >= 3
    assert value(m, "bridgeconf_fanout_seconds_count") >= 3
    assert value(m, "bridgeconf_http_errors_total", status="404", code="no_conference") == 1
    assert value(m, "bridgeconf_http_errors_total", status="401", code="unauthorized") == 1
    assert value(m, "bridgeconf_pages", conference=conf, view="staff") == 1
    assert value(m, "bridgeconf_pages", conference=conf, view="site") == 1
    assert value(m, "bridgeconf_sites_online", conference=conf) == 1
    assert value(m, "bridgeconf_ws_connections") == 2
    assert value(m, "process_resident_memory_bytes") > 0
    assert value(m, "process_open_fds") > 0
    assert value(m, "process_cpu_seconds_total") > 0
    for samples in m.values():          # bounded labels: never a page, a site or an account
        for labels, _ in samples:
            assert not set(labels) & {"site", "page", "account", "peer", "address"}

    page = await RawPage.open(srv.base_url)
    await page.send("not json at all")                      # no hello: closed 4400
    assert await page.wait_closed() == 4400
    await site.close()
    m = await eventually_scraped(srv.base_url, lambda m: value(m, "bridgeconf_ws_closes_total", code="4400") == 1
                                 and value(m, "bridgeconf_pages", conference=conf, view="site") == 0
                                 and value(m, "bridgeconf_ws_closes_total") == 2)


async def eventually_scraped(base_url: str, ok: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> Any:
    for _ in range(int(timeout / 0.1)):
        m = await scrape(base_url)
        if ok(m):
            return m
        await asyncio.sleep(0.1)
    raise AssertionError(f"the metrics never showed it: {m.get('bridgeconf_ws_closes_total')} "
                         f"{m.get('bridgeconf_pages')}")


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker"])
async def test_forwarder_packets_per_conference(tmp_path: Path, workers: int) -> None:
    config = Config(port=free_port(), data_dir=tmp_path,
                    media=MediaSettings(gather_addresses=("127.0.0.1",), workers=workers))
    closers: list[Any] = []
    bridges: list[HeadlessBridge] = []
    async with serving(config) as app:
        try:
            _, tokens, state = await seed_demo(app, PASSWORD)
            conf = demo.CONFERENCE
            chair_api = await ApiClient.login(config.base_url, "chutri", PASSWORD)
            closers.append(chair_api)
            chair = await BridgeClient(config.base_url, conf, chair_api.token).connect()
            closers.append(chair)
            await chair.command("open_conference")
            media = MediaConfig(gather_addresses=("127.0.0.1",))
            remote = next(c for c in state.sites if c != state.main_site)
            for code, publish in ((state.main_site, True), (remote, False)):
                client = await BridgeClient(config.base_url, conf, tokens[code]).connect()
                closers.append(client)
                bridge = HeadlessBridge(media, client.offer, code, publish=publish)
                await bridge.start()
                bridges.append(bridge)
            m = await eventually_scraped(config.base_url, lambda m: value(
                m, "bridgeconf_media_packets_out_total", conference=conf) > 50, timeout=20)
            assert value(m, "bridgeconf_media_packets_in_total", conference=conf) > 50
            assert value(m, "bridgeconf_media_bytes_in_total", conference=conf) > 1000
            assert value(m, "bridgeconf_media_bytes_out_total", conference=conf) > 1000
            assert value(m, "bridgeconf_media_keyframe_requests_sent_total", conference=conf) >= 1
            assert value(m, "bridgeconf_media_peers", conference=conf, state="connected") == 2
            assert "bridgeconf_media_packets_lost_total" in m
            assert value(m, "bridgeconf_media_worker_up", conference=conf) == workers   # 1 when it runs, absent in-process
            if workers:   # everything the docs' alerts and dashboard use is there
                missing = documented_names() - exposed_names(await scrape_text(config.base_url))
                assert not missing, f"docs name metrics /metrics does not have: {sorted(missing)}"
        finally:
            for bridge in bridges:
                await bridge.stop()
            for c in reversed(closers):
                await c.close()


async def test_commands_the_store_could_not_record_are_counted_busy(server: StartServer,
                                                                    spawn_redis: Callable[..., Any]) -> None:
    redis = spawn_redis(fsync="always")
    srv = await server(store="redis", redis=redis.url(0), seed="small")
    await srv.go_live()
    api = srv.api(srv.session("secretary"))
    redis.kill9()
    try:
        with pytest.raises(CommandRefused) as err:
            await api.call("POST", f"/conferences/{srv.conference}/commands",
                           {"type": "add_note", "note_id": "n1", "text": "Ghi chép"})
        assert err.value.code == "busy"
        m = await scrape(srv.base_url)
        assert value(m, "bridgeconf_commands_total", type="add_note", result="busy") == 1
        assert value(m, "bridgeconf_http_errors_total", status="503", code="busy") == 1
    finally:
        await asyncio.to_thread(redis.restart)
