"""The narrow ports through which the edges (web, signaling) reach the reactors, so that the
edges import the service layer only: each lists just the methods the edges call, and the
reactor that implements it is wired in by ``server.app``.

    MediaControl     reactors/media_plane.MediaPlane: a page's WebRTC peer
    PresenceTracker  reactors/presence.Presence: a site page came or went
    RecordingState   reactors/recorder.ProgramRecorder: which conferences are being recorded
    WebhookAdmin     reactors/webhooks.WebhookReactor: the webhooks' configuration and delivery log
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Protocol

from scheduling import Actor, ActorKind, Command, Outbox, Role, Webhooks

from .. import protocol as p
from .hub import Outcome

Send = Callable[[p.ServerMessage], Awaitable[None]]


class MediaControl(Protocol):
    def new_peer_id(self, actor_kind: ActorKind, actor_id: str) -> str: ...

    async def attach(self, conf_id: str, peer_id: str, site: str | None, roles: frozenset[Role],
                     send: Send) -> None: ...

    async def detach(self, conf_id: str, peer_id: str) -> None: ...

    async def handle(self, conf_id: str, peer_id: str, msg: p.ClientControl) -> p.ServerMessage | None: ...


class PresenceTracker(Protocol):
    async def connected(self, conf_id: str, site: str) -> None: ...

    async def disconnected(self, conf_id: str, site: str) -> None: ...

    def view(self, conf_id: str) -> dict[str, str]: ...


class RecordingState(Protocol):
    @property
    def active(self) -> Collection[str]: ...


class WebhookAdmin(Protocol):
    @property
    def hooks(self) -> Webhooks: ...

    @property
    def deliveries(self) -> Outbox: ...

    async def configure(self, cmd: Command, actor: Actor) -> Outcome: ...
