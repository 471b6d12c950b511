"""Configuration of the media plane: frozen dataclasses that check themselves."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCBundlePolicy

from .quality import QualityPolicy

VIDEO_CODECS = ("VP8", "H264")


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server, as browsers and aiortc take it."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("an ICE server needs at least one URL")
        for url in self.urls:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(f"not a STUN/TURN URL: {url!r}")

    def to_browser(self) -> dict[str, object]:
        """The ``RTCIceServer`` dictionary a browser's ``RTCPeerConnection`` takes."""
        out: dict[str, object] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential
        return out


@dataclass(frozen=True)
class MediaConfig:
    """Settings of one forwarder (and of the Python peers that talk to it).

    ``ice_servers`` is passed as is to every peer connection; empty means *no*
    STUN/TURN at all (aiortc would otherwise fall back to a public STUN server).
    ``gather_addresses`` are the local addresses ICE binds to; empty means every
    non-loopback host address (aioice's default). ``announced_address`` replaces
    the address in the candidates we send (the public address behind a 1:1 NAT).
    """

    ice_servers: tuple[IceServer, ...] = ()
    gather_addresses: tuple[str, ...] = ()
    announced_address: str | None = None
    video_codec: str = "VP8"
    max_video_bitrate: int = 2_500_000
    """Upper bound announced to publishers in REMB (bits/s)."""
    keyframe_interval: float = 0.3
    """Minimum time between two keyframe requests sent to the same publisher (s)."""
    keyframe_retry: float = 1.0
    """A subscriber still waiting for a keyframe after this long asks again (s)."""
    audio_level_interval: float = 0.2
    """How often ``on_audio_level`` is called per publishing peer (s)."""
    rtcp_interval: float = 1.0
    """Period of the sender and receiver reports the forwarder emits (s)."""
    max_sdp_bytes: int = 64 * 1024
    max_preview_slots: int = 64
    max_speaker_slots: int = 8
    auto_audio_only: bool = True
    """Stop sending video to a site whose link loses too much (see :mod:`media.quality`)."""
    poor_link_loss: float = 0.10
    """Fraction of packets lost on the way to a site, reported twice in a row, that makes it audio-only."""
    audio_only_recover_s: float = 10.0
    """Seconds without a poor report before an automatically audio-only site gets video back."""
    relay_host: str | None = None
    """Local address of this forwarder's relay UDP socket (relays between forwarders, see
    :mod:`media.relay`); None: relays off (one process, the default)."""
    relay_ports: tuple[int, int] = (0, 0)
    """Port range the relay socket binds in (first free one); (0, 0): any free port."""
    relay_announce: str | None = None
    """The address other forwarders send relay packets to (NAT, a different interface);
    None: ``relay_host``."""
    relay_timeout_s: float = 5.0
    """A relay link whose origin sent nothing for this long reports itself stalled."""

    def __post_init__(self) -> None:
        if self.video_codec not in VIDEO_CODECS:
            raise ValueError(f"video_codec must be one of {VIDEO_CODECS}")
        for addr in self.gather_addresses:
            ipaddress.ip_address(addr)  # raises ValueError
        if self.announced_address is not None:
            ipaddress.ip_address(self.announced_address)
        for name in ("keyframe_interval", "keyframe_retry", "audio_level_interval", "rtcp_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for addr in (self.relay_host, self.relay_announce):
            if addr is not None:
                ipaddress.ip_address(addr)
        low, high = self.relay_ports
        if not (low == high == 0 or 1 <= low <= high <= 65535):
            raise ValueError("relay_ports must be (0, 0) or a range within 1..65535")
        if self.relay_timeout_s <= 0:
            raise ValueError("relay_timeout_s must be positive")
        if self.max_video_bitrate < 30_000:
            raise ValueError("max_video_bitrate is too low")
        self.quality_policy()  # raises ValueError

    def quality_policy(self) -> QualityPolicy:
        return QualityPolicy(
            poor_loss=self.poor_link_loss,
            recover_after=self.audio_only_recover_s,
            max_recover_after=max(120.0, self.audio_only_recover_s),
        )

    def rtc_configuration(self) -> RTCConfiguration:
        """aiortc configuration: our ICE servers (possibly none) and max-bundle."""
        servers = [
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in self.ice_servers
        ]
        return RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)

    def browser_ice_servers(self) -> list[dict[str, object]]:
        return [s.to_browser() for s in self.ice_servers]
