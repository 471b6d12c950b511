"""Server settings, from the command line and the environment (BRIDGECONF_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MediaSettings:
    enabled: bool = True
    ice_servers: tuple[dict[str, object], ...] = ()       # STUN/TURN for browsers and the server's peers
    gather_addresses: tuple[str, ...] = ("127.0.0.1",)   # where the media plane gathers ICE candidates
    announced_address: str | None = None                 # public address behind 1:1 NAT
    workers: int = 0                                     # forwarder worker processes (0: in the server process)
    record: bool = False                                 # record the program of live conferences (WebM)
    # relays between the forwarders of several processes (issue 15; with --redis only): the
    # local address the relay UDP sockets bind, their port range ((0, 0): any free port) and
    # the address other processes reach them at (another machine's view: a private LAN address)
    relay_host: str | None = None
    relay_ports: tuple[int, int] = (0, 0)
    relay_announce: str | None = None


@dataclass(frozen=True)
class SigningSettings:
    """The organisation's certificate that signs approved minutes (PAdES): a PKCS#12 file,
    its password (BRIDGECONF_SIGNING_PASSWORD), an optional timestamp authority, and the
    trust roots that ``minutes verify`` and the server check signatures against (PEM)."""

    certificate: Path | None = None
    password: str = ""
    tsa_url: str = ""
    trust_roots: Path | None = None


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    sender: str = "bridgeconf@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("var")
    redis_url: str | None = None
    public_url: str = ""                 # how pages and links reach this server; derived when empty
    secret: str | None = None            # signing key; generated and kept in data_dir (or Redis) when empty
    heartbeat_s: float = 3.0             # silent pages are pinged each interval, dropped after 2.5 intervals
    ack_liveness: bool = True            # a page that events are written to is not pinged (its kernel drops it when one
                                         # goes unacknowledged), if it answered a ping within 10 intervals (Linux;
                                         # docs/operations.md)
    offline_after_s: float = 10.0        # a site that lost its link and did not come back is offline after this
    max_frame: int = 64 * 1024           # WebSocket message size limit
    send_buffer_limit: int = 4 * 1024 * 1024   # a page that falls this far behind is dropped (it resumes)
    snapshot_after: int = 500            # a client this many events behind gets a snapshot instead
    link_days_after_end: int = 180       # join links stay valid for the follow-up of action items
    allowed_origins: tuple[str, ...] = ()
    reconnects_per_link: int = 120       # connections a join link (or account) may open to a conference at once, then 1/s
    reconnects_per_address: int = 20_000   # connections one client address may open at once, then as many a minute
    listen_backlog: int = 4096           # connections the kernel queues before the server accepts them: after a
                                         # restart every page reconnects at once (capped by net.core.somaxconn)
    webhook_retry_s: float = 30.0        # the first wait before a failed webhook delivery is retried (doubling)
    media: MediaSettings = field(default_factory=MediaSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @staticmethod
    def env_redis_url() -> str | None:
        return os.environ.get("BRIDGECONF_REDIS_URL") or None
