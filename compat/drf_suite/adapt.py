"""
The adaptation of DRF's test modules to async views (the recipe; no DRF code lives here).

It does to DRF's tests what docs/migration.md tells a project to do, and nothing else:

- imports of the view layer and its policies move to daf_drf: `rest_framework.views`,
  `generics`, `viewsets`, `mixins`, `decorators`, `permissions`, `throttling`,
  `authentication`, `exceptions` become the daf_drf modules of the same name (names daf_drf
  does not define are DRF's, re-exported);
- handlers become `async def`: the HTTP-method handlers of every view class (a class built on
  the swapped view modules, or on another such class of the module), every function under
  `@api_view`, `@action` or `@<action>.mapping.<method>`;
- for the ASGI run, `APIRequestFactory` is daf_drf's `AsyncAPIRequestFactory`, so every
  request the tests build is an `ASGIRequest`; the WSGI run keeps DRF's factory.

The tests themselves (assertions, direct `view(request)` calls from sync test methods,
`APIClient`) are not touched.
"""

from __future__ import annotations

import ast
from pathlib import Path

import daf_drf

SWAPPED_MODULES = {
    "views",
    "generics",
    "viewsets",
    "mixins",
    "decorators",
    "permissions",
    "throttling",
    "authentication",
    "exceptions",
}
VIEW_MODULES = {"views", "generics", "viewsets", "mixins"}
HANDLERS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


def adapt_source(source: str, *, asgi: bool) -> str:
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    # (line index, col) -> text inserted there; (start, end) line ranges -> replacement.
    inserts: dict[tuple[int, int], str] = {}
    replaced: dict[tuple[int, int], str] = {}
    view_names: set[str] = set()  # names bound to daf_drf view classes or view modules

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.col_offset == 0:
            new = adapt_import(node, asgi=asgi, view_names=view_names)
            if new is not None:
                replaced[(node.lineno - 1, node.end_lineno or node.lineno)] = new

    # Classes built on the view layer, to a fixpoint (a class may derive from another).
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name in view_names:
                continue
            for base in cls.bases:
                name = dotted(base)
                if name in view_names or name.split(".")[0] in view_names:
                    view_names.add(cls.name)
                    changed = True
                    break
    for cls in classes:
        if cls.name not in view_names:
            continue
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name in HANDLERS:
                inserts[(item.lineno - 1, item.col_offset)] = "async "
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and is_handler_function(node):
            inserts[(node.lineno - 1, node.col_offset)] = "async "

    for (row, col), text in inserts.items():
        line = lines[row]
        assert line[col:].startswith("def "), (row, line)
        lines[row] = line[:col] + text + line[col:]
    for (start, end), text in sorted(replaced.items(), reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def is_handler_function(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        name = dotted(decorator)
        if name in ("api_view", "action") or ".mapping." in name:
            return True
    return False


def adapt_import(node: ast.ImportFrom, *, asgi: bool, view_names: set[str]) -> str | None:
    module = node.module or ""
    names = [(alias.name, alias.asname) for alias in node.names]

    def spell(pairs: list[tuple[str, str | None]]) -> str:
        return ", ".join(
            name if asname is None else f"{name} as {asname}" for name, asname in pairs
        )

    if module == "rest_framework":
        ours = [pair for pair in names if pair[0] in SWAPPED_MODULES]
        if not ours:
            return None
        theirs = [pair for pair in names if pair[0] not in SWAPPED_MODULES]
        view_names.update(asname or name for name, asname in ours if name in VIEW_MODULES)
        text = f"from daf_drf import {spell(ours)}\n"
        if theirs:
            text = f"from rest_framework import {spell(theirs)}\n" + text
        return text
    head, _, tail = module.partition(".")
    if head == "rest_framework" and tail in SWAPPED_MODULES:
        exported = daf_drf_exports(tail)
        # DRF's private helpers (`_get_error_details`) stay DRF's: a project does not swap them.
        ours = [pair for pair in names if pair[0] in exported]
        theirs = [pair for pair in names if pair[0] not in exported]
        if tail in VIEW_MODULES:
            view_names.update(asname or name for name, asname in ours if name[0].isupper())
        text = f"from daf_drf.{tail} import {spell(ours)}\n" if ours else ""
        if theirs:
            text += f"from {module} import {spell(theirs)}\n"
        return text
    if module == "rest_framework.test" and asgi:
        pairs = [
            ("AsyncAPIRequestFactory", asname or name)
            if name == "APIRequestFactory"
            else (name, asname)
            for name, asname in names
        ]
        return f"from daf_drf.test import {spell(pairs)}\n"
    return None


def daf_drf_exports(module: str) -> set[str]:
    """The `__all__` of a daf_drf module, read from its source (no Django needed)."""
    source = (Path(daf_drf.__file__).parent / f"{module}.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"daf_drf.{module} has no __all__")


def adapt_tree(tests_dir: Path, modules: tuple[str, ...], *, asgi: bool) -> None:
    for name in modules:
        path = tests_dir / name
        path.write_text(adapt_source(path.read_text(), asgi=asgi))


# DRF's tests of the view layer and its policies.
MODULES = (
    "tests/test_throttling.py",
    "tests/test_permissions.py",
    "tests/test_views.py",
    "tests/test_decorators.py",
    "tests/test_exceptions.py",
)
