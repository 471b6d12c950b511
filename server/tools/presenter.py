"""``bridgeconf bridge --join LINK --present deck.pdf``: a headless presenter. It uploads the
PDF with the site's join-link token (the server renders it and records ``attach_deck``),
waits until the site may present (the main bridge: the conference is running; a floor holder:
the chair allows it), starts the presentation and turns a page every ``every_s`` seconds,
round and round, until its time is up. For tests and benchmarks."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from scheduling import ConferenceState, may_present

from .client import ApiClient, BridgeClient, CommandRefused


async def present_deck(client: BridgeClient, base_url: str, token: str, site: str, pdf: Path, *,
                       seconds: float, every_s: float = 5.0, wait_s: float = 600.0) -> dict[str, Any]:
    """Upload ``pdf``, present it as ``site`` and turn pages for ``seconds``; what it did."""
    api = ApiClient(base_url, token)
    try:
        conference = client.conference
        deck = await api.upload(f"/conferences/{quote(conference)}/decks?name={quote(pdf.name)}", pdf.read_bytes())
    finally:
        await api.close()

    def ready(state: ConferenceState | None) -> bool:
        return state is not None and may_present(state, site) and deck["deck_id"] in state.presentation.decks
    await client.wait_for(ready, timeout=wait_s)
    started = time.monotonic()
    await client.command("start_presentation", site=site, deck_id=deck["deck_id"], page=1)
    turns, refused = 0, []
    page = 1
    while time.monotonic() - started + every_s <= seconds:
        await asyncio.sleep(every_s)
        page = page % int(deck["pages"]) + 1
        try:
            await client.command("show_slide", site=site, page=page)
            turns += 1
        except CommandRefused as exc:   # the chair stopped us, or the floor ended
            refused.append(exc.code)
            break
    return {"deck_id": deck["deck_id"], "pages": deck["pages"], "sha256": deck["sha256"], "turns": turns,
            "refused": refused}
