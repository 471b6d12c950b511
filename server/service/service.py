"""The application service: the streams of this deployment (directory, accounts, links,
one per conference) and the commands that run against them; who a token says you are is
``identity.py`` (``service.identity``).

Views and WebSocket handlers call this; it calls the domain; the domain decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from scheduling import (
    SYSTEM,
    Accounts,
    Actor,
    ActorKind,
    ApproveMinutes,
    Command,
    ConferenceState,
    CreateConference,
    Decision,
    Directory,
    DomainError,
    ErrorCode,
    IssueLink,
    Links,
    MinutesInputs,
    Role,
    SiteInfo,
    action_snapshot,
    decide,
    decide_accounts,
    decide_directory,
    decide_links,
    evolve,
    evolve_accounts,
    evolve_directory,
    evolve_links,
    roles_in,
)
from scheduling.base import command_fingerprint, replay_of

from ..config import Config
from ..store import EventStore, StoreError
from .hub import Idempotency, Outcome, StreamHub
from .identity import Identity
from .records import Records
from .rights import RightsGenerations
from .security import Signer, SignInLimiter

S = TypeVar("S")
CONF_PREFIX = "conf-"
DIRECTORY, ACCOUNTS, LINKS = "directory", "accounts", "links"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _simple(decide_fn: Callable[..., list[Any]]) -> Callable[[Any, Command, Actor, datetime], Decision]:
    """Idempotency for the small aggregates (the conference's decide does its own)."""
    def run(state: Any, cmd: Command, actor: Actor, now: datetime) -> Decision:
        return replay_of(state.results, actor.ref, cmd.key) or Decision(tuple(decide_fn(state, cmd, actor, now=now)))
    return run


def _idempotency(cmd: Command, actor: Actor) -> Idempotency:
    return Idempotency(actor.ref, cmd.key, command_fingerprint(cmd))


_decide_directory = _simple(decide_directory)
_decide_accounts = _simple(decide_accounts)
_decide_links = _simple(decide_links)


class Service:
    def __init__(self, config: Config, store: EventStore, signer: Signer, *, clock: Callable[[], datetime] = utcnow,
                 sign_in_limits: SignInLimiter | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.directory: StreamHub[Directory] = StreamHub(DIRECTORY, store, Directory(), evolve_directory, _v)
        self.accounts: StreamHub[Accounts] = StreamHub(ACCOUNTS, store, Accounts(), evolve_accounts, _v)
        self.links: StreamHub[Links] = StreamHub(LINKS, store, Links(), evolve_links, _v)
        self.conferences: dict[str, StreamHub[ConferenceState | None]] = {}
        self.on_new_conference: list[Callable[[StreamHub[ConferenceState | None]], None]] = []
        self.on_command: list[Callable[[str, Command, Outcome | DomainError | StoreError], None]] = []
        """Told of every command run here and how it ended: (stream kind, command, outcome,
        refusal, or the store's failure); the metrics count them."""
        self._create_lock = asyncio.Lock()
        self.identity = Identity(self.accounts, self.links, signer, clock, config.base_url, sign_in_limits)
        self.records = Records(config, store, clock)
        self.rights = RightsGenerations()
        self.rights.watch_accounts(self.accounts)
        self.rights.watch_links(self.links)

    async def start(self) -> None:
        for hub in (self.directory, self.accounts, self.links):
            await hub.load()
            hub.follow()
        await self.records.start()
        for stream in await self.store.streams(CONF_PREFIX):
            await self._load_conference(stream[len(CONF_PREFIX):])

    async def close(self) -> None:
        await self.records.close()
        await self.directory.close()
        await self.accounts.close()
        await self.links.close()
        for hub in self.conferences.values():
            await hub.close()

    async def _load_conference(self, conf_id: str) -> StreamHub[ConferenceState | None]:
        hub: StreamHub[ConferenceState | None] = StreamHub(
            CONF_PREFIX + conf_id, self.store, None, evolve, lambda s: s.version if s else 0)
        await hub.load()
        self.conferences[conf_id] = hub
        self.rights.watch_conference(hub)
        hub.follow()
        for callback in self.on_new_conference:
            callback(hub)
        return hub

    # -- commands ---------------------------------------------------------------------------
    async def conference_hub(self, conf_id: str) -> StreamHub[ConferenceState | None]:
        hub = self.conferences.get(conf_id)
        if hub is None:
            # another server process may have created it (Redis): look in the store
            if await self.store.last_seq(CONF_PREFIX + conf_id) == 0:
                raise DomainError(ErrorCode.NO_CONFERENCE, f"no conference {conf_id[:64]!r}")
            async with self._create_lock:
                hub = self.conferences.get(conf_id) or await self._load_conference(conf_id)
        if hub.state is None:   # a create_conference for it is being decided
            raise DomainError(ErrorCode.NO_CONFERENCE, f"no conference {conf_id[:64]!r}")
        return hub

    async def conference_for(self, conf_id: str, actor: Actor) -> tuple[StreamHub[ConferenceState | None],
                                                                          frozenset[Role]]:
        """A conference and ``actor``'s roles in it. Anyone but an admin gets one answer for
        a conference that does not exist and one they have no role in (``forbidden``), so
        that nobody learns which ids exist by asking."""
        try:
            hub = await self.conference_hub(conf_id)
        except DomainError:
            if actor.admin:
                raise
            raise not_yours(conf_id) from None
        roles = roles_in(hub.state, actor)
        if not roles:
            raise not_yours(conf_id)
        return hub, roles

    def visible_conferences(self, actor: Actor) -> list[ConferenceState]:
        """The conferences ``actor`` has a role in (an admin: all of them)."""
        return [h.state for h in self.conferences.values() if h.state is not None and roles_in(h.state, actor)]

    def visible_sites(self, actor: Actor) -> list[SiteInfo]:
        """What of the directory ``actor`` may list: an admin all of it; an account the sites
        invited to the conferences it has a role in; a site itself only; nobody else anything."""
        directory = self.directory.state
        if actor.admin:
            return directory.active()
        if actor.kind is ActorKind.SITE:
            return [s for s in directory.active() if s.code == actor.id]
        codes = {code for state in self.visible_conferences(actor) for code in state.sites}
        return [s for s in directory.active() if s.code in codes]
    async def _observed(self, kind: str, cmd: Command, run: Awaitable[Outcome]) -> Outcome:
        try:
            out = await run
        except (DomainError, StoreError) as exc:
            for callback in self.on_command:
                callback(kind, cmd, exc)
            raise
        for callback in self.on_command:
            callback(kind, cmd, out)
        return out

    async def run_conference(self, conf_id: str, cmd: Command, actor: Actor) -> Outcome:
        return await self._observed("conference", cmd, self._run_conference(conf_id, cmd, actor))

    async def _run_conference(self, conf_id: str, cmd: Command, actor: Actor) -> Outcome:
        if isinstance(cmd, CreateConference):
            async with self._create_lock:
                hub = self.conferences.get(cmd.conference_id)
                if hub is None:
                    hub = await self._load_conference(cmd.conference_id)
                try:
                    return await self._run(hub, cmd, actor)
                finally:
                    if hub.state is None:   # refused: no conference came of it, keep no hub for it
                        self.conferences.pop(cmd.conference_id, None)
                        await hub.close()
        return await self._run(await self.conference_hub(conf_id), cmd, actor)

    async def _run(self, hub: StreamHub[ConferenceState | None], cmd: Command, actor: Actor) -> Outcome:
        approving = isinstance(cmd, ApproveMinutes)   # the approved content quotes names and other conferences
        number: tuple[int, int] | None = None
        if approving and hub.state is not None:
            await self.load_reviewed(hub.state)
            number = await self._prepare_approval(hub.state, cmd, actor)
        outcome = await hub.execute(lambda state: decide(
            state, cmd, actor, now=self.clock(), directory=self.directory.state,
            accounts=self.accounts.state.active_ids(),
            minutes_inputs=self.minutes_inputs(state, number) if approving and state is not None else None),
            _idempotency(cmd, actor))
        if number is not None and outcome.events and not outcome.replayed and hub.state is not None:
            self.records.sign_soon(hub.state, len(hub.state.minutes.approved), self.names())
        return outcome

    async def _prepare_approval(self, state: ConferenceState, cmd: Command, actor: Actor) -> tuple[int, int] | None:
        """Before an approval is recorded (records.py): the domain would accept it, the
        organisation can sign it, and its number is reserved (the same one on a retry)."""
        now = self.clock()
        trial = decide(state, cmd, actor, now=now, directory=self.directory.state,
                       accounts=self.accounts.state.active_ids(), minutes_inputs=self.minutes_inputs(state))
        if trial.replayed or not trial.events:
            return None
        self.records.check_signer(now)
        return await self.records.reserve_number(state.conference_id, state.minutes.draft_version, now)

    async def load_reviewed(self, state: ConferenceState) -> None:
        """Load the conferences whose action items ``state``'s agenda reviews (follow-up)."""
        for conf_id in sorted({ref.partition("/")[0] for item in state.agenda for ref in item.follow_up}):
            if conf_id not in self.conferences:
                # a reference to a conference that does not exist is left out of the statuses
                with contextlib.suppress(DomainError):
                    await self.conference_hub(conf_id)

    def minutes_inputs(self, state: ConferenceState, number: tuple[int, int] | None = None) -> MinutesInputs:
        """What the minutes of ``state`` quote from outside its stream, as of now: the display
        names of the accounts and the status of the action items its agenda reviews."""
        today = self.clock().astimezone(state.tz).date()
        follow_up = {}
        for item in state.agenda:
            for ref in item.follow_up:
                conf_id, _, action_id = ref.partition("/")
                other = self.conferences.get(conf_id)
                snapshot = action_snapshot(other.state, action_id, today) if other and other.state else None
                if snapshot is not None:
                    follow_up[ref] = snapshot
        return MinutesInputs(names=self.names(), follow_up=follow_up,
                             organisation=self.records.settings_for(state), number=number)

    async def run_directory(self, cmd: Command, actor: Actor) -> Outcome:
        return await self._observed("directory", cmd, self.directory.execute(
            lambda s: _decide_directory(s, cmd, actor, self.clock()), _idempotency(cmd, actor)))

    async def run_accounts(self, cmd: Command, actor: Actor) -> Outcome:
        return await self._observed("accounts", cmd, self.accounts.execute(
            lambda s: _decide_accounts(s, cmd, actor, self.clock()), _idempotency(cmd, actor)))

    async def run_links(self, cmd: Command, actor: Actor) -> Outcome:
        return await self._observed("links", cmd, self.links.execute(
            lambda s: _decide_links(s, cmd, actor, self.clock()), _idempotency(cmd, actor)))

    async def ensure_links(self, conf_id: str, sites: list[str] | None = None) -> dict[str, str]:
        """Issue join links for the invited sites that never had one; return the token of
        every site whose link is live (revoked and expired links stay so: re-issue them)."""
        hub = await self.conference_hub(conf_id)
        state = hub.state
        assert state is not None
        expires = max(state.ends_at, self.clock()) + timedelta(days=self.config.link_days_after_end)
        out: dict[str, str] = {}
        for code in sites or list(state.sites):
            link = self.links.state.links.get((conf_id, code))
            if link is None:
                key = "issue-" + hashlib.sha1(f"{conf_id}|{code}".encode()).hexdigest()[:32]
                try:
                    await self.run_links(IssueLink(key=key, conference_id=conf_id, site=code, expires_at=expires),
                                         SYSTEM)
                except DomainError as exc:
                    if exc.code is not ErrorCode.KEY_REUSED:
                        raise
                    # a concurrent call issued this link a moment ago (its expiry a moment
                    # earlier, so another command to the key): that link stands
                link = self.links.state.links[(conf_id, code)]
            if not link.revoked and link.expires_at > self.clock():
                out[code] = self.identity.link_token(conf_id, code)
        return out

    def names(self) -> dict[str, str]:
        """Display names of the accounts."""
        return {a: acc.name for a, acc in self.accounts.state.accounts.items()}


def not_yours(conf_id: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, f"you have no role in a conference {conf_id[:64]!r}")


def _v(state: Any) -> int:
    return int(state.version)

