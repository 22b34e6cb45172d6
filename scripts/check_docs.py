"""
Check that the reference pages of the docs cover what the code defines.

- every key of `DEFAULTS` in daf_drf/settings.py has a `### KEY` section in docs/settings.md;
- every system check id (`daf_drf.E001`, `daf_drf.W060`, ...) written in daf_drf/ appears in
  docs/checks.md, and docs/checks.md lists no id the code does not define.

Run by `make docs` before `mkdocs build --strict`. Reads the sources with `ast` and regular
expressions, so it needs neither Django nor a settings module.
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


def main() -> int:
    problems: list[str] = []

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
