"""Static import graph of the repository (ast, nothing imported): which ``safealign`` modules a file imports.

Every import statement counts, at module level or inside a function (a lazy import runs when its function
does), except those under ``if TYPE_CHECKING:``, which never run. Importing ``a.b.c`` also imports the
packages ``a`` and ``a.b`` (their ``__init__`` runs first), except a module's own packages, which are
always imported before it. Modules are dotted names
(``safealign.poses.perturb``); a package is its ``__init__``.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def module_file(module: str) -> Path | None:
    """The source file of dotted ``module`` in the repository (``pkg/__init__.py`` for a package)."""
    base = REPO.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def module_name(path: Path) -> str:
    """The dotted name of a repository source file."""
    parts = list(path.resolve().relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def _targets(node: ast.AST, importer: str, roots: tuple[str, ...]) -> list[str]:
    """Repository modules an import node names (``from pkg import sub`` names ``pkg.sub`` when it is a module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = importer.split(".")[: -node.level] if node.level else []
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{a.name}" if module_file(f"{base}.{a.name}") else base for a in node.names]
    else:
        return []
    out = []
    for name in names:
        if not name.split(".")[0] in roots:
            continue
        while name and module_file(name) is None:  # ``import a.b.attr`` style: the longest module prefix
            name = name.rpartition(".")[0]
        parts = name.split(".")
        chain = [".".join(parts[:n]) for n in range(1, len(parts) + 1)] if name else []
        out.extend(m for m in chain if module_file(m))  # parent packages run first (namespace ones: no file)
    return out


@lru_cache(maxsize=None)
def imports_of(module: str, roots: tuple[str, ...] = ("safealign", "stages", "flows")) -> frozenset[str]:
    """Repository modules that ``module`` imports directly (any depth of the file, not TYPE_CHECKING)."""
    path = module_file(module)
    if path is None:
        return frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found = {t for node in ast.walk(tree) if id(node) not in skipped for t in _targets(node, module, roots)}
    parts = module.split(".")
    own = {".".join(parts[:n]) for n in range(1, len(parts) + 1)}  # its packages are imported before it
    return frozenset(found - own)


def all_modules(package: str = "safealign") -> list[str]:
    """Every module of ``package`` (its ``__init__`` files included)."""
    return sorted(module_name(p) for p in REPO.joinpath(package).rglob("*.py"))


def closure(start: str, stop: frozenset[str] = frozenset()) -> set[str]:
    """Every repository module ``start`` reaches by imports, not descending into those in ``stop``."""
    seen, todo = set(), [start]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        if mod not in stop:
            todo.extend(imports_of(mod))
    return seen - {start}


def cycles(modules: list[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (each an import circle), sorted."""
    graph = {m: sorted(imports_of(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is small, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)
