"""Accounts and site join links: two small streams of their own. The server wraps both
deciders with the idempotency of ``replay_of``; here they are tested bare."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    CHAIR,
    CONF_ID,
    HAI_CHAU,
    SECRETARY,
    SYSTEM,
    T0,
    StreamRunner,
    site,
)

from scheduling import (
    AccountCreated,
    Accounts,
    AccountUpdated,
    Actor,
    DomainError,
    ErrorCode,
    LinkIssued,
    LinkRevoked,
    Links,
    PasswordChanged,
    SessionEnded,
    decide_accounts,
    decide_links,
    evolve_accounts,
    evolve_links,
    parse_command,
)

NOW = T0
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"


def meta(actor: Actor, key: str = "k1") -> dict[str, Any]:
    return {"at": NOW, "actor": actor.ref, "key": key}


_accounts = StreamRunner(decide_accounts, evolve_accounts, NOW)
run_accounts, refuse_accounts = _accounts.run, _accounts.refuse


def create(account_id: str = "chu_tri", **fields: Any) -> dict[str, Any]:
    return {"type": "create_account", "account_id": account_id, "name": "Nguyễn Văn Thành",
            "email": "thanh@danang.gov.vn", "password_hash": HASH, **fields}


@pytest.fixture
def accounts() -> Accounts:
    state = Accounts()
    run_accounts(state, SYSTEM, create("quan_tri", name="Quản trị hệ thống", admin=True), key="boot")
    run_accounts(state, ADMIN, create("chu_tri"), key="a1")
    run_accounts(state, ADMIN, create("thu_ky", name="Lê Thị Thu"), key="a2")
    return state


class TestCreateAccount:
    def test_the_server_makes_the_first_admin(self) -> None:
        state = Accounts()
        events = run_accounts(state, SYSTEM, create("quan_tri", admin=True))
        assert events == [AccountCreated(account_id="quan_tri", name="Nguyễn Văn Thành", email="thanh@danang.gov.vn",
                                         admin=True, password_hash=HASH, **meta(SYSTEM))]
        assert state.get("quan_tri").admin and state.active_ids() == {"quan_tri"}

    def test_an_admin_makes_the_others(self, accounts: Accounts) -> None:
        run_accounts(accounts, ADMIN, create("quan_sat", name="Quan sát viên"))
        assert accounts.active_ids() == {"quan_tri", "chu_tri", "thu_ky", "quan_sat"}

    def test_the_server_only_makes_the_first(self, accounts: Accounts) -> None:
        refuse_accounts(accounts, SYSTEM, create("ke_la", admin=True), ErrorCode.FORBIDDEN, "admin")

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, site(HAI_CHAU)], ids=str)
    def test_only_an_admin(self, accounts: Accounts, actor: Actor) -> None:
        refuse_accounts(accounts, actor, create("ke_la"), ErrorCode.FORBIDDEN)

    def test_ids_are_unique(self, accounts: Accounts) -> None:
        refuse_accounts(accounts, ADMIN, create("thu_ky"), ErrorCode.INVALID_COMMAND, "'thu_ky'", "already exists")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"account_id": "Thu_Ky"}, "account_id: 'Thu_Ky' must be 2-64"),
        ({"account_id": "t"}, "account_id: 't' must be 2-64"),
        ({"name": ""}, "name: must not be empty"),
        ({"email": "thu ky@danang"}, "email: 'thu ky@danang' is not an e-mail address"),
        ({"password_hash": ""}, "password_hash: must not be empty"),
        ({"admin": "yes"}, "admin: expected a boolean, got string"),
        ({"password": "123456"}, "password: unknown field"),
    ])
    def test_bad_input(self, accounts: Accounts, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(DomainError) as info:
            parse_command({"key": "k1", **create("thu_ky_2"), **fields})
        assert info.value.code is ErrorCode.INVALID_COMMAND
        assert info.value.message.startswith(message), info.value.message


class TestUpdateAccount:
    def test_an_admin_changes_only_what_differs(self, accounts: Accounts) -> None:
        events = run_accounts(accounts, ADMIN, {"type": "update_account", "account_id": "thu_ky",
                                                "name": "Lê Thị Thu", "email": "thu@danang.gov.vn",
                                                "disabled": True})
        assert events == [AccountUpdated(account_id="thu_ky", email="thu@danang.gov.vn", disabled=True,
                                         **meta(ADMIN))]
        assert accounts.active_ids() == {"quan_tri", "chu_tri"}

    def test_no_change_no_event(self, accounts: Accounts) -> None:
        assert run_accounts(accounts, ADMIN, {"type": "update_account", "account_id": "thu_ky", "admin": False}) == []

    @pytest.mark.parametrize("fields", [{"admin": False}, {"disabled": True}])
    def test_an_admin_cannot_lock_themselves_out(self, accounts: Accounts, fields: dict[str, Any]) -> None:
        refuse_accounts(accounts, ADMIN, {"type": "update_account", "account_id": "quan_tri", **fields},
                        ErrorCode.FORBIDDEN, "own")

    def test_unknown_account(self, accounts: Accounts) -> None:
        refuse_accounts(accounts, ADMIN, {"type": "update_account", "account_id": "ai_do", "name": "x"},
                        ErrorCode.UNKNOWN_ACCOUNT, "'ai_do'")

    @pytest.mark.parametrize("actor", [CHAIR, SYSTEM, site(HAI_CHAU)], ids=str)
    def test_only_an_admin(self, accounts: Accounts, actor: Actor) -> None:
        refuse_accounts(accounts, actor, {"type": "update_account", "account_id": "chu_tri", "admin": True},
                        ErrorCode.FORBIDDEN)

    def test_bad_input(self, accounts: Accounts) -> None:
        with pytest.raises(DomainError, match="disabled: expected a boolean, got integer"):
            parse_command({"type": "update_account", "key": "k1", "account_id": "thu_ky", "disabled": 1})


class TestChangePassword:
    def test_an_account_changes_its_own_password_and_older_sessions_end(self, accounts: Accounts) -> None:
        before = accounts.get("chu_tri").generation
        events = run_accounts(accounts, CHAIR, {"type": "change_password", "account_id": "chu_tri",
                                                "password_hash": HASH + "2"})
        assert events == [PasswordChanged(account_id="chu_tri", password_hash=HASH + "2", **meta(CHAIR))]
        assert accounts.get("chu_tri").password_hash == HASH + "2"
        assert accounts.get("chu_tri").generation == before + 1

    def test_an_admin_resets_another(self, accounts: Accounts) -> None:
        run_accounts(accounts, ADMIN, {"type": "change_password", "account_id": "thu_ky", "password_hash": "x"})

    @pytest.mark.parametrize("actor", [CHAIR, SYSTEM, site(HAI_CHAU)], ids=str)
    def test_nobody_else(self, accounts: Accounts, actor: Actor) -> None:
        refuse_accounts(accounts, actor, {"type": "change_password", "account_id": "thu_ky", "password_hash": "x"},
                        ErrorCode.FORBIDDEN)

    def test_unknown_account(self, accounts: Accounts) -> None:
        refuse_accounts(accounts, ADMIN, {"type": "change_password", "account_id": "ai_do", "password_hash": "x"},
                        ErrorCode.UNKNOWN_ACCOUNT)

    def test_bad_input(self) -> None:
        with pytest.raises(DomainError, match="password_hash: must not be empty"):
            parse_command({"type": "change_password", "key": "k1", "account_id": "thu_ky", "password_hash": ""})


class TestEndSession:
    SID = "s3ss10n-1d-0f-chu-tri"

    def end(self, **fields: Any) -> dict[str, Any]:
        return {"type": "end_session", "account_id": "chu_tri", "session_id": self.SID,
                "expires_at": (NOW + timedelta(days=14)).isoformat(), **fields}

    def test_an_account_signs_out_one_of_its_sessions(self, accounts: Accounts) -> None:
        events = run_accounts(accounts, CHAIR, self.end())
        assert events == [SessionEnded(account_id="chu_tri", session_id=self.SID,
                                       expires_at=NOW + timedelta(days=14), **meta(CHAIR))]
        assert accounts.get("chu_tri").ended_sessions == {self.SID: NOW + timedelta(days=14)}
        assert run_accounts(accounts, CHAIR, self.end(), key="k2") == []   # ended already: nothing new

    def test_ended_sessions_are_forgotten_once_expired_and_at_a_password_change(self, accounts: Accounts) -> None:
        run_accounts(accounts, CHAIR, self.end(expires_at=(NOW + timedelta(seconds=1)).isoformat()))
        later = StreamRunner(decide_accounts, evolve_accounts, NOW + timedelta(hours=1))
        later.run(accounts, CHAIR, self.end(session_id="another-session-id-1"), key="k2")
        assert list(accounts.get("chu_tri").ended_sessions) == ["another-session-id-1"]
        later.run(accounts, CHAIR, {"type": "change_password", "account_id": "chu_tri", "password_hash": HASH},
                  key="k3")
        assert accounts.get("chu_tri").ended_sessions == {}

    def test_an_admin_may_end_anothers_session_nobody_else(self, accounts: Accounts) -> None:
        run_accounts(accounts, ADMIN, self.end())
        for actor in (SECRETARY, SYSTEM, site(HAI_CHAU)):
            refuse_accounts(accounts, actor, self.end(session_id="another-session-id-2"), ErrorCode.FORBIDDEN)

    def test_bad_input(self) -> None:
        for sid in ("short", "has space in it ok?", "x" * 65, "s3ss10n-1d-0f-chu-tri\n"):
            with pytest.raises(DomainError, match="session_id"):
                parse_command({**self.end(session_id=sid), "key": "k1"})


def test_accounts_refuse_commands_of_other_streams(accounts: Accounts) -> None:
    refuse_accounts(accounts, ADMIN, {"type": "mute_all"}, ErrorCode.UNKNOWN_COMMAND)


# -- join links ---------------------------------------------------------------------------------

_links = StreamRunner(decide_links, evolve_links, NOW)
run_links, refuse_links = _links.run, _links.refuse


EXPIRES = NOW + timedelta(days=2)


def issue(**fields: Any) -> dict[str, Any]:
    return {"type": "issue_link", "conference_id": CONF_ID, "site": HAI_CHAU, "expires_at": EXPIRES.isoformat(),
            **fields}


class TestIssueLink:
    @pytest.mark.parametrize("actor", [ADMIN, SYSTEM], ids=str)
    def test_a_link_is_issued(self, actor: Actor) -> None:
        links = Links()
        events = run_links(links, actor, issue())
        assert events == [LinkIssued(conference_id=CONF_ID, site=HAI_CHAU, generation=1, expires_at=EXPIRES,
                                     **meta(actor))]
        link = links.links[(CONF_ID, HAI_CHAU)]
        assert link.valid(1, NOW) and not link.valid(1, EXPIRES) and not link.valid(2, NOW)

    def test_issuing_again_revokes_the_earlier_tokens(self) -> None:
        links = Links()
        run_links(links, ADMIN, issue())
        run_links(links, ADMIN, issue(), key="k2")
        link = links.links[(CONF_ID, HAI_CHAU)]
        assert link.generation == 2 and not link.valid(1, NOW) and link.valid(2, NOW)

    def test_expiry_in_the_past(self) -> None:
        refuse_links(Links(), ADMIN, issue(expires_at=NOW.isoformat()), ErrorCode.DEADLINE_IN_PAST, "future")

    @pytest.mark.parametrize("actor", [CHAIR, SECRETARY, site(HAI_CHAU)], ids=str)
    def test_only_an_admin_or_the_server(self, actor: Actor) -> None:
        refuse_links(Links(), actor, issue(), ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize(("fields", "message"), [
        ({"site": "p-hai-chau"}, "site: 'p-hai-chau' is not a site code"),
        ({"expires_at": "2025-10-05T08:00:00"}, "expires_at: date-time needs a UTC offset"),
        ({"conference_id": ""}, "conference_id: '' is not an id"),
    ])
    def test_bad_input(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(DomainError) as info:
            parse_command({"key": "k1", **issue(**fields)})
        assert info.value.message.startswith(message), info.value.message


class TestRevokeLink:
    def test_a_link_is_revoked(self) -> None:
        links = Links()
        run_links(links, ADMIN, issue())
        events = run_links(links, ADMIN, {"type": "revoke_link", "conference_id": CONF_ID, "site": HAI_CHAU}, key="k2")
        assert events == [LinkRevoked(conference_id=CONF_ID, site=HAI_CHAU, **meta(ADMIN, "k2"))]
        assert not links.links[(CONF_ID, HAI_CHAU)].valid(1, NOW)

    def test_no_live_link(self) -> None:
        links = Links()
        refuse_links(links, ADMIN, {"type": "revoke_link", "conference_id": CONF_ID, "site": HAI_CHAU},
                     ErrorCode.INVALID_COMMAND, HAI_CHAU)
        run_links(links, ADMIN, issue())
        run_links(links, ADMIN, {"type": "revoke_link", "conference_id": CONF_ID, "site": HAI_CHAU}, key="k2")
        refuse_links(links, ADMIN, {"type": "revoke_link", "conference_id": CONF_ID, "site": HAI_CHAU},
                     ErrorCode.INVALID_COMMAND)

    @pytest.mark.parametrize("actor", [CHAIR, site(HAI_CHAU)], ids=str)
    def test_only_an_admin_or_the_server(self, actor: Actor) -> None:
        links = Links()
        run_links(links, ADMIN, issue())
        refuse_links(links, actor, {"type": "revoke_link", "conference_id": CONF_ID, "site": HAI_CHAU},
                     ErrorCode.FORBIDDEN)

    def test_bad_input(self) -> None:
        with pytest.raises(DomainError, match="site: missing"):
            parse_command({"type": "revoke_link", "key": "k1", "conference_id": CONF_ID})


def test_links_refuse_commands_of_other_streams() -> None:
    refuse_links(Links(), ADMIN, {"type": "mute_all"}, ErrorCode.UNKNOWN_COMMAND)
