"""Every command has its tests: a ``Test<CommandClass>`` class in one of this folder's
test_sched_*.py modules, with a happy path and bad-input tests. A command added to the
domain without tests fails here, as it fails the authorization matrix and the property
generators (test_sched_authorization.py, test_sched_properties.py)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from scheduling import COMMANDS

HERE = Path(__file__).parent


def _test_classes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("test_sched_*.py")):
        module = importlib.import_module(path.stem)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and name.startswith("Test") and obj.__module__ == module.__name__:
                found.setdefault(name[len("Test"):], []).extend(m for m in dir(obj) if m.startswith("test_"))
    return found


CLASSES = _test_classes()


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_every_command_has_its_tests(kind: str) -> None:
    name = COMMANDS[kind].__name__
    tests = CLASSES.get(name)
    assert tests, f"no Test{name} class for the command {kind!r}"
    assert len(tests) >= 3, f"Test{name} has only {tests}"
    assert any("bad" in t for t in tests), f"Test{name} has no bad-input test"
