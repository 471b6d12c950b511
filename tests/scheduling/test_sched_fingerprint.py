"""command_fingerprint tells a retry (the same command sent again with its key) from another
command sent with a key already used; key_reused is the refusal of the latter."""

from __future__ import annotations

from typing import Any

import pytest

from scheduling import ErrorCode, parse_command
from scheduling.base import command_fingerprint, key_reused


def fp(data: dict[str, Any]) -> str:
    return command_fingerprint(parse_command(data))


CHECK_IN = {"type": "check_in", "key": "k1", "site": "P-AN", "headcount": 40}
CREATE = {"type": "create_conference", "key": "k2", "conference_id": "hop", "title": "Họp",
          "starts_at": "2025-10-03T08:00:00+07:00", "ends_at": "2025-10-03T11:00:00+07:00",
          "main_site": "TRU-SO", "chair": "chutri"}


def test_the_same_command_has_the_same_fingerprint_whatever_its_key() -> None:
    assert fp(CHECK_IN) == fp(dict(CHECK_IN)) == fp({**CHECK_IN, "key": "another-key"})


def test_defaults_spelled_out_and_field_order_do_not_matter() -> None:
    spelled = {"headcount": 40, "leaders": [], "site": "P-AN", "key": "k1", "type": "check_in"}
    assert fp(spelled) == fp(CHECK_IN)


@pytest.mark.parametrize("other", [
    {**CHECK_IN, "headcount": 41},                                   # another argument
    {**CHECK_IN, "site": "P-BINH"},
    {**CHECK_IN, "leaders": [{"name": "Nguyễn Văn A", "present": True}]},
    {"type": "request_floor", "key": "k1", "site": "P-AN"},          # another type
], ids=["headcount", "site", "leaders", "type"])
def test_another_type_or_other_fields_change_the_fingerprint(other: dict[str, Any]) -> None:
    assert fp(other) != fp(CHECK_IN)


def test_two_types_with_the_same_fields_differ() -> None:
    assert fp({"type": "mute_site", "key": "k", "site": "P-AN"}) != fp({"type": "unmute_site", "key": "k", "site": "P-AN"})


def test_date_times_count_as_instants_whatever_their_offset() -> None:
    utc = {**CREATE, "starts_at": "2025-10-03T01:00:00+00:00", "ends_at": "2025-10-03T04:00:00Z"}
    assert fp(utc) == fp(CREATE)
    assert fp({**CREATE, "starts_at": "2025-10-03T02:00:00+00:00"}) != fp(CREATE)   # an hour later


def test_a_salted_password_hash_is_left_out() -> None:
    account = {"type": "create_account", "key": "k3", "account_id": "thuky", "name": "Thư ký",
               "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$salt1$hash1"}
    resalted = {**account, "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$salt2$hash2"}
    assert fp(resalted) == fp(account)
    assert fp({**account, "name": "Thư ký khác"}) != fp(account)


def test_key_reused_names_the_key_and_says_nothing_was_applied() -> None:
    err = key_reused("k-42")
    assert err.code is ErrorCode.KEY_REUSED and str(err.code) == "key_reused"
    assert "'k-42'" in err.message and "another command" in err.message and "nothing was applied" in err.message
