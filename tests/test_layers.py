"""The house's layers, read from the code itself (the ``ast`` of every module): imports point
one way, no module imports itself back through others, and no import of our own code hides
inside a function. docs/architecture.md draws the same picture.

    scheduling/, media/, client_web/   import nothing of ours (client_web: assets and catalogs)
    server/tools/                      the command line: may use everything below
    server/app.py                      wires the layers together
    server/web/, server/signaling/,    the edges and the reactors: each uses service/ and what
    server/reactors/                   lies below, never one another
    server/service/                    the application service: store/, documents/, the leaves
    server/documents/, server/store/   below the service: nothing of server/ but the leaves
    server/protocol.py, config.py,     leaves that anything in server/ may use
    errors.py, memory.py
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scheduling", "media", "client_web", "server")

# rank of each part of server/: a module may import its own part or a part of lower rank,
# and of equal rank only its own part
RANKS: dict[str, int] = {
    "server.tools": 6,
    "server.app": 5,
    "server.web": 4, "server.signaling": 4, "server.reactors": 4,
    "server.service": 3,
    "server.documents": 2, "server.store": 2,
    "server.protocol": 1, "server.config": 1, "server.errors": 1, "server.memory": 1, "server": 1,
}
MAY_IMPORT: dict[str, frozenset[str]] = {
    "scheduling": frozenset({"scheduling"}),
    "media": frozenset({"media"}),
    "client_web": frozenset({"client_web"}),
    "server": frozenset(PACKAGES),
}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The modules of ours that ``node`` imports (a name imported from a package counts as
    that package's submodule when there is one)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        names = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target
                 for alias in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in PACKAGES:
            out.append(name)
    return out


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports() -> dict[str, list[tuple[str, int, bool]]]:
    """module -> (imported module, line, inside a function)"""
    graph: dict[str, list[tuple[str, int, bool]]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and not _type_checking_only(node, parents):
                inside = any(isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef)
                             for p in _ancestors(node, parents))
                edges += [(target, node.lineno, inside) for target in _resolve(module, path, node) if target != module]
        graph[module] = edges
    return graph


def _ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[ast.AST]:
    out = []
    while node in parents:
        node = parents[node]
        out.append(node)
    return out


GRAPH = _imports()


def _part(module: str) -> str:
    for name in sorted(RANKS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} is in no part of server/: give it one in RANKS")


def test_packages_import_only_what_they_may() -> None:
    wrong = [f"{m}:{line} imports {t}" for m, edges in GRAPH.items() for t, line, _ in edges
             if t.split(".")[0] not in MAY_IMPORT[m.split(".")[0]]]
    assert not wrong, "\n".join(wrong)


def test_server_imports_point_down() -> None:
    wrong = []
    for module, edges in GRAPH.items():
        if not module.startswith("server"):
            continue
        here = _part(module)
        for target, line, _ in edges:
            if not target.startswith("server"):
                continue
            there = _part(target)
            if there != here and RANKS[there] >= RANKS[here]:
                wrong.append(f"{module}:{line} imports {target} ({here} may not use {there})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    # Tarjan's strongly connected components over the import graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _, _ in GRAPH.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_no_import_of_our_code_inside_a_function() -> None:
    hidden = [f"{m}:{line} imports {t} inside a function" for m, edges in GRAPH.items()
              for t, line, inside in edges if inside]
    assert not hidden, "\n".join(hidden)


def test_the_checks_see_an_upward_import() -> None:
    """The test above can fail: an import from the service up to the web edge is caught."""
    tree = ast.parse("from ..web import pages\n")
    node = tree.body[0]
    assert isinstance(node, ast.ImportFrom)
    target = _resolve("server.service.service", MODULES["server.service.service"], node)
    assert target == ["server.web.pages"]
    assert RANKS[_part(target[0])] >= RANKS[_part("server.service.service")]


@pytest.mark.timeout(300)
def test_mypy_strict_is_clean() -> None:
    """``mypy`` (strict; pyproject.toml names what it covers: scheduling/, server/service/,
    server/signaling/)."""
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
