"""The meeting domain of bridgeconf: conferences, sites, agenda, attendance, floor,
minutes and action items. Pure Python: no I/O, no asyncio, no clock of its own.

Commands come in (``parse_command``), ``decide`` turns one into events or refuses it with
a :class:`DomainError`, ``evolve`` folds events into state. See docs/architecture.md.
"""

from .accounts import *  # noqa: F403
from .actions import *  # noqa: F403
from .actors import STAFF_ROLES, SYSTEM, Actor, ActorKind, Role, roles_in
from .agenda import *  # noqa: F403
from .attendance import *  # noqa: F403
from .base import (
    COMMANDS,
    EVENTS,
    Command,
    Decision,
    Event,
    command_to_dict,
    event_from_dict,
    event_to_dict,
    parse_command,
)
from .conference import decide, evolve, replay
from .directory import *  # noqa: F403
from .distribution import *  # noqa: F403
from .documents import *  # noqa: F403
from .errors import DomainError, ErrorCode, ValidationError
from .floor import *  # noqa: F403
from .lifecycle import *  # noqa: F403
from .links import *  # noqa: F403
from .minutes import *  # noqa: F403
from .organisation import *  # noqa: F403
from .outbox import *  # noqa: F403
from .presentation import *  # noqa: F403
from .readiness import *  # noqa: F403
from .recommendations import *  # noqa: F403
from .reports import (
    ActionSnapshot,
    MinutesInputs,
    action_snapshot,
    approval_block,
    chain_hash,
    minutes_content,
    overrun_seconds,
    record_block,
    speaking_seconds,
    totals,
)
from .state import *  # noqa: F403
from .votes import *  # noqa: F403
from .ward_records import *  # noqa: F403
from .webhooks import *  # noqa: F403
