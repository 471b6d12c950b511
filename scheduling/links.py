"""Site join links: for each (conference, site) a generation number and an expiry.

A link's token (signed by the server) names the conference, the site and the generation;
it is valid while that generation is the current one, not revoked, and not expired.
Re-issuing a link bumps the generation, which revokes every earlier token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .actors import Actor, Role, require
from .base import Command, Event, Results, check_code, check_id, command, event, record_result
from .errors import DomainError, ErrorCode


@dataclass
class Link:
    generation: int
    expires_at: datetime
    revoked: bool = False

    def valid(self, generation: int, now: datetime) -> bool:
        return not self.revoked and generation == self.generation and now < self.expires_at


@dataclass
class Links:
    links: dict[tuple[str, str], Link] = field(default_factory=dict)
    version: int = 0
    results: Results = field(default_factory=dict)


@command
@dataclass(frozen=True, kw_only=True)
class IssueLink(Command):
    TYPE = "issue_link"
    conference_id: str
    site: str
    expires_at: datetime

    def check(self) -> None:
        check_id("conference_id", self.conference_id)
        check_code("site", self.site)


@command
@dataclass(frozen=True, kw_only=True)
class RevokeLink(Command):
    TYPE = "revoke_link"
    conference_id: str
    site: str


@event
@dataclass(frozen=True, kw_only=True)
class LinkIssued(Event):
    TYPE = "link_issued"
    conference_id: str
    site: str
    generation: int
    expires_at: datetime


@event
@dataclass(frozen=True, kw_only=True)
class LinkRevoked(Event):
    TYPE = "link_revoked"
    conference_id: str
    site: str


def decide_links(state: Links, cmd: Command, actor: Actor, *, now: datetime) -> list[Event]:
    require(None, actor, Role.ADMIN, Role.SYSTEM, what="issue or revoke join links")
    meta: dict[str, Any] = {"at": now, "actor": actor.ref, "key": cmd.key}
    match cmd:
        case IssueLink():
            if cmd.expires_at <= now:
                raise DomainError(ErrorCode.DEADLINE_IN_PAST, "a link's expiry must be in the future")
            current = state.links.get((cmd.conference_id, cmd.site))
            generation = current.generation + 1 if current else 1
            return [LinkIssued(conference_id=cmd.conference_id, site=cmd.site, generation=generation,
                               expires_at=cmd.expires_at, **meta)]
        case RevokeLink():
            link = state.links.get((cmd.conference_id, cmd.site))
            if link is None or link.revoked:
                raise DomainError(ErrorCode.INVALID_COMMAND, f"no live link for site {cmd.site}")
            return [LinkRevoked(conference_id=cmd.conference_id, site=cmd.site, **meta)]
    raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not a link command")


def evolve_links(state: Links, ev: Event) -> Links:
    match ev:
        case LinkIssued():
            state.links[(ev.conference_id, ev.site)] = Link(generation=ev.generation, expires_at=ev.expires_at)
        case LinkRevoked():
            state.links[(ev.conference_id, ev.site)].revoked = True
    state.version += 1
    record_result(state.results, ev, state.version)
    return state
