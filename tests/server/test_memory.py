"""The garbage collector's tending (server/memory.py): frozen objects are not walked by the
routine collections, and the periodic full collection still frees cycles that died among them."""

from __future__ import annotations

import gc
import weakref

from server.memory import GcTender


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_cycle_frozen_alive_is_freed_by_the_full_collection_after_it_died() -> None:
    tender = GcTender()
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    gc.freeze()                      # the cycle was alive at a freeze: routine collections skip it
    try:
        del a, b
        gc.collect()
        assert gone() is not None, "a frozen cycle is not collected by a routine collection"
        assert tender.full() >= 2 and gone() is None, "the full collection frees it"
        assert tender.full_collections == 1 and tender.last_full_s >= 0
        assert gc.get_freeze_count() > 0, "and freezes what lives again"
    finally:
        gc.unfreeze()


async def test_the_tender_freezes_on_its_own_and_lets_go_when_closed() -> None:
    tender = GcTender(freeze_every_s=0.05, full_every_s=0.1)
    tender.start()
    try:
        assert gc.get_freeze_count() > 0
        import asyncio
        await asyncio.sleep(0.35)
        assert tender.full_collections >= 1
    finally:
        await tender.close()
    assert gc.get_freeze_count() == 0
