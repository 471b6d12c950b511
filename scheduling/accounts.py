"""Accounts (admin, chairs, secretaries, observers) in a stream of their own.

The server hashes passwords (argon2) before it builds a command: the domain only ever sees
the hash. Conference roles are not stored here: a conference names its chair and staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .actors import Actor, ActorKind, Role, require
from .base import Command, Event, Results, check_text, command, event, record_result
from .errors import DomainError, ErrorCode, ValidationError

ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}\Z")   # \Z: no final newline
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")


def check_account_id(value: str) -> None:
    if not ACCOUNT_RE.match(value):
        raise ValidationError(f"account_id: {value[:40]!r} must be 2-64 of a-z 0-9 _ . - (lower case)")


@dataclass
class Account:
    account_id: str
    name: str
    email: str
    admin: bool
    password_hash: str
    disabled: bool = False
    generation: int = 1   # bumped by a password change: older sessions end
    ended_sessions: dict[str, datetime] = field(default_factory=dict)
    """Sessions signed out (session id -> when its token would have expired): their tokens are
    refused. An entry is dropped once that time has passed (the token is refused anyway)."""


@dataclass
class Accounts:
    accounts: dict[str, Account] = field(default_factory=dict)
    version: int = 0
    results: Results = field(default_factory=dict)

    def active_ids(self) -> set[str]:
        return {a for a, acc in self.accounts.items() if not acc.disabled}

    def get(self, account_id: str) -> Account:
        acc = self.accounts.get(account_id)
        if acc is None:
            raise DomainError(ErrorCode.UNKNOWN_ACCOUNT, f"no account {account_id!r}")
        return acc


def _check_profile(name: str | None, email: str | None) -> None:
    if name is not None:
        check_text("name", name, max_len=200)
    if email is not None:
        check_text("email", email, max_len=254, required=False)
        if email and ("@" not in email or " " in email):
            raise ValidationError(f"email: {email[:60]!r} is not an e-mail address")


@command
@dataclass(frozen=True, kw_only=True)
class CreateAccount(Command):
    TYPE = "create_account"
    account_id: str
    name: str
    email: str = ""
    admin: bool = False
    password_hash: str

    def check(self) -> None:
        check_account_id(self.account_id)
        _check_profile(self.name, self.email)
        check_text("password_hash", self.password_hash, max_len=500)


@command
@dataclass(frozen=True, kw_only=True)
class UpdateAccount(Command):
    TYPE = "update_account"
    account_id: str
    name: str | None = None
    email: str | None = None
    admin: bool | None = None
    disabled: bool | None = None

    def check(self) -> None:
        _check_profile(self.name, self.email)


@command
@dataclass(frozen=True, kw_only=True)
class ChangePassword(Command):
    TYPE = "change_password"
    account_id: str
    password_hash: str

    def check(self) -> None:
        check_text("password_hash", self.password_hash, max_len=500)


@command
@dataclass(frozen=True, kw_only=True)
class EndSession(Command):
    """Sign out: one session of an account ends (its token is refused from now on)."""

    TYPE = "end_session"
    account_id: str
    session_id: str
    expires_at: datetime

    def check(self) -> None:
        check_account_id(self.account_id)
        if not SESSION_RE.match(self.session_id):
            raise ValidationError("session_id: 16-64 of A-Z a-z 0-9 _ -")


@event
@dataclass(frozen=True, kw_only=True)
class AccountCreated(Event):
    TYPE = "account_created"
    account_id: str
    name: str
    email: str
    admin: bool
    password_hash: str


@event
@dataclass(frozen=True, kw_only=True)
class AccountUpdated(Event):
    TYPE = "account_updated"
    account_id: str
    name: str | None = None
    email: str | None = None
    admin: bool | None = None
    disabled: bool | None = None


@event
@dataclass(frozen=True, kw_only=True)
class PasswordChanged(Event):
    TYPE = "password_changed"
    account_id: str
    password_hash: str


@event
@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    TYPE = "session_ended"
    account_id: str
    session_id: str
    expires_at: datetime


def decide_accounts(state: Accounts, cmd: Command, actor: Actor, *, now: datetime) -> list[Event]:
    meta: dict[str, Any] = {"at": now, "actor": actor.ref, "key": cmd.key}
    match cmd:
        case CreateAccount():
            # the very first account may be made by the server itself (``bridgeconf admin create``)
            if not (actor.kind is ActorKind.SYSTEM and not state.accounts):
                require(None, actor, Role.ADMIN, what="create accounts")
            if cmd.account_id in state.accounts:
                raise DomainError(ErrorCode.INVALID_COMMAND, f"account {cmd.account_id!r} already exists")
            return [AccountCreated(account_id=cmd.account_id, name=cmd.name, email=cmd.email, admin=cmd.admin,
                                   password_hash=cmd.password_hash, **meta)]
        case UpdateAccount():
            require(None, actor, Role.ADMIN, what="change accounts")
            acc = state.get(cmd.account_id)
            if cmd.account_id == actor.id and (cmd.admin is False or cmd.disabled):
                raise DomainError(ErrorCode.FORBIDDEN, "an admin cannot remove their own admin right or account")
            changes = {k: getattr(cmd, k) for k in ("name", "email", "admin", "disabled")
                       if getattr(cmd, k) is not None and getattr(cmd, k) != getattr(acc, k)}
            return [AccountUpdated(account_id=cmd.account_id, **changes, **meta)] if changes else []
        case ChangePassword():
            state.get(cmd.account_id)
            if not (actor.kind is ActorKind.ACCOUNT and actor.id == cmd.account_id):
                require(None, actor, Role.ADMIN, what="change another account's password")
            return [PasswordChanged(account_id=cmd.account_id, password_hash=cmd.password_hash, **meta)]
        case EndSession():
            acc = state.get(cmd.account_id)
            if not (actor.kind is ActorKind.ACCOUNT and actor.id == cmd.account_id):
                require(None, actor, Role.ADMIN, what="end another account's session")
            if cmd.session_id in acc.ended_sessions or cmd.expires_at <= now:
                return []   # ended already, or its token has expired: nothing to record
            return [SessionEnded(account_id=cmd.account_id, session_id=cmd.session_id,
                                 expires_at=cmd.expires_at, **meta)]
    raise DomainError(ErrorCode.UNKNOWN_COMMAND, f"{cmd.TYPE} is not an account command")


def evolve_accounts(state: Accounts, ev: Event) -> Accounts:
    match ev:
        case AccountCreated():
            state.accounts[ev.account_id] = Account(account_id=ev.account_id, name=ev.name, email=ev.email,
                                                    admin=ev.admin, password_hash=ev.password_hash)
        case AccountUpdated():
            acc = state.accounts[ev.account_id]
            for name in ("name", "email", "admin", "disabled"):
                value = getattr(ev, name)
                if value is not None:
                    setattr(acc, name, value)
        case PasswordChanged():
            acc = state.accounts[ev.account_id]
            acc.password_hash = ev.password_hash
            acc.generation += 1
            acc.ended_sessions.clear()   # every session of the old generation has ended
        case SessionEnded():
            acc = state.accounts[ev.account_id]
            acc.ended_sessions = {sid: exp for sid, exp in acc.ended_sessions.items() if exp > ev.at}
            acc.ended_sessions[ev.session_id] = ev.expires_at
    state.version += 1
    record_result(state.results, ev, state.version)
    return state
