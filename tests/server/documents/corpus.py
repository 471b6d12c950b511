"""The minutes the documents tests read: the realistic quarterly review approved twice (the
second version after a correction that adds a note with a script in it), then a correction
opened (the draft of version 3), rendered in every format."""

from __future__ import annotations

from dataclasses import dataclass

from server.documents import (
    MinutesSource,
    Rendered,
    RenderOptions,
    draft_source,
    render,
    source_for,
)
from tests.fixtures.conference import (
    BuiltConference,
    add_note,
    approve,
    build_quarterly_review,
    correct,
)

HOSTILE = "Kiến nghị của phường <script>alert('xss')</script> & <b>\"đậm\"</b> <img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Minutes:
    built: BuiltConference
    options: RenderOptions
    approved: MinutesSource      # version 2
    draft: MinutesSource         # the draft of version 3
    files: dict[str, bytes]      # version 2, by format
    draft_files: dict[str, bytes]


def _body(result: object) -> bytes:
    assert isinstance(result, Rendered), result
    return result.body


def build_minutes() -> Minutes:
    built = build_quarterly_review()
    approve(built)
    correct(built, "Bổ sung kiến nghị của phường Ba Đình")
    add_note(built, "bo-sung-1", HOSTILE, item_id="y-kien")
    approve(built)
    correct(built, "Bổ sung lần hai")
    options = RenderOptions(lang="vi", names=built.names, place="Hà Nội")
    approved = source_for(built.state, 2)
    assert isinstance(approved, MinutesSource)
    draft = draft_source(built.state)
    files = {fmt: _body(render(approved, fmt, options)) for fmt in ("html", "pdf", "docx")}
    draft_files = {fmt: _body(render(draft, fmt, options)) for fmt in ("html", "pdf", "docx")}
    return Minutes(built, options, approved, draft, files, draft_files)
