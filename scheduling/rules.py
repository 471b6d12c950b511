"""The tables that tie commands to their decide rule and events to their evolve rule,
and the small checks every rule uses. Concept modules (lifecycle, agenda, attendance,
floor, minutes, actions) register into these tables; conference.py dispatches."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from .actors import Actor, Role, require
from .base import Command, Event
from .directory import Directory
from .errors import DomainError, ErrorCode
from .reports import MinutesInputs
from .state import ConferenceState, Phase

DecideFn = Callable[["Ctx", Any], list[Event]]
EvolveFn = Callable[[ConferenceState, Any], None]

DECIDERS: dict[type[Command], DecideFn] = {}
EVOLVERS: dict[type[Event], EvolveFn] = {}

F = TypeVar("F")


def decides(cls: type[Command]) -> Callable[[F], F]:
    def register(fn: F) -> F:
        DECIDERS[cls] = fn  # type: ignore[assignment]
        return fn
    return register


def evolves(*classes: type[Event]) -> Callable[[F], F]:
    def register(fn: F) -> F:
        for cls in classes:
            EVOLVERS[cls] = fn  # type: ignore[assignment]
        return fn
    return register


@dataclass(frozen=True)
class Ctx:
    """Everything a rule may look at: the state, who acts, when, and the other aggregates
    it refers to (the site directory, the known accounts, what the minutes quote from
    outside the conference)."""

    state: ConferenceState
    actor: Actor
    now: datetime
    key: str
    directory: Directory | None = None
    accounts: Collection[str] | None = None
    minutes_inputs: MinutesInputs | None = None

    def meta(self) -> dict[str, Any]:
        return {"at": self.now, "actor": self.actor.ref, "key": self.key}

    def require(self, *roles: Role, what: str) -> frozenset[Role]:
        return require(self.state, self.actor, *roles, what=what)

    def require_phase(self, *phases: Phase, what: str) -> None:
        if self.state.phase not in phases:
            allowed = ", ".join(p.value for p in phases)
            raise DomainError(ErrorCode.WRONG_PHASE,
                              f"cannot {what} while the conference is {self.state.phase.value} (needs {allowed})")

    def require_invited(self, site: str) -> None:
        if not self.state.is_invited(site):
            raise DomainError(ErrorCode.SITE_NOT_INVITED, f"site {site} is not invited to this conference")



def check_accounts(accounts: Collection[str] | None, ids: tuple[str, ...]) -> None:
    """Every named account exists (when the caller knows the accounts)."""
    if accounts is None:
        return
    for account in ids:
        if account and account not in accounts:
            raise DomainError(ErrorCode.UNKNOWN_ACCOUNT, f"no account {account!r}")


OPEN_PHASES = (Phase.DRAFT, Phase.SCHEDULED, Phase.REHEARSAL, Phase.LIVE)
RUNNING = (Phase.REHEARSAL, Phase.LIVE)
