"""Fixtures of the media tests: a started forwarder on 127.0.0.1, no STUN."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from media_helpers import LOOPBACK

from media.client import SiteClient
from media.forwarder import Forwarder


@pytest.fixture
async def fwd() -> AsyncIterator[Forwarder]:
    f = Forwarder(LOOPBACK)
    await f.start()
    yield f
    await f.close()


@pytest.fixture
async def sites() -> AsyncIterator[list[SiteClient]]:
    """Sites a test creates; all closed afterwards."""
    made: list[SiteClient] = []
    yield made
    for s in made:
        await s.close()
