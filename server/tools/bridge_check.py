"""The connectivity check of a headless bridge (``bridgeconf bridge --join LINK --check``):
the same figures a site's page measures in the browser (static/js/readiness_check.js), taken
from the bridge's own connection to the media server over a few seconds, and reported with
``report_readiness``; the domain gives the verdict (scheduling/readiness.py).

- round trip: the least of the server's receiver reports on what the bridge sends during the
  test (LSR/DLSR). Both ends are Python event loops that also encode and forward media, and
  every stall of either counts in a report's round trip (on loopback, on a shared 2-core
  machine at load 10-14: 55 to 578 ms, while Chromium's STUN-based figure was 1-2 ms); the
  least of the window is the one nearest the link's own;
- loss: the worse of what the bridge lost of what it received (``--poor-link`` drops it on
  purpose) and what the server says it lost of what the bridge sends;
- bitrate: not measured. The bridge sends a fixed-rate test stream (encoded in Python, so on
  a busy machine it is slower still): what went through says what the bridge produced, not
  what the link would carry, and the browser's bandwidth estimator has no counterpart here.
  The figure is left out (``None``) rather than made up; the received and sent rates are
  in the bridge's printed report for whoever wants them;
- camera and microphone: the bridge's synthetic picture and tone (or its media file).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from media.client import SiteClient

CHECK_SECONDS = 5.0
MIN_PACKETS = 20   # fewer received packets than this say nothing about the downlink's loss


async def measure(client: SiteClient, seconds: float = CHECK_SECONDS) -> tuple[dict[str, int], dict[str, Any]]:
    """The rates that went through during the test, and the fields of ``report_readiness``
    (but ``site``) for one bridge's connection."""
    rtts0 = len(client.rtts)
    expected0, received0 = client.reception()
    rx0, tx0, t0 = client.rx_bytes, await client.bytes_sent(), time.monotonic()
    await asyncio.sleep(seconds)
    expected1, received1 = client.reception()
    rx1, tx1, t1 = client.rx_bytes, await client.bytes_sent(), time.monotonic()
    connected = client.link is not None and client.link.connected
    losses = []
    expected, received = expected1 - expected0, received1 - received0
    if expected >= MIN_PACKETS:
        losses.append(100 * max(0, expected - received) / expected)
    if client.up_loss is not None:
        losses.append(100 * client.up_loss)
    rtts = list(client.rtts)[-max(len(client.rtts) - rtts0, 1):] if client.rtts else []   # those of the window
    elapsed = max(t1 - t0, 0.001)
    rates = {"received_kbps": round((rx1 - rx0) * 8 / elapsed / 1000), "sent_kbps": round((tx1 - tx0) * 8 / elapsed / 1000)}
    return rates, {
        "camera": client.video is not None,
        "microphone": client.audio is not None,
        "rtt_ms": round(min(rtts) * 1000) if connected and rtts else None,
        "loss_pct": round(max(losses), 1) if connected and losses else None,
        "bitrate_kbps": None,
        "relay": False,   # the headless bridge gathers host candidates only (``--gather``)
        "via": "bridge",
        "agent": "bridgeconf bridge",
    }
