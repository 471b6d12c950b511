"""The control path: a change reroutes the sites it concerns and no others.

The pure half checks :func:`media.routing.control_change` against the full plan on
random control states (whatever it leaves out must really be unchanged); the real
half steers a forwarder with aiortc sites and reads which outputs moved.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

from media_helpers import site, wait_for

from media.client import SiteClient
from media.forwarder import Forwarder
from media.routing import (
    ControlChange,
    ControlState,
    PeerSlots,
    PublishHint,
    VideoSend,
    control_change,
    publish_hint,
    subscriber_plan,
)

PEERS = [f"s{i}" for i in range(8)]
SLOTS = PeerSlots(speaker_slots=2, preview_slots=2)  # the plan names the share slot whenever there is a share


def random_state(rng: random.Random) -> ControlState:
    def some(k: int) -> frozenset[str]:
        return frozenset(rng.sample(PEERS, rng.randint(0, k)))

    viewers = rng.sample(PEERS, rng.randint(0, 2))
    return ControlState(
        program=rng.choice([None, *PEERS]),
        speakers=tuple(rng.sample(PEERS, rng.randint(0, 2))),
        muted=some(3), audio_only=some(2), poor_links=some(2),
        previews={v: tuple(rng.sample(PEERS, rng.randint(1, 2))) for v in viewers},
        share=rng.choice([None, *PEERS]),
    )  # fmt: skip


def test_control_change_names_every_subscriber_and_hint_that_changes() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        old = random_state(rng)
        # half the time a small step from old (the usual case), else anything
        new = random_state(rng) if rng.random() < 0.5 else replace(old, **_one_step(rng, old))
        change = control_change(old, new)
        for peer in PEERS:
            if not change.everyone and peer not in change.subscribers:
                assert subscriber_plan(peer, SLOTS, old) == subscriber_plan(peer, SLOTS, new), (old, new, peer)
            if peer not in change.hints:
                assert publish_hint(peer, old) == publish_hint(peer, new), (old, new, peer)
            assert (peer in change.muted) == ((peer in old.muted) != (peer in new.muted))


def _one_step(rng: random.Random, old: ControlState) -> dict[str, object]:
    peer = rng.choice(PEERS)
    field = rng.choice(["muted", "audio_only", "poor_links", "previews", "speakers", "share"])
    if field == "share":
        return {"share": rng.choice([None, peer])}
    if field == "previews":
        previews = dict(old.previews)
        previews[peer] = tuple(rng.sample(PEERS, 2))
        return {"previews": previews}
    if field == "speakers":
        return {"speakers": (peer,)}
    return {field: getattr(old, field) ^ {peer}}


def test_a_change_that_concerns_one_site_names_only_that_site() -> None:
    state = ControlState(program="main", speakers=("s1",), previews={"chair": ("s5",)})
    assert control_change(state, replace(state, muted=frozenset({"s4"}))) == _change(hints=frozenset({"s4"}), muted=frozenset({"s4"}))
    assert control_change(state, replace(state, audio_only=frozenset({"s4"}))) == _change(subscribers=frozenset({"s4"}))
    muted_speaker = control_change(state, replace(state, muted=frozenset({"s1"})))
    assert muted_speaker.everyone and muted_speaker.hints == {"s1"}
    floor = control_change(state, replace(state, speakers=("s2",)))
    assert floor.everyone and floor.hints == {"s1", "s2"}
    wall = control_change(state, replace(state, previews={"chair": ("s6",)}))
    assert wall == _change(subscribers=frozenset({"chair"}), hints=frozenset({"s5", "s6"}))
    assert control_change(state, state) == _change()


def _change(subscribers: frozenset[str] = frozenset(), hints: frozenset[str] = frozenset(),
            muted: frozenset[str] = frozenset()) -> ControlChange:
    return ControlChange(False, frozenset(subscribers), frozenset(muted), frozenset(hints))


async def test_steering_moves_only_the_outputs_that_change(fwd: Forwarder, sites: list[SiteClient]) -> None:
    hints: list[tuple[str, PublishHint]] = []
    fwd.on_publish_hint = lambda peer, hint: hints.append((peer, hint))
    main = site(fwd, "main")
    speakers = [site(fwd, "site-1", tone=300), site(fwd, "site-2", tone=340)]
    listeners = [site(fwd, f"site-{i}", publish=False) for i in range(3, 7)]
    sites.extend([main, *speakers, *listeners])
    await asyncio.gather(*(s.connect() for s in sites))
    fwd.steer("main", ["site-1"], [])
    await wait_for(lambda: all(s.counter("speaker-0/video").frames >= 3 for s in [main, *listeners]),
                   what="site-1's video at every other site")  # fmt: skip

    def switches() -> dict[tuple[str, str], int]:
        peers = fwd.stats()["peers"]
        return {(pid, slot): o["switches"] for pid, p in peers.items() for slot, o in p["out"].items()}

    before, hints[:] = switches(), []
    fwd.steer("main", ["site-1"], ["site-5"])  # a listener muted: nothing it receives moves
    assert switches() == before
    assert hints == [], "site-5 was not on air: what it should send stays the same"
    assert fwd.control.muted == {"site-5"}

    before = switches()
    fwd.steer("main", ["site-2"], [])  # the floor moves: every speaker slot, and nothing else
    moved = {key for key, n in switches().items() if n != before[key]}
    assert moved == {(pid, f"speaker-0/{kind}") for pid in ["main", "site-1", *(f"site-{i}" for i in range(3, 7))]
                     for kind in ("audio", "video")}  # fmt: skip
    assert sorted(hints) == [("site-1", PublishHint(False, VideoSend.OFF)), ("site-2", PublishHint(True, VideoSend.FULL))]
    start = {s.name: s.counter("speaker-0/video").keyframes for s in listeners}
    await wait_for(lambda: all(s.counter("speaker-0/video").keyframes > start[s.name] for s in listeners),
                   what="site-2's keyframe at every listener")  # fmt: skip
    assert all(s.counter("speaker-0/video").gaps == 0 for s in listeners), "numbering continues across the switch"
    assert fwd.control_timing.calls >= 3 and fwd.control_timing.largest > 0
