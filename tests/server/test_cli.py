"""The ``bridgeconf`` command line: ``serve --help`` documents where it listens and what it
stores where; ``admin create`` makes the first admin; ``links CONF --csv`` exports every
invited site's join link — with the SQLite data dir and with Redis."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.app import load_secret, open_store
from server.config import Config
from server.service.security import Signer
from server.service.service import Service

ROOT = Path(__file__).resolve().parents[2]


def bridgeconf(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.tools.cli", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_serve_help_documents_host_port_data_dir_and_redis() -> None:
    out = bridgeconf("serve", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    for option in ("--host", "--port", "--data-dir", "--redis", "--demo"):
        assert option in text
    assert "BRIDGECONF_REDIS_URL" in text and "SQLite" in text
    top = bridgeconf("--help")
    assert all(cmd in top.stdout for cmd in ("serve", "admin", "links"))


def test_admin_create_makes_an_admin_who_can_sign_in(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    short = bridgeconf("admin", "create", "boss", "--password-stdin", "--data-dir", data, stdin="ngan\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    made = bridgeconf("admin", "create", "boss", "--password-stdin", "--data-dir", data, stdin="mat-khau-rat-dai\n")
    assert made.returncode == 0 and "'boss' created" in made.stdout
    again = bridgeconf("admin", "create", "boss", "--password-stdin", "--data-dir", data, stdin="mat-khau-khac\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    # (a further admin can be made the same way: whoever holds the data dir holds the deployment)
    config = Config(data_dir=Path(data))

    async def check() -> None:
        store = await open_store(config)
        service = Service(config, store, Signer(await load_secret(config, store)))
        await service.start()
        try:
            assert service.identity.session_actor(service.identity.login("boss", "mat-khau-rat-dai")).admin
        finally:
            await service.close()
            await store.close()
    import asyncio
    asyncio.run(check())


async def _seed(config: Config, seed: Any) -> dict[str, str]:
    store = await open_store(config)
    service = Service(config, store, Signer(await load_secret(config, store)))
    await service.start()
    try:
        seeded = await seed(service)
        return {"conference": seeded.conference, "secret": service.identity.signer.secret}
    finally:
        await service.close()
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_links_exports_every_invited_site_as_csv(backend: str, tmp_path: Path, seeds: dict[str, Any],
                                                      request: pytest.FixtureRequest) -> None:
    redis = request.getfixturevalue("redis_url") if backend == "redis" else None
    data = tmp_path / "data"
    seeded = await _seed(Config(data_dir=data, redis_url=redis), seeds["small"])
    store_args = ["--data-dir", str(data)] + (["--redis", redis] if redis else [])
    out = bridgeconf("links", seeded["conference"], "--csv", "-", "--public-url", "https://hop.example.vn",
                     *store_args)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("\ufeff")    # a BOM: Excel reads the Vietnamese names right
    rows = list(csv.DictReader(io.StringIO(out.stdout.removeprefix("\ufeff"))))
    assert [r["site"] for r in rows] == ["TRU-SO", "P-AN", "P-BINH", "X-CHAU", "X-DUNG"]   # the main bridge too
    assert rows[1]["name"] == "Phường An"
    signer = Signer(seeded["secret"])
    for r in rows:
        assert r["url"].startswith("https://hop.example.vn/join/") and r["expires_at"]
        claims = signer.verify("site", r["url"].rsplit("/", 1)[1])
        assert (claims["c"], claims["s"]) == (seeded["conference"], r["site"])
    if backend == "redis":
        return                       # the rest does not depend on the store
    # to a file, and the same links a second time (they are not re-issued)
    target = tmp_path / "links.csv"
    again = bridgeconf("links", seeded["conference"], "--csv", str(target), "--public-url", "https://hop.example.vn",
                       *store_args)
    assert again.returncode == 0 and "5 links written" in again.stdout
    assert target.read_text(encoding="utf-8") == out.stdout
    table = bridgeconf("links", seeded["conference"], *store_args)
    assert table.returncode == 0 and "X-DUNG" in table.stdout
    missing = bridgeconf("links", "khong-co", *store_args)
    assert missing.returncode == 2 and "no_conference" in missing.stderr


@pytest.mark.parametrize(("argv", "says"), [
    (["bridge", "--join", "x", "--poor-link", "2"], "--poor-link: must be between 0 and 0.9, not 2.0"),
    (["serve", "--heartbeat", "abc"], "--heartbeat: not a number of seconds: 'abc'"),
    (["serve", "--offline-after", "0.1"], "--offline-after: must be between 0.5 and 600 seconds, not 0.1"),
    (["simulate", "--conference", "x", "--sites", "-3"], "--sites: not a number of sites: '-3'"),
    (["simulate", "--conference", "x", "--speaking", "50"], "--speaking: must be between 0 and 20 sites, not 50"),
    (["serve", "--relay-ports", "9-2"], "--relay-ports: ports must be 1..65535 with LO <= HI: '9-2'"),
    (["serve", "--relay-ports", "a-b"], "--relay-ports: not a port range LO-HI: 'a-b'"),
])
def test_out_of_range_numbers_are_refused_with_their_range(argv: list[str], says: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from server.tools.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and says in capsys.readouterr().err


def test_relays_are_on_with_redis_and_media_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from server.tools.cli import _config
    monkeypatch.delenv("BRIDGECONF_REDIS_URL", raising=False)
    base = {"data_dir": "/tmp/x", "media_address": ["10.0.0.5"], "relay_ports": None, "relay_announce": None,
            "relay_host": None, "no_media": False}
    alone = _config(argparse.Namespace(**base, redis=None)).media
    assert alone.relay_host is None                              # one process: no relays, as before
    shared = _config(argparse.Namespace(**base, redis="redis://127.0.0.1:6379/0")).media
    assert (shared.relay_host, shared.relay_ports, shared.relay_announce) == ("10.0.0.5", (0, 0), None)
    given = _config(argparse.Namespace(**{**base, "relay_host": "10.0.0.6", "relay_ports": (41000, 41999),
                                          "relay_announce": "192.0.2.7"}, redis="redis://127.0.0.1:6379/0")).media
    assert (given.relay_host, given.relay_ports, given.relay_announce) == ("10.0.0.6", (41000, 41999), "192.0.2.7")
    muted = _config(argparse.Namespace(**{**base, "no_media": True}, redis="redis://127.0.0.1:6379/0")).media
    assert muted.relay_host is None
