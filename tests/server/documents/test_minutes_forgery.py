"""Forged copies of approved minutes: everything the record prints (the approval block, the
issuer, the place, the document number) is inside the hash and compared with the log, so a
copy that says another approver, another time or another city fails, naming the field."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest

from scheduling import MinutesInputs, OrgSettings, chain_hash, decide, evolve, parse_command
from server.documents import (
    MinutesSource,
    RenderOptions,
    VerifyCode,
    render_html,
    source_for,
    verify_chain,
    verify_document,
)
from tests.fixtures.conference import CHAIR, BuiltConference, build_quarterly_review, minutes

SETTINGS = OrgSettings(governing_body="UBND THÀNH PHỐ HÀ NỘI", issuing_body="Văn phòng", symbol="BB-VP",
                       place="Hà Nội", chair_title="Chủ tọa", secretary_title="Thư ký",
                       recipients=("Như trên;", "Lưu: VT, VP."))


def approve_with_record(built: BuiltConference, number: int) -> None:
    r = built.runner
    r.advance(minutes(45))
    inputs = MinutesInputs(names=built.names, organisation=SETTINGS, number=(2025, number))
    decision = decide(r.state, parse_command({"type": "approve_minutes", "key": f"duyet-{number}"}), CHAIR,
                      now=r.now, directory=r.directory, minutes_inputs=inputs)
    for ev in decision.events:
        r.state = evolve(r.state, ev)
        r.events.append(ev)
    built.state = r.state


@pytest.fixture(scope="module")
def built() -> BuiltConference:
    b = build_quarterly_review()
    approve_with_record(b, 12)
    return b


@pytest.fixture(scope="module")
def approved(built: BuiltConference) -> MinutesSource:
    src = source_for(built.state, 1)
    assert isinstance(src, MinutesSource)
    return src


def forge(src: MinutesSource, edit: Any, *, rehash: bool = True) -> MinutesSource:
    """A copy whose content was edited by ``edit`` (and, with ``rehash``, its hash recomputed
    so that it is self-consistent)."""
    content = copy.deepcopy(src.content)
    edit(content)
    a = src.approval
    assert a is not None
    return MinutesSource(content=content, approval=dataclasses.replace(
        a, sha256=chain_hash(a.prev_sha256, content) if rehash else a.sha256))


def the_issues_forgery(c: dict[str, Any]) -> None:
    """"Phê duyệt: 01/12/2026, bởi Thư ký Trần Văn Minh" (a secretary, days before the
    meeting) and another city."""
    c["approval"] |= {"approved_by": "thu.ky.1", "approver_name": "Trần Văn Minh", "role": "secretary",
                      "approved_at": "2025-09-27T09:00:00+07:00"}
    c["record"]["place"] = "Đà Nẵng"


OPTIONS = RenderOptions(lang="vi")


def test_the_approved_record_prints_its_issuer_number_and_approver(approved: MinutesSource) -> None:
    page = render_html(approved, OPTIONS)
    for text in ("UBND THÀNH PHỐ HÀ NỘI", "VĂN PHÒNG", "Số: 12/BB-VP", "Hà Nội, ngày 03 tháng 10 năm 2025",
                 "CHỦ TỌA", "Nơi nhận", "Lưu: VT, VP.", "Lê Minh Quang – Chủ tịch UBND Thành phố (Chủ trì)"):
        assert text in page, text
    report = verify_document(page.encode(), chain=[approved_version(approved)])
    assert report.ok and "approval and issuer fields" in report.checks, report


def approved_version(src: MinutesSource) -> Any:
    a = src.approval
    assert a is not None and a.approved_at is not None
    return _Version(a.version, a.sha256, a.prev_sha256, src.content, a.approved_at, "account:" + a.approved_by)


@dataclasses.dataclass(frozen=True)
class _Version:
    version: int
    sha256: str
    prev_sha256: str
    content: dict[str, Any]
    approved_at: Any
    approved_by: str


def test_the_issues_forgery_fails_without_the_log_naming_the_fields(approved: MinutesSource) -> None:
    page = render_html(forge(approved, the_issues_forgery), OPTIONS).encode()
    report = verify_document(page)
    assert report.code is VerifyCode.FIELD_MISMATCH, report
    assert "approval.approved_by: 'thu.ky.1' ('secretary') is not the conference's chair 'chu.tich'" in report.message
    assert "approval.approved_at: '2025-09-27T09:00:00+07:00' is before the conference ended" in report.message


def test_the_issues_forgery_fails_against_the_log_naming_each_field(approved: MinutesSource) -> None:
    page = render_html(forge(approved, the_issues_forgery), OPTIONS).encode()
    report = verify_document(page, chain=[approved_version(approved)], check_text=False)
    # the embedded checks come first; with them passed, the log names what differs
    assert report.code is VerifyCode.FIELD_MISMATCH
    only_place = render_html(forge(approved, lambda c: c["record"].__setitem__("place", "Đà Nẵng")), OPTIONS)
    assert verify_document(only_place.encode()).ok    # self-consistent: only the log can tell
    report = verify_document(only_place.encode(), chain=[approved_version(approved)])
    assert report.code is VerifyCode.FIELD_MISMATCH
    assert "record.place: the file says 'Đà Nẵng', the conference's log 'Hà Nội'" in report.message


@pytest.mark.parametrize(("field", "value", "named"), [
    ("number_text", "13/BB-VP", "record.number_text: the file says '13/BB-VP'"),
    ("issuing_body", "Sở Tài chính", "record.issuing_body: the file says 'Sở Tài chính'"),
    ("governing_body", "UBND TỈNH KHÁC", "record.governing_body"),
    ("recipients", ["Như trên;"], "record.recipients"),
])
def test_each_issuer_field_is_compared_with_the_log(approved: MinutesSource, field: str, value: Any,
                                                     named: str) -> None:
    page = render_html(forge(approved, lambda c: c["record"].__setitem__(field, value)), OPTIONS).encode()
    report = verify_document(page, chain=[approved_version(approved)], check_text=False)
    assert report.code is VerifyCode.FIELD_MISMATCH and named in report.message, report.message


def test_a_stamp_that_says_another_approver_around_the_hashed_content_fails(approved: MinutesSource) -> None:
    """The stamp's own approved_at/approved_by (outside the hash) edited: the record inside
    the hash disagrees, and the field is named."""
    page = render_html(approved, OPTIONS)
    start = page.index('<script type="application/json" id="bridgeconf-minutes">') + 56
    end = page.index("</script>", start)
    stamp = json.loads(page[start:end])
    for field, value in (("approved_by", "thu.ky.1"), ("approved_at", "2026-12-01T09:00:00+07:00")):
        forged = dict(stamp, **{field: value})
        text = json.dumps(forged, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace(
            "&", "\\u0026")
        report = verify_document((page[:start] + text + page[end:]).encode())
        assert report.code is VerifyCode.FIELD_MISMATCH and f"approval.{field}: the record says" in report.message


def test_a_copy_edited_without_rehashing_is_tampered(approved: MinutesSource) -> None:
    page = render_html(forge(approved, the_issues_forgery, rehash=False), OPTIONS).encode()
    assert verify_document(page).code is VerifyCode.CONTENT_TAMPERED


def test_the_chain_compares_each_approval_block_with_the_log(approved: MinutesSource) -> None:
    """``minutes verify --chain``: a version whose recorded approval block is not the log's
    own record of the approval (its event's time and actor) breaks the chain."""
    good = approved_version(approved)
    assert verify_chain([good]).ok
    later = dataclasses.replace(good, approved_at=good.approved_at + timedelta(days=2))
    report = verify_chain([later])
    assert report.code is VerifyCode.BROKEN_CHAIN and "approval.approved_at" in report.message
    other = dataclasses.replace(good, approved_by="account:thu.ky.1")
    assert "approval.approved_by 'chu.tich' is not the log's account:thu.ky.1" in verify_chain([other]).message


@pytest.mark.parametrize("place", ["", "Hà Nội", "Thành phố Khác"])
def test_the_record_prints_its_own_place_whatever_the_server_passes(approved: MinutesSource, place: str) -> None:
    page = render_html(approved, RenderOptions(place=place))
    assert "Hà Nội, ngày 03 tháng 10 năm 2025" in page and "Thành phố Khác" not in page
    assert verify_document(page.encode()).ok


def test_a_stamp_that_says_another_place_fails(approved: MinutesSource) -> None:
    page = render_html(approved, OPTIONS)
    forged = page.replace('"place": "Hà Nội"}', '"place": "Đà Nẵng"}', 1)
    assert forged != page
    report = verify_document(forged.encode())
    assert report.code is VerifyCode.FIELD_MISMATCH
    assert "record.place: the record says 'Hà Nội', the file 'Đà Nẵng'" in report.message
