"""The package's shape: imports flow one way, and no module reaches into another's privates.

Read with ``ast`` from the source files, so the test sees every import, at the top of a
module or inside a function, exactly as a reader of the code does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import minibigram

PACKAGE = Path(minibigram.__file__).parent
MODULES = {f.stem: f for f in PACKAGE.glob("*.py")}


def imports(module: str) -> list[tuple[str, str, int]]:
    """``(target module, imported name, line)`` for each import in ``module``'s source;
    ``target`` is a sibling module's name, or the dotted module for an outside import.
    Imports under ``if TYPE_CHECKING:`` are for type checkers only and do not run."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    typing_only = {id(node) for n in ast.walk(tree)
                   if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
                   for b in n.body for node in ast.walk(b)}
    out = []
    for n in ast.walk(tree):
        if id(n) in typing_only:
            continue
        if isinstance(n, ast.Import):
            out += [(a.name, a.name.rsplit(".", 1)[-1], n.lineno) for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            if n.level == 0:
                out += [(n.module or "", a.name, n.lineno) for a in n.names]
            elif n.module:   # from .x import name
                out += [(n.module.split(".")[0], a.name, n.lineno) for a in n.names]
            else:            # from . import x (a module) or a name of the package
                out += [(a.name if a.name in MODULES else "__init__", a.name, n.lineno)
                        for a in n.names]
    return out


def graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``edges`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state and (found := visit(t, path + [t])):
                return found
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m, [m])):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    # the checker can fail: a made-up graph with a loop through three modules
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_the_package():
    assert find_cycle(graph()) is None


def test_no_module_imports_a_private_name():
    private = [f"{m}.py:{line} imports {name} from {target}"
               for m in MODULES for target, name, line in imports(m)
               if name.startswith("_") and not name.startswith("__")
               or any(part.startswith("_") and not part.startswith("__")
                      for part in target.split("."))]
    assert private == []


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for t in edges[todo.pop()] - seen:
            seen.add(t)
            todo.append(t)
    return seen


def test_model_files_import_the_models_never_the_reverse():
    edges = graph()
    assert "models" in reachable(edges, "modelfiles")
    assert "modelfiles" not in reachable(edges, "models")


def test_safe_writing_is_one_module_that_imports_no_model():
    edges = graph()
    assert {"models", "modelfiles", "export", "plot"} & reachable(edges, "safewrite") == set()
    # model files, exports and figures all write through it
    assert all("safewrite" in reachable(edges, m) for m in ("models", "export", "plot"))


def test_the_command_line_imports_no_numpy():
    assert [t for t, _, _ in imports("cli") if t.split(".")[0] == "numpy"] == []
