"""Who acts, and which roles they hold in a conference.

An :class:`Actor` is an account (possibly an admin), a site operator (acting as exactly one
site, with no account), or the system (the server itself: connection changes, timers).
Conference roles (chair, secretary, observer) are not properties of an account: they are
derived from the conference's state by :func:`roles_in`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from .errors import DomainError, ErrorCode


class ActorKind(StrEnum):
    ACCOUNT = "account"
    SITE = "site"
    SYSTEM = "system"


class Role(StrEnum):
    ADMIN = "admin"
    CHAIR = "chair"
    SECRETARY = "secretary"
    SITE = "site"
    OBSERVER = "observer"
    SYSTEM = "system"


STAFF_ROLES = frozenset({Role.ADMIN, Role.CHAIR, Role.SECRETARY, Role.OBSERVER})
"""The roles of the conference's staff: they see notes, contacts and the mailer's reports,
which a site's page never does (``scheduling.visibility``)."""


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    admin: bool = False

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def account(cls, account_id: str, *, admin: bool = False) -> Actor:
        return cls(ActorKind.ACCOUNT, account_id, admin)

    @classmethod
    def site(cls, code: str) -> Actor:
        return cls(ActorKind.SITE, code)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, "server")


SYSTEM = Actor.system()


class HasStaff(Protocol):
    chair: str
    secretaries: tuple[str, ...]
    observers: tuple[str, ...]

    def is_invited(self, code: str) -> bool: ...


def roles_in(conf: HasStaff | None, actor: Actor) -> frozenset[Role]:
    roles: set[Role] = set()
    if actor.kind is ActorKind.SYSTEM:
        return frozenset({Role.SYSTEM})
    if actor.kind is ActorKind.SITE:
        if conf is not None and conf.is_invited(actor.id):
            roles.add(Role.SITE)
        return frozenset(roles)
    if actor.admin:
        roles.add(Role.ADMIN)
    if conf is not None:
        if actor.id == conf.chair:
            roles.add(Role.CHAIR)
        if actor.id in conf.secretaries:
            roles.add(Role.SECRETARY)
        if actor.id in conf.observers:
            roles.add(Role.OBSERVER)
    return frozenset(roles)


def require(conf: HasStaff | None, actor: Actor, *allowed: Role, what: str) -> frozenset[Role]:
    roles = roles_in(conf, actor)
    if not roles & set(allowed):
        names = " or ".join(r.value for r in allowed)
        raise DomainError(ErrorCode.FORBIDDEN, f"only the {names} may {what}")
    return roles


def require_self_or(conf: HasStaff, actor: Actor, site: str, *allowed: Role, what: str) -> None:
    """The site itself, or one of ``allowed`` acting on its behalf."""
    if actor.kind is ActorKind.SITE:
        if actor.id != site:
            raise DomainError(ErrorCode.NOT_OWN_SITE, f"site {actor.id} may {what} only for itself, not {site}")
        if not conf.is_invited(site):
            raise DomainError(ErrorCode.SITE_NOT_INVITED, f"site {site} is not invited")
        return
    if allowed:
        require(conf, actor, *allowed, what=what)
    else:
        raise DomainError(ErrorCode.FORBIDDEN, f"only the site itself may {what}")
