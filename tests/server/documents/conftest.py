"""Fixtures of the documents tests. The minutes are rendered once per session in every
format (a PDF takes ~2 s)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.fixtures` and the helpers here are imported from the repository root, which is not
# on sys.path when pytest runs as the `pytest` script
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.server.documents.corpus import Minutes, build_minutes  # noqa: E402


@pytest.fixture(scope="session")
def minutes() -> Minutes:
    return build_minutes()
