"""
Print how the running interpreter's installed packages differ from a lock file.

    python scripts/lock_diff.py ci/requirements-lock.txt

`scripts/matrix.sh newest` runs it when the suite fails: with the `locked` leg green, the
packages listed here are where to look. Exit status 0 when nothing differs, 1 otherwise.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions
from pathlib import Path


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def read_lock(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version.split(";", 1)[0].strip()
    return pins


def installed() -> dict[str, str]:
    found = {_name(dist.metadata["Name"]): dist.version for dist in distributions()}
    for tool in ("pip", "setuptools", "wheel", "daf-drf"):
        found.pop(tool, None)
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} LOCKFILE", file=sys.stderr)
        return 2
    locked, now = read_lock(Path(argv[1])), installed()
    rows = [
        (name, locked.get(name, "-"), now.get(name, "-"))
        for name in sorted(locked.keys() | now.keys())
        if locked.get(name) != now.get(name)
    ]
    if not rows:
        print(f"==> the installed packages are exactly {argv[1]}")
        return 0
    print(f"==> packages that differ from {argv[1]} (locked -> installed):")
    width = max(len(name) for name, _, _ in rows)
    for name, was, is_ in rows:
        print(f"    {name:<{width}}  {was} -> {is_}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
