"""The package's own imports: all at the top of each module, and no circle among them.

A function-level import of a crisis module hides an edge of the import graph; one is allowed only
with a comment on the same line or the line above naming the circle it breaks (or, in the app
factory, why it waits for create_app).
"""

from __future__ import annotations

import ast
from pathlib import Path

import crisis

PACKAGE_ROOT = Path(crisis.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def crisis_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def imported_names(node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> list[str]:
    """Return the crisis modules an import statement loads (a `from m import sub` counts `m.sub`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "crisis"]
    if node.level or not node.module or node.module.split(".")[0] != "crisis":
        return []
    found = [node.module]
    found += [f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in modules]
    return found


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Return the imports a module runs when it is imported (not those under TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If | ast.Try) and not is_type_checking_block(node):
            pending.extend(ast.iter_child_nodes(node))
    return found


def function_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [node for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)]
    return found


def explained(node: ast.AST, lines: list[str], imports: list[ast.Import | ast.ImportFrom]) -> bool:
    """Return whether an import has a comment on its line, or above the run of imports it ends."""
    ends = {other.end_lineno: other for other in imports}
    first = node
    while first.lineno - 1 in ends:
        first = ends[first.lineno - 1]
    return "#" in lines[node.lineno - 1] or lines[first.lineno - 2].strip().startswith("#")


def test_no_function_level_import_of_a_crisis_module_without_a_reason():
    modules = crisis_modules()
    unexplained = []
    for path in modules.values():
        lines = path.read_text().splitlines()
        imports = function_level_imports(ast.parse(path.read_text()))
        for node in imports:
            if imported_names(node, modules) and not explained(node, lines, imports):
                unexplained.append(f"{path.relative_to(PACKAGE_ROOT.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert unexplained == [], "function-level imports with no comment naming the circle they break"


def import_graph() -> dict[str, set[str]]:
    modules = crisis_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in top_level_imports(ast.parse(path.read_text())):
            targets.update(target for target in imported_names(node, modules) if target in modules)
        targets.discard(name)
        graph[name] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_among_crisis_modules():
    """Whatever order the modules are first imported in, none finds another half-initialised.

    A package's __init__ that re-exports its submodules counts as importing them, so a submodule
    importing its own package's __init__ would show here as a circle too.
    """
    assert circles(import_graph()) == []
