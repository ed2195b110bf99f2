"""The package's layers, read from its imports (docs/architecture.md draws them).

Every import of the package, at the top of a module or inside a function, is read with
`ast`. A module may import only from its own layer or the layers below it, no two
modules may import each other (directly or round a longer cycle, lazy imports
included), and no module may use another's private names (`_name`). The checker is
tried on a small planted package first, so that a green run means it can see."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "riskassess"

# lowest first; a module's layer is the first part of its name after `riskassess.`
LAYERS = [
    {"", "errors", "words", "textcheck", "stopping", "record"},  # the package, its errors,
    # its English, odd characters, stopping on a signal, value classes
    {"io"},  # the safe reader and writer
    {"law"},  # vocabulary, case and report models, rule sets, editions
    {"engine"},  # evaluation, compiled tables, checks, explanations
    {"render"},  # reports as text, JSON and documents
    {"assess"},  # use cases: a file, a batch, a caseload, browsing the rules
    {"teach"},  # quiz and interview
    {"serve"},  # the HTTP service
    {"cli", "__main__"},  # the command line
]


def layer_of(module: str, root: str) -> int:
    rest = module[len(root) + 1:] if module != root else ""
    head = rest.split(".", 1)[0]
    for i, names in enumerate(LAYERS):
        if head in names:
            return i
    raise AssertionError(f"{module}: in no layer (add its folder to LAYERS and to "
                         "docs/architecture.md)")


def modules(folder: Path) -> dict[str, Path]:
    root = folder.name
    out = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    assert root in out
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(imported module, private name or "", line) for every import of the package in a
    module, and every attribute `_x` read off a module it imported by name."""
    root = name.split(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[str, str, int]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != root and not target.startswith(root + "."):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # `from pkg import module`
                    found.append((sub, "", node.lineno))
                    aliases[alias.asname or alias.name] = sub
                else:
                    private = alias.name if _private(alias.name) else ""
                    found.append((target, private, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == root or alias.name.startswith(root + "."):
                    found.append((alias.name, "", node.lineno))
                    if alias.asname:
                        aliases[alias.asname] = alias.name
    for node in ast.walk(tree):  # module._private
        if isinstance(node, ast.Attribute) and _private(node.attr):
            target = _dotted(node.value)
            target = aliases.get(target, target)
            if target in known and target != name:
                found.append((target, node.attr, node.lineno))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def problems(folder: Path) -> list[str]:
    """Every upward import, import cycle and cross-module private name of a package."""
    known = modules(folder)
    root = folder.name
    out: list[str] = []
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        where = path.relative_to(folder.parent).as_posix()
        for target, private, line in imports(name, path, known):
            if target not in known:
                out.append(f"{where}:{line}: imports {target}, which does not exist")
                continue
            if private and target != name:
                out.append(f"{where}:{line}: uses {target}'s private name {private}")
            if target == name or name.startswith(target + "."):
                continue  # itself, or a package it belongs to
            graph.setdefault(name, set()).add(target)
            if layer_of(target, root) > layer_of(name, root):
                out.append(f"{where}:{line}: imports {target}, a layer above it")
    out += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group) + [sorted(group)[0]])

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_the_package_has_no_upward_import_no_cycle_and_no_private_use():
    assert problems(PACKAGE) == []


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "riskassess"
    for rel, text in {"__init__.py": "", "errors.py": "", "law/__init__.py": "",
                      "render/__init__.py": "", "cli/__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    return pkg


@pytest.mark.parametrize("files, expected", [
    ({"law/a.py": "def f():\n    from riskassess.render import b\n",
      "render/b.py": ""}, "riskassess/law/a.py:2: imports riskassess.render.b, a layer above it"),
    ({"law/a.py": "from riskassess.law.b import _secret\n", "law/b.py": "_secret = 1\n"},
     "riskassess/law/a.py:1: uses riskassess.law.b's private name _secret"),
    ({"law/a.py": "from riskassess.law import b\nx = b._secret\n", "law/b.py": ""},
     "riskassess/law/a.py:2: uses riskassess.law.b's private name _secret"),
    ({"law/a.py": "import riskassess.law.b\n",
      "law/b.py": "def f():\n    import riskassess.law.a\n"},
     "import cycle: riskassess.law.a -> riskassess.law.b -> riskassess.law.a"),
    ({"cli/a.py": "from riskassess import errors\nfrom riskassess.errors import __doc__\n"}, None),
])
def test_the_checker_sees_what_is_planted(tmp_path, files, expected):
    found = problems(_plant(tmp_path, files))
    assert found == ([expected] if expected else [])


def _third_party(folder: Path) -> set[str]:
    """The top-level names of every module a package imports that is not its own or the
    standard library's."""
    import sys

    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {n for n in found if n not in sys.stdlib_module_names and n != folder.name}


def test_every_package_the_code_imports_is_a_declared_dependency():
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower().replace("_", "-")
                for r in requirements}

    declared = names(project["dependencies"])
    dists = packages_distributions()
    for module in sorted(_third_party(PACKAGE)):
        assert {d.lower().replace("_", "-") for d in dists.get(module, [module])} & declared, \
            f"riskassess imports {module}, which pyproject.toml does not declare"
    tests = declared | names(project["optional-dependencies"]["test"])
    for module in sorted(_third_party(PACKAGE.parent / "tests") - {"riskassess", "conftest",
                                                                     "baselines", "serving"}):
        assert {d.lower().replace("_", "-") for d in dists.get(module, [module])} & tests, \
            f"the tests import {module}, which pyproject.toml does not declare"
