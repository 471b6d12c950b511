"""The pages open in this process, by what their rights hang on (their account, their join
link, their conference's roster), so that a change of rights re-checks exactly the pages it
may affect, at once (``service.rights``: the generations and their listeners)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from aiohttp import web

from scheduling import Actor, ActorKind

from ..service.rights import RightsChanged, RightsGenerations


class Recheckable(Protocol, Hashable):
    def recheck(self) -> bool:
        """Take the actor's current rights: keep the page (True), or end it (False)."""
        ...


class OpenPages:
    def __init__(self, rights: RightsGenerations) -> None:
        self._by: dict[tuple[str, object], set[Recheckable]] = {}
        rights.listeners.append(self.changed)

    @staticmethod
    def _keys(conf_id: str, actor: Actor) -> tuple[tuple[str, object], tuple[str, object]]:
        own: tuple[str, object] = ("link", (conf_id, actor.id)) if actor.kind is ActorKind.SITE \
            else ("account", actor.id)
        return own, ("roster", conf_id)

    def add(self, conf_id: str, actor: Actor, page: Recheckable) -> None:
        for key in self._keys(conf_id, actor):
            self._by.setdefault(key, set()).add(page)

    def remove(self, conf_id: str, actor: Actor, page: Recheckable) -> None:
        for key in self._keys(conf_id, actor):
            pages = self._by.get(key)
            if pages is not None:
                pages.discard(page)
                if not pages:
                    del self._by[key]

    def changed(self, change: RightsChanged) -> None:
        for page in list(self._by.get((change.kind, change.key), ())):
            page.recheck()


OPEN_PAGES: web.AppKey[OpenPages] = web.AppKey("open_pages", OpenPages)
