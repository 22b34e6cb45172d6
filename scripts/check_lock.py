"""
Check that the installed environment satisfies daf_drf's requirements and the given extras.

    python scripts/check_lock.py test

The locked CI leg installs exactly `ci/requirements-lock.txt` and daf_drf with `--no-deps`, so a
test dependency added to pyproject.toml but not to the lock would only show up as an import
error somewhere in the suite. This names it at install time instead, with the fix.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement


def missing(extras: list[str]) -> list[str]:
    problems = []
    for line in metadata.requires("daf_drf") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        wanted = marker is None or marker.evaluate({"extra": ""}) or any(
            marker.evaluate({"extra": extra}) for extra in extras
        )
        if not wanted:
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement} (not installed)")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} (installed: {version})")
    return problems


def main() -> int:
    problems = missing(sys.argv[1:])
    for problem in problems:
        print(f"error: the lock does not satisfy {problem}", file=sys.stderr)
    if problems:
        print(
            "Refresh ci/requirements-lock.txt from a green `scripts/matrix.sh newest` "
            "(docs/installation.md), in a commit of its own.",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
