"""Rendering the minutes for the server: blocking renders (call them in a thread), PDFs
one at a time in the process, approved versions kept in a small cache (they never change),
so many sites opening one version cost one render."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter, OrderedDict

from .errors import DocumentError
from .formats import Rendered, render
from .source import MinutesSource, RenderOptions

_CACHE_LOCK = threading.Lock()      # guards _RENDERED
_PDF_LOCK = threading.Lock()        # WeasyPrint lays out one document at a time in this process
_RENDERED: OrderedDict[tuple[str, ...], Rendered] = OrderedDict()
_RENDERED_MAX = 24
RENDERS: Counter[tuple[str, str]] = Counter()
"""Renders of this process by (format, rendered | cached | failed): the metrics read it."""


def render_minutes(source: MinutesSource, fmt: str, options: RenderOptions) -> Rendered | DocumentError:
    """``documents.render`` for the server: blocking (call it in a thread); PDFs one at a
    time in the process; approved versions kept (they never change), so many sites opening
    one version cost one render. A draft is rendered every time."""
    key: tuple[str, ...] | None = None
    if source.approval is not None:
        names = hashlib.sha256(json.dumps(dict(options.names), sort_keys=True).encode()).hexdigest()
        key = (source.approval.sha256, fmt, options.lang, options.place, names)
    if (doc := _cached(key)) is not None:
        RENDERS[(fmt, "cached")] += 1
        return doc
    if fmt == "pdf":
        with _PDF_LOCK:
            if (doc := _cached(key)) is not None:   # rendered meanwhile by whoever held the lock
                RENDERS[(fmt, "cached")] += 1
                return doc
            result = render(source, fmt, options)
    else:
        result = render(source, fmt, options)
    RENDERS[(fmt if fmt in ("html", "pdf", "docx") else "other", "rendered" if isinstance(result, Rendered)
             else "failed")] += 1
    if key is not None and isinstance(result, Rendered):
        with _CACHE_LOCK:
            _RENDERED[key] = result
            while len(_RENDERED) > _RENDERED_MAX:
                _RENDERED.popitem(last=False)
    return result


def _cached(key: tuple[str, ...] | None) -> Rendered | None:
    if key is None:
        return None
    with _CACHE_LOCK:
        doc = _RENDERED.get(key)
        if doc is not None:
            _RENDERED.move_to_end(key)
        return doc
