"""The pure decisions of the media control plane across processes (server/reactors/relay_plan.py):
which sites a process pulls over a relay and from where, which relays it sends."""

from __future__ import annotations

import msgspec
import pytest

from server.reactors.relay_plan import (
    Publication,
    Record,
    Want,
    decode_record,
    link_id,
    remote_states,
    sources,
    to_serve,
)


def pub(site: str, process: str, at: float, peer: str | None = None, conf: str = "c1") -> Publication:
    return Publication(process, conf, site, peer or f"{site}/{process}.1", ("127.0.0.1", 40000), at)


def want(origin: str, peer: str, conf: str = "c1", edge: str = "B") -> Want:
    return Want(link_id(edge, conf, peer), conf, peer, origin, ("127.0.0.1", 40001), "00" * 30)


def test_a_site_published_here_is_not_pulled() -> None:
    assert sources({"MAIN"}, {"MAIN"}, [pub("MAIN", "A", 1.0)]) == {}


def test_a_wanted_site_published_elsewhere_is_pulled_from_its_process() -> None:
    got = sources({"MAIN", "W1"}, set(), [pub("MAIN", "A", 1.0), pub("W2", "A", 1.0)])
    assert list(got) == ["MAIN"] and got["MAIN"].process == "A"


def test_the_most_recent_publication_wins_when_a_page_re_offered_elsewhere() -> None:
    old, new = pub("MAIN", "A", 1.0), pub("MAIN", "C", 2.0)
    assert sources({"MAIN"}, set(), [old, new])["MAIN"] == new
    assert sources({"MAIN"}, set(), [new, old])["MAIN"] == new


def test_a_site_nobody_publishes_is_not_pulled() -> None:
    assert sources({"W9"}, set(), [pub("MAIN", "A", 1.0)]) == {}


def test_only_wants_addressed_here_for_a_peer_publishing_here_are_served() -> None:
    mine, stale, theirs = want("A", "MAIN/A.1"), want("A", "MAIN/A.0"), want("C", "MAIN/C.1")
    served = to_serve("A", [mine, stale, theirs], {("c1", "MAIN/A.1")})
    assert served == {mine.link_id: mine}


def test_a_want_of_another_conference_with_the_same_peer_is_not_served() -> None:
    assert to_serve("A", [want("A", "MAIN/A.1", conf="c2")], {("c1", "MAIN/A.1")}) == {}


def test_link_ids_are_unique_per_edge_and_peer_and_fit_the_relay_alphabet() -> None:
    a, b = link_id("B", "so-ket", "Q1/ab.3"), link_id("C", "so-ket", "Q1/ab.3")
    assert a != b
    odd = link_id("B", "hội nghị", "@chủ trì/x.1" * 20)
    assert len(odd) <= 128 and all(ch.isascii() and (ch.isalnum() or ch in "._:/@-") for ch in odd)


def test_a_record_round_trips_and_a_malformed_one_is_refused() -> None:
    rec = Record("A", [pub("MAIN", "A", 1.5)], [want("C", "W1/C.2")])
    assert decode_record(msgspec.json.encode(rec)) == rec
    with pytest.raises(msgspec.DecodeError):
        decode_record(b'{"process": "A", "pubs": [{"site": 1}]}')
    with pytest.raises(msgspec.DecodeError):
        decode_record(b'{"process": "A", "extra": true}')


def test_a_relay_whose_origin_blinked_off_the_board_is_kept_within_its_grace() -> None:
    flowing = pub("MAIN", "A", 1.0)
    assert sources({"MAIN"}, set(), [], {"MAIN": flowing}, grace={"A"}) == {"MAIN": flowing}
    assert sources({"MAIN"}, set(), [], {"MAIN": flowing}, grace=()) == {}        # gone for a lease: dropped
    newer = pub("MAIN", "C", 2.0)
    assert sources({"MAIN"}, set(), [newer], {"MAIN": flowing}, grace={"A"}) == {"MAIN": newer}
    assert sources(set(), set(), [], {"MAIN": flowing}, grace={"A"}) == {}        # nobody needs it any more


def test_remote_states_are_the_latest_publications_of_sites_not_published_here() -> None:
    old = msgspec.structs.replace(pub("W1", "A", 1.0), state="stalled")
    new = msgspec.structs.replace(pub("W1", "C", 2.0), state="flowing")
    here = msgspec.structs.replace(pub("W2", "A", 1.0), state="stalled")
    quiet = pub("W3", "A", 1.0)                                  # no state reported yet
    assert remote_states({"W2"}, [old, new, here, quiet]) == {"W1": "flowing"}
