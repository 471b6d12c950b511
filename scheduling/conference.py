"""decide and evolve for a conference stream.

    decide(state, command, actor, now=..., directory=..., accounts=..., minutes_inputs=...) -> Decision
    evolve(state, event) -> state

``decide`` never changes the state; it raises :class:`DomainError` (nothing applied) or
returns the events to record. A command whose idempotency key this actor already used
returns the events it produced then, marked ``replayed``. ``minutes_inputs`` (plain data:
display names, snapshots of reviewed action items of earlier conferences) goes into the
content an approval of the minutes records. ``evolve`` is total over recorded
events and deterministic; it updates the state it is given in place and returns it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

# the concept modules register their rules on import
from . import (  # noqa: F401  (their rules join the tables)
    actions,
    agenda,
    attendance,
    documents,
    floor,
    lifecycle,
    minutes,
    presentation,
    readiness,
    recommendations,
    votes,
)
from .actors import Actor
from .base import Command, Decision, Event, record_result, replay_of
from .directory import Directory
from .errors import DomainError, ErrorCode
from .lifecycle import ConferenceCreated, CreateConference, decide_create, new_state
from .reports import MinutesInputs
from .rules import DECIDERS, EVOLVERS, Ctx
from .state import ConferenceState


def decide(state: ConferenceState | None, cmd: Command, actor: Actor, *, now: datetime,
           directory: Directory | None = None, accounts: Collection[str] | None = None,
           minutes_inputs: MinutesInputs | None = None) -> Decision:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if state is not None:
        earlier = replay_of(state.results, actor.ref, cmd.key)
        if earlier is not None:
            return earlier
    if isinstance(cmd, CreateConference):
        if state is not None:
            raise DomainError(ErrorCode.CONFERENCE_EXISTS, f"conference {state.conference_id!r} already exists")
        return Decision(tuple(decide_create(cmd, actor, now, directory, accounts)))
    if state is None:
        raise DomainError(ErrorCode.NO_CONFERENCE, "no such conference: create it first")
    rule = DECIDERS.get(type(cmd))
    if rule is None:
        raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not a conference command")
    ctx = Ctx(state=state, actor=actor, now=now, key=cmd.key, directory=directory, accounts=accounts,
              minutes_inputs=minutes_inputs)
    return Decision(tuple(rule(ctx, cmd)))


def evolve(state: ConferenceState | None, ev: Event) -> ConferenceState:
    if isinstance(ev, ConferenceCreated):
        state = new_state(ev)
    elif state is None:
        raise ValueError(f"{ev.TYPE} before conference_created")
    else:
        EVOLVERS[type(ev)](state, ev)
    state.version += 1
    record_result(state.results, ev, state.version)
    return state


def replay(events: Iterable[Event]) -> ConferenceState | None:
    state: ConferenceState | None = None
    for ev in events:
        state = evolve(state, ev)
    return state

