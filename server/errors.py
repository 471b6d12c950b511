"""The one adapter from error codes (domain, store, tokens, protocol) to HTTP statuses and
WebSocket close codes."""

from __future__ import annotations

from scheduling import ErrorCode

HTTP_STATUS: dict[str, int] = {
    ErrorCode.INVALID_COMMAND: 400, ErrorCode.UNKNOWN_COMMAND: 400, ErrorCode.BAD_CSV: 400,
    ErrorCode.BAD_ORDER: 400, ErrorCode.DUE_IN_PAST: 400, ErrorCode.DEADLINE_IN_PAST: 400,
    ErrorCode.KEY_REUSED: 422,   # as draft-ietf-httpapi-idempotency-key-header answers a reused key
    ErrorCode.FORBIDDEN: 403, ErrorCode.NOT_OWN_SITE: 403, ErrorCode.NOT_ASSIGNEE: 403,
    ErrorCode.SITE_NOT_INVITED: 403,
    ErrorCode.NO_CONFERENCE: 404, ErrorCode.UNKNOWN_SITE: 404, ErrorCode.UNKNOWN_ITEM: 404,
    ErrorCode.UNKNOWN_NOTE: 404, ErrorCode.UNKNOWN_ACTION: 404, ErrorCode.UNKNOWN_ROLL_CALL: 404,
    ErrorCode.UNKNOWN_VERSION: 404, ErrorCode.UNKNOWN_ACCOUNT: 404,
    "not_found": 404, "bad_request": 400, "too_large": 413, "unauthorized": 401, "bad_token": 401,
    "token_expired": 401, "token_revoked": 401, "csrf": 403, "rate_limited": 429, "too_many_sign_ins": 429,
    "busy": 503, "session_ended": 401,
    "not_available": 409, "bad_credentials": 401, "media_error": 400,
    # what the wards bring (scheduling/recommendations.py, documents.py, votes.py; server/blobs.py)
    ErrorCode.UNKNOWN_RECOMMENDATION: 404, ErrorCode.UNKNOWN_DOCUMENT: 404, ErrorCode.UNKNOWN_VOTE: 404,
    ErrorCode.UNKNOWN_FIELD: 400, ErrorCode.NOT_DEPARTMENT: 400, ErrorCode.NOT_SOURCE: 403,
    "type_mismatch": 415, "active_content": 415, "bad_file": 400,
    # documents (server/documents/errors.py)
    "not_ended": 409, "unknown_lang": 400, "unknown_format": 404,
    # slide decks (scheduling/presentation.py, server/documents/decks.py)
    ErrorCode.UNKNOWN_DECK: 404, ErrorCode.NO_SUCH_PAGE: 404,
    ErrorCode.NOT_PRESENTER: 403, ErrorCode.NOT_ALLOWED_TO_PRESENT: 403,
    "deck_not_pdf": 415, "deck_encrypted": 422, "deck_too_many_pages": 413, "deck_too_large": 413,
    "deck_render_failed": 422, "deck_timeout": 422, "deck_busy": 503,
}


class ApiError(Exception):
    """A request refused for what it asked (a bad field, a missing right, nothing found),
    outside the domain's own refusals; its code maps to an HTTP status like theirs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def http_status(code: str) -> int:
    return HTTP_STATUS.get(code, 409)   # every other refusal is a conflict with the current state


# WebSocket close codes: 1008 policy violation, 1009 too big, 1011 server error; 4xxx ours.
WS_CLOSE_SHUTDOWN = 1001
WS_CLOSE_TOO_BIG = 1009
WS_CLOSE_BAD_HELLO = 4400
WS_CLOSE_UNAUTHORIZED = 4401
WS_CLOSE_FORBIDDEN = 4403
WS_CLOSE_NOT_FOUND = 4404
WS_CLOSE_TOO_SLOW = 4408
WS_CLOSE_SESSION_ENDED = 4410
WS_CLOSE_FLOOD = 4429

WS_CLOSE_MEANINGS: dict[int, str] = {
    WS_CLOSE_SHUTDOWN: "server going away (restart): reconnect",
    WS_CLOSE_TOO_BIG: "message over 64 KiB",
    WS_CLOSE_BAD_HELLO: "no valid `hello` within 10 s",
    WS_CLOSE_UNAUTHORIZED: "token missing, malformed, expired or revoked",
    WS_CLOSE_FORBIDDEN: "token for another conference or site",
    WS_CLOSE_NOT_FOUND: "no such conference",
    WS_CLOSE_TOO_SLOW: "the page fell too far behind: reconnect with `last_seq`",
    WS_CLOSE_SESSION_ENDED: "the session ended while the page was open (signed out, password changed, account "
                            "disabled, join link revoked or re-issued, every role in the conference lost; a page that "
                            "keeps one of its roles is told roles_changed and welcomed again instead): do not "
                            "reconnect with the same token; sign in again or ask for the new link",
    WS_CLOSE_FLOOD: "flood: too many messages refused for rate, or too many reconnects from one join link, "
                    "account or address (`too_many_reconnects`): reconnect later",
}
"""Every close code the server sends, with what it means to the page (docs/protocol.md)."""
