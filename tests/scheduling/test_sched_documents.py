"""Conference documents: added by the admin or a secretary (the log holds name, size, type,
SHA-256), removed, and each site's first opening and first download as its receipt."""

from __future__ import annotations

import pytest
from scheduling_builders import ADMIN, CHAIR, HAI_CHAU, SECRETARY, THANH_KHE, Harness, build, site
from ward_builders import PDF

from scheduling import ErrorCode


def _doc(h: Harness, document_id: str = "d1", **extra: object) -> None:
    h.run(SECRETARY, {"type": "add_document", "document_id": document_id, "file": PDF, **extra})


class TestAddDocument:
    def test_before_the_meeting_under_an_agenda_item(self) -> None:
        h = build("scheduled")
        h.run(ADMIN, {"type": "add_document", "document_id": "d1", "file": PDF, "item_id": "i1"})
        doc = h.s.documents["d1"]
        assert (doc.file.sha256, doc.file.size, doc.item_id) == (PDF["sha256"], 1234, "i1")

    def test_the_chair_does_not_keep_documents(self) -> None:
        h = build("live")
        h.refuse(CHAIR, {"type": "add_document", "document_id": "d1", "file": PDF}, ErrorCode.FORBIDDEN)

    @pytest.mark.parametrize("bad", [
        {"content_type": "text/html", "name": "x.pdf"},
        {"size": 0}, {"size": 50 * 1024 * 1024 + 1},
        {"sha256": "AB" * 32}, {"name": "../../etc/passwd"},
    ])
    def test_bad_file_reference(self, bad: dict[str, object]) -> None:
        h = build("live")
        h.refuse(SECRETARY, {"type": "add_document", "document_id": "d1", "file": {**PDF, **bad}},
                 ErrorCode.INVALID_COMMAND)

    def test_bad_twice_or_unknown_item(self) -> None:
        h = build("live")
        _doc(h)
        h.refuse(SECRETARY, {"type": "add_document", "document_id": "d1", "file": PDF}, ErrorCode.DOCUMENT_EXISTS)
        h.refuse(SECRETARY, {"type": "add_document", "document_id": "d2", "file": PDF, "item_id": "i9"},
                 ErrorCode.UNKNOWN_ITEM)


class TestRemoveDocument:
    def test_removed_documents_are_kept_in_the_log_but_hidden(self) -> None:
        h = build("live")
        _doc(h)
        h.run(SECRETARY, {"type": "remove_document", "document_id": "d1"})
        assert h.s.documents["d1"].removed

    def test_bad_removed_twice(self) -> None:
        h = build("live")
        _doc(h)
        h.run(SECRETARY, {"type": "remove_document", "document_id": "d1"})
        h.refuse(SECRETARY, {"type": "remove_document", "document_id": "d1"}, ErrorCode.UNKNOWN_DOCUMENT)

    def test_a_site_may_not_remove(self) -> None:
        h = build("live")
        _doc(h)
        h.refuse(site(HAI_CHAU), {"type": "remove_document", "document_id": "d1"}, ErrorCode.FORBIDDEN)


class TestRecordDocumentReceipt:
    def test_first_opening_and_first_download_are_the_receipts(self) -> None:
        h = build("live")
        _doc(h)
        opened = h.now
        h.run(site(HAI_CHAU), {"type": "record_document_receipt", "document_id": "d1", "site": HAI_CHAU})
        h.tick(60)
        assert h.run(site(HAI_CHAU), {"type": "record_document_receipt", "document_id": "d1", "site": HAI_CHAU}) == ()
        h.run(site(HAI_CHAU), {"type": "record_document_receipt", "document_id": "d1", "site": HAI_CHAU,
                               "how": "download"})
        r = h.s.documents["d1"].receipts[HAI_CHAU]
        assert (r.opened_at, r.downloaded_at) == (opened, h.now)
        assert THANH_KHE not in h.s.documents["d1"].receipts

    def test_bad_for_another_site(self) -> None:
        h = build("live")
        _doc(h)
        h.refuse(site(THANH_KHE), {"type": "record_document_receipt", "document_id": "d1", "site": HAI_CHAU},
                 ErrorCode.NOT_OWN_SITE)

    def test_bad_unknown_document_or_kind(self) -> None:
        h = build("live")
        h.refuse(site(HAI_CHAU), {"type": "record_document_receipt", "document_id": "d9", "site": HAI_CHAU},
                 ErrorCode.UNKNOWN_DOCUMENT)
        _doc(h)
        h.refuse(site(HAI_CHAU), {"type": "record_document_receipt", "document_id": "d1", "site": HAI_CHAU,
                                  "how": "print"}, ErrorCode.INVALID_COMMAND)
