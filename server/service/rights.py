"""Generations of what gives an actor its rights, so that an open page can tell cheaply,
on every command, whether its rights may have changed since its ``hello``.

    per account      its admin flag, disabled flag, password and signed-out sessions
                     (``account_updated``, ``password_changed``, ``session_ended``)
    per join link    (conference, site): issued again or revoked
    per roster       a conference's chair, secretaries, observers and invited sites
                     (``conference_edited`` naming any of them, ``sites_invited``,
                     ``sites_uninvited``)

The counters are bumped when those events are applied in this process, whichever process
appended them (the hubs follow the store), so they need no storage of their own: a page's
``stamp`` taken at ``hello`` is compared with the current one per command (three dict
lookups), and ``listeners`` hear of each change at once, so that the signaling edge
re-checks the affected pages without waiting for their next command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scheduling import (
    AccountUpdated,
    Actor,
    ActorKind,
    ConferenceEdited,
    ConferenceState,
    Event,
    LinkIssued,
    LinkRevoked,
    PasswordChanged,
    SessionEnded,
    SitesInvited,
    SitesUninvited,
)

from .hub import StreamHub

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int]
"""(account generation, link generation, roster generation) as a page saw them."""


@dataclass(frozen=True)
class RightsChanged:
    """What changed: ``account`` (an account id), ``link`` ((conference, site)) or
    ``roster`` (a conference id)."""

    kind: str
    key: Any


def _roster_changed(ev: Event) -> bool:
    if isinstance(ev, SitesInvited | SitesUninvited):
        return True
    return isinstance(ev, ConferenceEdited) and (
        ev.chair is not None or ev.secretaries is not None or ev.observers is not None)


class RightsGenerations:
    def __init__(self) -> None:
        self.accounts: dict[str, int] = {}
        self.links: dict[tuple[str, str], int] = {}
        self.rosters: dict[str, int] = {}
        self.listeners: list[Callable[[RightsChanged], None]] = []

    def stamp(self, conf_id: str, actor: Actor) -> Stamp:
        if actor.kind is ActorKind.SITE:
            return 0, self.links.get((conf_id, actor.id), 0), self.rosters.get(conf_id, 0)
        return self.accounts.get(actor.id, 0), 0, self.rosters.get(conf_id, 0)

    # -- following the streams ----------------------------------------------------------------
    def watch_accounts(self, hub: StreamHub[Any]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            for ev in events:
                if isinstance(ev, AccountUpdated | PasswordChanged | SessionEnded):
                    self._bump(self.accounts, ev.account_id, RightsChanged("account", ev.account_id))
        hub.on_events.append(on_events)

    def watch_links(self, hub: StreamHub[Any]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            for ev in events:
                if isinstance(ev, LinkIssued | LinkRevoked):
                    key = (ev.conference_id, ev.site)
                    self._bump(self.links, key, RightsChanged("link", key))
        hub.on_events.append(on_events)

    def watch_conference(self, hub: StreamHub[ConferenceState | None]) -> None:
        def on_events(events: tuple[Event, ...]) -> None:
            if hub.state is not None and any(_roster_changed(ev) for ev in events):
                conf_id = hub.state.conference_id
                self._bump(self.rosters, conf_id, RightsChanged("roster", conf_id))
        hub.on_events.append(on_events)

    def _bump(self, table: dict[Any, int], key: Any, change: RightsChanged) -> None:
        table[key] = table.get(key, 0) + 1
        for listener in tuple(self.listeners):
            try:
                listener(change)
            except Exception:   # one broken listener must not keep the others from hearing
                log.exception("a rights listener failed")
