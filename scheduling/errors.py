"""Errors of the conference domain.

Hierarchy::

    DomainError                 every refusal of the domain: a code and a message
    └── ValidationError         a command or event whose fields are missing or ill-typed

Domain errors carry a code (an :class:`ErrorCode`, which goes on the wire) and a
human-readable message; they never carry an HTTP status. One adapter in ``server/`` maps
codes to HTTP statuses and WebSocket close codes.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # input
    INVALID_COMMAND = "invalid_command"
    UNKNOWN_COMMAND = "unknown_command"
    KEY_REUSED = "key_reused"          # an idempotency key sent again with another command
    # authorization
    FORBIDDEN = "forbidden"
    NOT_OWN_SITE = "not_own_site"
    # existence
    CONFERENCE_EXISTS = "conference_exists"
    NO_CONFERENCE = "no_conference"
    UNKNOWN_SITE = "unknown_site"
    UNKNOWN_ACCOUNT = "unknown_account"
    SITE_EXISTS = "site_exists"
    SITE_NOT_INVITED = "site_not_invited"
    UNKNOWN_ITEM = "unknown_item"
    ITEM_EXISTS = "item_exists"
    UNKNOWN_NOTE = "unknown_note"
    NOTE_EXISTS = "note_exists"
    UNKNOWN_ACTION = "unknown_action"
    ACTION_EXISTS = "action_exists"
    UNKNOWN_ROLL_CALL = "unknown_roll_call"
    ROLL_CALL_EXISTS = "roll_call_exists"
    UNKNOWN_VERSION = "unknown_version"
    # state
    WRONG_PHASE = "wrong_phase"
    WRONG_ITEM_STATUS = "wrong_item_status"
    BAD_ORDER = "bad_order"
    ALREADY_QUEUED = "already_queued"
    NOT_QUEUED = "not_queued"
    ALREADY_SPEAKING = "already_speaking"
    NOT_SPEAKING = "not_speaking"
    FLOOR_FULL = "floor_full"
    MAIN_BRIDGE = "main_bridge"
    NOT_EXPIRED = "not_expired"
    ROLL_CALL_CLOSED = "roll_call_closed"
    DEADLINE_PASSED = "deadline_passed"
    DEADLINE_IN_PAST = "deadline_in_past"
    DUE_IN_PAST = "due_in_past"
    MINUTES_APPROVED = "minutes_approved"
    NOTHING_TO_APPROVE = "nothing_to_approve"
    BAD_CERTIFICATE = "bad_certificate"    # the organisation's certificate cannot sign the approval
    NOT_APPROVED = "not_approved"
    NOT_DISTRIBUTED = "not_distributed"
    EDIT_CONFLICT = "edit_conflict"
    NOT_ASSIGNEE = "not_assignee"
    WRONG_ACTION_STATUS = "wrong_action_status"
    BAD_CSV = "bad_csv"
    MUTED = "muted"
    # what the wards bring: recommendations, documents, votes
    UNKNOWN_RECOMMENDATION = "unknown_recommendation"
    RECOMMENDATION_EXISTS = "recommendation_exists"
    WRONG_RECOMMENDATION_STATUS = "wrong_recommendation_status"
    UNKNOWN_FIELD = "unknown_field"
    NOT_DEPARTMENT = "not_department"
    NOT_SOURCE = "not_source"
    NO_TURN = "no_turn"
    ALREADY_CARRIED = "already_carried"
    UNKNOWN_DOCUMENT = "unknown_document"
    DOCUMENT_EXISTS = "document_exists"
    UNKNOWN_VOTE = "unknown_vote"
    VOTE_EXISTS = "vote_exists"
    VOTE_CLOSED = "vote_closed"
    ALREADY_VOTED = "already_voted"
    NOT_PRESENT = "not_present"
    OVER_HEADCOUNT = "over_headcount"
    # presentation (presentation.py)
    UNKNOWN_DECK = "unknown_deck"
    DECK_EXISTS = "deck_exists"
    DECK_IN_USE = "deck_in_use"
    TOO_MANY_DECKS = "too_many_decks"
    NO_SUCH_PAGE = "no_such_page"
    NOT_PRESENTER = "not_presenter"
    NOT_PRESENTING = "not_presenting"
    NOT_ALLOWED_TO_PRESENT = "not_allowed_to_present"
    PRESENTATION_BUSY = "presentation_busy"
    SHARE_BUSY = "share_busy"
    NOT_SHARING = "not_sharing"


class DomainError(Exception):
    """A command the domain refuses; nothing was applied."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}


class ValidationError(DomainError):
    """A command or event with missing, unknown or ill-typed fields."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_COMMAND, message)
