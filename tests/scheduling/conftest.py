"""Fixtures of the domain tests: a fresh conference harness in each phase (see
scheduling_builders.build for what each phase holds)."""

from __future__ import annotations

import pytest
from scheduling_builders import Harness, build


@pytest.fixture
def draft() -> Harness:
    return build("draft")


@pytest.fixture
def scheduled() -> Harness:
    return build("scheduled")


@pytest.fixture
def rehearsal() -> Harness:
    return build("rehearsal")


@pytest.fixture
def live() -> Harness:
    return build("live")


@pytest.fixture
def ended() -> Harness:
    return build("ended")


@pytest.fixture
def cancelled() -> Harness:
    return build("cancelled")
