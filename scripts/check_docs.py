"""
Check that the reference pages of the docs cover what the code defines.

- every key of `DEFAULTS` in daf_drf/settings.py has a `### KEY` section in docs/settings.md;
- every system check id (`daf_drf.E001`, `daf_drf.W060`, ...) written in daf_drf/ appears in
  docs/checks.md, and docs/checks.md lists no id the code does not define.

- every public module of daf_drf/ (no leading underscore) has a page in docs/reference/;
- with `--site DIR` (run by `make docs` after `mkdocs build --strict`): every name of every
  public module's `__all__` has its anchor (`id="daf_drf.module.Name"`) in the built API
  reference.

Run by `make docs` before and after `mkdocs build --strict`. Reads the sources with `ast` and
regular expressions, so it needs neither Django nor a settings module.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK_ID = re.compile(r"\bdaf_drf\.[EW]\d{3}\b")


def setting_names() -> list[str]:
    tree = ast.parse((ROOT / "daf_drf" / "settings.py").read_text())
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            first = node.targets[0]
            if isinstance(first, ast.Name):
                target, value = first.id, node.value
        if target == "DEFAULTS" and isinstance(value, ast.Dict):
            return [k.value for k in value.keys if isinstance(k, ast.Constant)]
    raise SystemExit("check_docs: no DEFAULTS dict found in daf_drf/settings.py")


def check_ids_in_code() -> set[str]:
    """Every string constant in daf_drf/ that is exactly a check id (docstrings are not)."""
    found: set[str] = set()
    for path in (ROOT / "daf_drf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CHECK_ID.fullmatch(node.value):
                    found.add(node.value)
    return found


def public_modules() -> dict[str, list[str]]:
    """Dotted name -> `__all__` (empty when it has none) of every public daf_drf module."""
    modules: dict[str, list[str]] = {}
    for path in sorted((ROOT / "daf_drf").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        names: list[str] = []
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                and isinstance(node.value, ast.List | ast.Tuple)
            ):
                names = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
        modules[".".join(parts)] = names
    return modules


def reference_page(module: str) -> Path:
    return ROOT / "docs" / "reference" / (module.removeprefix("daf_drf.").replace(".", "-") + ".md")


def check_reference(site: Path | None) -> list[str]:
    problems: list[str] = []
    for module, names in public_modules().items():
        if module == "daf_drf":
            continue
        page = reference_page(module)
        if not page.exists() or f"::: {module}" not in page.read_text():
            problems.append(f"docs/reference has no page with '::: {module}'")
            continue
        if site is None:
            continue
        built = site / "reference" / page.stem / "index.html"
        html = built.read_text() if built.exists() else ""
        for name in names:
            if f'id="{module}.{name}"' not in html:
                problems.append(f"the API reference does not document {module}.{name}")
    return problems


def main() -> int:
    problems: list[str] = []
    site = None
    if len(sys.argv) == 3 and sys.argv[1] == "--site":
        site = Path(sys.argv[2])
    problems.extend(check_reference(site))

    settings_page = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^###\s+`?([A-Z][A-Z0-9_]+)`?\s*$", settings_page, re.M))
    for name in setting_names():
        if name not in documented:
            problems.append(f"docs/settings.md has no '### {name}' section")

    checks_page = (ROOT / "docs" / "checks.md").read_text()
    listed = set(CHECK_ID.findall(checks_page))
    defined = check_ids_in_code()
    for check_id in sorted(defined - listed):
        problems.append(f"docs/checks.md does not list {check_id}")
    for check_id in sorted(listed - defined):
        problems.append(f"docs/checks.md lists {check_id}, which no check in daf_drf/ defines")

    for problem in problems:
        print(f"check_docs: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_docs: {len(documented)} settings and {len(defined)} check ids documented")
    if site is not None:
        count = sum(len(names) for names in public_modules().values())
        print(f"check_docs: the API reference documents all {count} public names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
