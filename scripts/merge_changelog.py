"""
Fold the changelog fragments in `CHANGELOG.d/*.md` into the `[Unreleased]` section of
CHANGELOG.md (CONTRIBUTING.md, "Changelog").

Each note file holds bullets under Keep a Changelog headings, at any heading level:

    ### Added
    - `daf_drf.throttling`: ...
      continuation lines are indented.
    ### Fixed
    - ...

The script keeps every bullet already in `## [Unreleased]`, adds each fragment's bullets under
its heading (Added, Changed, Deprecated, Removed, Fixed, Security, in that order), and drops
exact duplicates, so running it twice changes nothing. The rest of CHANGELOG.md (its preamble
and released sections) is kept. Delete the fragments once they are folded and committed.

    python scripts/merge_changelog.py [--check]

`--check` prints the merged section and exits 1 if CHANGELOG.md is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "CHANGELOG.d"
CHANGELOG = ROOT / "CHANGELOG.md"
KINDS = ["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"]
HEADING = re.compile(r"^#{1,6}\s+(\w+)\s*:?\s*$|^(\w+):\s*$")
UNRELEASED = re.compile(r"^## \[Unreleased\].*$", re.M)
NEXT_RELEASE = re.compile(r"^## \[", re.M)


def parse(text: str, source: str) -> dict[str, list[str]]:
    """Return the bullets of one note file by kind; a bullet keeps its continuation lines."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    kind = "Added"
    bullet: list[str] | None = None

    def flush() -> None:
        nonlocal bullet
        if bullet:
            found[kind].append("\n".join(line.rstrip() for line in bullet).rstrip())
        bullet = None

    for line in text.splitlines():
        match = HEADING.match(line.strip()) if not line.startswith((" ", "\t")) else None
        if match:
            flush()
            word = (match.group(1) or match.group(2)).capitalize()
            if word in KINDS:
                kind = word
            else:
                print(f"merge_changelog: {source}: unknown heading {line!r}, using {kind}",
                      file=sys.stderr)
            continue
        if line.startswith(("- ", "* ")):
            flush()
            bullet = ["- " + line[2:].strip()]
        elif bullet is not None and line.strip():
            bullet.append("  " + line.strip())
        elif not line.strip():
            flush()
    flush()
    return found


def merged_section(current: str) -> str:
    merged: dict[str, list[str]] = {kind: [] for kind in KINDS}
    sources = [("CHANGELOG.md", current)]
    sources += [(path.name, path.read_text()) for path in sorted(NOTES.glob("*.md"))]
    for name, text in sources:
        for kind, bullets in parse(text, name).items():
            for entry in bullets:
                if entry not in merged[kind]:
                    merged[kind].append(entry)
    parts = []
    for kind in KINDS:
        if merged[kind]:
            parts.append(f"### {kind}\n\n" + "\n".join(merged[kind]) + "\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = CHANGELOG.read_text()
    head = UNRELEASED.search(text)
    if head is None:
        print("merge_changelog: CHANGELOG.md has no '## [Unreleased]' heading", file=sys.stderr)
        return 1
    rest = NEXT_RELEASE.search(text, head.end())
    tail = text[rest.start():] if rest else ""
    section = merged_section(text[head.end() : rest.start() if rest else len(text)])
    new = text[: head.end()] + "\n\n" + section + ("\n" + tail if tail else "")
    if "--check" in argv:
        print(section)
        return 0 if new == text else 1
    CHANGELOG.write_text(new)
    count = section.count("\n- ")
    print(f"merge_changelog: {count} entries from {len(list(NOTES.glob('*.md')))} note files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
