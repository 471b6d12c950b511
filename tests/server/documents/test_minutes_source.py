"""Choosing what to render (draft or approved version) with errors as values, the one
entry point for the server, and the formatting of the view (time zone, dd/mm/yyyy)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

import pytest

from scheduling import event_to_dict
from server.documents import (
    DocumentError,
    DocumentErrorCode,
    MinutesSource,
    Rendered,
    RenderOptions,
    draft_source,
    render,
    source_for,
)
from server.documents.fonts import allowed_urls
from server.documents.render_pdf import fonts_only_fetcher
from server.documents.view import build_view
from tests.fixtures.conference import (
    Runner,
    build_directory,
    build_quarterly_review,
    local,
    prepare,
)
from tests.server.documents.corpus import Minutes


def test_minutes_of_a_conference_that_has_not_ended_are_refused() -> None:
    created = local(2025, 9, 26, 9)
    run = Runner(directory=build_directory(created), now=created)
    prepare(run)
    result = source_for(run.conference, None)
    assert isinstance(result, DocumentError) and result.code is DocumentErrorCode.NOT_ENDED
    assert "scheduled" in result.message
    assert result.to_dict()["code"] == "not_ended"


def test_versions(minutes: Minutes) -> None:
    state = minutes.built.state
    unknown = source_for(state, 9)
    assert isinstance(unknown, DocumentError) and unknown.code is DocumentErrorCode.UNKNOWN_VERSION
    assert "1 to 2" in unknown.message
    draft = source_for(state, None)
    assert isinstance(draft, MinutesSource) and draft.is_draft and draft.version == 3
    v1 = source_for(state, 1)
    assert isinstance(v1, MinutesSource) and v1.approval is not None and v1.approval.version == 1
    assert v1.content == state.minutes.approved[0].content


def test_render_entry_point(minutes: Minutes) -> None:
    bad_format = render(minutes.approved, "odt")
    assert isinstance(bad_format, DocumentError) and bad_format.code is DocumentErrorCode.UNKNOWN_FORMAT
    bad_lang = render(minutes.approved, "html", RenderOptions(lang="fr"))
    assert isinstance(bad_lang, DocumentError) and bad_lang.code is DocumentErrorCode.UNKNOWN_LANG
    page = render(minutes.approved, "html", minutes.options)
    assert isinstance(page, Rendered)
    assert page.media_type == "text/html; charset=utf-8"
    assert page.filename == "bien-ban-hn-q3-2025-review-v2.html"
    draft = render(draft_source(minutes.built.state), "html")
    assert isinstance(draft, Rendered) and draft.filename == "bien-ban-hn-q3-2025-review-du-thao-v3.html"


def _to_utc(value: object) -> object:
    """Every ISO date-time in the content, rewritten in UTC."""
    if isinstance(value, dict):
        return {k: _to_utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_utc(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", value):
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    return value


def test_times_are_shown_in_the_conference_time_zone(minutes: Minutes) -> None:
    content = _to_utc(copy.deepcopy(minutes.approved.content))
    assert isinstance(content, dict) and content["header"]["opened_at"].endswith("+00:00")
    view = build_view(MinutesSource(content=content), minutes.options)
    same = build_view(minutes.approved, minutes.options)
    assert view.fields[0].value == same.fields[0].value
    assert view.fields[0].value.startswith("Từ 08:00 đến 11:33 ngày 03/10/2025")
    assert [r.joined for r in view.attendance] == [r.joined for r in same.attendance]
    assert view.place_date == "Hà Nội, ngày 03 tháng 10 năm 2025"
    assert view.actions[0].due == "17/10/2025"


def test_names_default_to_account_ids(minutes: Minutes) -> None:
    view = build_view(minutes.approved, RenderOptions())
    assert view.chair == "chu.tich"
    assert view.place_date == "Ngày 03 tháng 10 năm 2025"
    assert dict((f.label, f.value) for f in view.verification)["Phê duyệt"].endswith("bởi chu.tich (Chủ trì)")


def test_the_fixture_is_deterministic() -> None:
    one, two = build_quarterly_review(), build_quarterly_review()
    assert [event_to_dict(e) for e in one.events] == [event_to_dict(e) for e in two.events]
    times = [e.at for e in one.events]
    assert times == sorted(times)                       # the clock only moves forward
    assert one.state.opened_at == local(2025, 10, 3, 8, 0)
    assert len(one.state.remote_sites()) == 126


def test_pdf_rendering_loads_nothing_but_its_fonts() -> None:
    fetcher = fonts_only_fetcher(allowed_urls())
    for url in ("file:///etc/passwd", "http://127.0.0.1/x.png", "data:text/plain,hi"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    for url in allowed_urls():
        fetcher.fetch(url).close()
