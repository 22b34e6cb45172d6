"""
Fetch a package's sdist, migrate a copy to daf_drf, run its own suite on both copies.

The sdist is downloaded from the package index with `pip download --no-deps --no-binary
:all:` into `.tmp/real-projects/` (outside git; reused by later runs) and extracted twice:
one copy is left as published (the DRF run, the oracle), the other gets the recipe's edits
(the daf_drf run). Both suites run in a subprocess with the same interpreter, the same
installed packages and the same pytest options, each writing a JUnit report; the outcome of
every test is compared.

An edit is an exact text replacement that must match exactly as often as the recipe says:
when a new release of the package changes the code, the recipe fails loudly instead of
silently migrating less.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".tmp" / "real-projects"


@dataclass(frozen=True)
class Edit:
    """Replace `old` by `new` in `path` (relative to the sdist's root), exactly `count` times."""

    path: str
    old: str
    new: str
    count: int = 1


@dataclass(frozen=True)
class AddFile:
    """A file the sdist does not ship but its suite needs to run (in both copies)."""

    path: str
    text: str


@dataclass(frozen=True)
class Recipe:
    """How one package's suite is migrated and run."""

    package: str  # the name on the package index
    version: str
    edits: tuple[Edit, ...]
    # The pytest arguments of the suite (paths, options), run from the sdist's root.
    pytest_args: tuple[str, ...]
    # Files both copies need (a test settings module the sdist does not ship, say).
    harness: tuple[AddFile, ...] = ()
    # node id -> why it passes on DRF and not on daf_drf. Each one must really fail on
    # daf_drf: a stale entry fails the comparison.
    exceptions: dict[str, str] = field(default_factory=dict)
    # At least this many tests must pass on DRF (the suite really ran).
    min_passed: int = 1
    # A migration step that text edits cannot express (run after the edits, on the tree).
    adapt: Callable[[Path], None] | None = None
    # Paths removed from both copies (a package's own source that must not shadow the
    # installed one, say).
    drop: tuple[str, ...] = ()
    # Extracted members: only those under these prefixes (all when empty).
    members: tuple[str, ...] = ()
    # Tells two runs of one package apart (their trees live side by side).
    variant: str = ""

    @property
    def slug(self) -> str:
        return f"{self.package}-{self.version}" + (f"-{self.variant}" if self.variant else "")

    @property
    def release(self) -> str:
        return f"{self.package}-{self.version}"


@dataclass
class SuiteRun:
    outcomes: dict[str, str]  # node id -> "passed" | "failed" | "skipped"
    returncode: int
    output: str
    dispatched: int  # requests daf_drf's APIView.dispatch served
    asgi_requests: int  # how many of them were ASGIRequests

    def with_outcome(self, outcome: str) -> set[str]:
        return {test for test, seen in self.outcomes.items() if seen == outcome}


def fetch(recipe: Recipe) -> Path:
    """The sdist archive, downloaded once from the package index."""
    CACHE.mkdir(parents=True, exist_ok=True)
    normalized = recipe.package.replace("-", "_").lower()
    for candidate in CACHE.glob("*.tar.gz"):
        stem = candidate.name[: -len(".tar.gz")].replace("-", "_").lower()
        if stem == f"{normalized}_{recipe.version}":
            return candidate
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--disable-pip-version-check", "-q", f"{recipe.package}=={recipe.version}",
         "-d", str(CACHE)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    for candidate in CACHE.glob("*.tar.gz"):
        stem = candidate.name[: -len(".tar.gz")].replace("-", "_").lower()
        if stem == f"{normalized}_{recipe.version}":
            return candidate
    raise RuntimeError(f"could not download the sdist of {recipe.release}:\n{done.stderr}")


def extract(recipe: Recipe, side: str) -> Path:
    """A fresh copy of the sdist's tree under `.tmp/real-projects/<slug>/<side>/`."""
    archive = fetch(recipe)
    target = CACHE / recipe.slug / side
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        members = [
            member
            for member in tar.getmembers()
            if not recipe.members or member.name.partition("/")[2].startswith(recipe.members)
        ]
        tar.extractall(target, members=members, filter="data")
    (tree,) = [path for path in target.iterdir() if path.is_dir()]
    for dropped in recipe.drop:
        shutil.rmtree(tree / dropped, ignore_errors=True)
    # Published sdists sometimes ship bytecode; it must not stand in for the edited source.
    for cached in tree.rglob("__pycache__"):
        shutil.rmtree(cached)
    for added in recipe.harness:
        destination = tree / added.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(added.text)
    return tree


def migrate(recipe: Recipe, tree: Path) -> None:
    """Apply the recipe's edits; each must match exactly as often as it says."""
    for edit in recipe.edits:
        path = tree / edit.path
        text = path.read_text()
        found = text.count(edit.old)
        if found != edit.count:
            raise AssertionError(
                f"{recipe.slug}: {edit.path}: expected {edit.count} occurrence(s) of "
                f"{edit.old!r}, found {found}; the recipe needs updating"
            )
        path.write_text(text.replace(edit.old, edit.new))
    if recipe.adapt is not None:
        recipe.adapt(tree)


def run_suite(recipe: Recipe, tree: Path) -> SuiteRun:
    report = tree / "junit.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT)])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # The suites run on their own SQLite databases (DRF's conftest would follow DATABASE_URL).
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
         "-p", "compat.real_projects.probe",
         # A coroutine that nobody awaits is an error in both runs.
         "-W", "error:coroutine:RuntimeWarning",
         f"--rootdir={tree}", f"--junitxml={report}", "-q", *recipe.pytest_args],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    if not (tree / "pytest.ini").exists() and not (tree / "tox.ini").exists():
        # Without a configuration of its own, pytest would read daf_drf's pyproject.toml.
        raise AssertionError(f"{recipe.slug}: no pytest configuration in the tree; add one")
    if not report.exists():
        raise AssertionError(f"{recipe.slug}: pytest wrote no report:\n{output[-4000:]}")
    served = re.search(r"^DAF_DRF_DISPATCHED=(\d+) ASGI=(\d+)$", output, re.MULTILINE)
    if served is None:
        raise AssertionError(f"{recipe.slug}: the probe did not report:\n{output[-4000:]}")
    return SuiteRun(
        read_junit(report), done.returncode, output, int(served.group(1)), int(served.group(2))
    )


def read_junit(report: Path) -> dict[str, str]:
    """node id -> outcome; a test reported several times (subtests) fails if one part did."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        module_and_class = case.get("classname", "")
        test = f"{module_and_class}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        outcomes[test] = max(outcome, outcomes.get(test, "skipped"), key=RANK.__getitem__)
    return outcomes


RANK = {"skipped": 0, "passed": 1, "failed": 2}


@dataclass
class Comparison:
    drf: SuiteRun
    daf: SuiteRun
    regressions: set[str]  # pass on DRF, not on daf_drf, undocumented
    stale_exceptions: set[str]  # documented, but they pass on daf_drf (or fail on DRF)


def compare(recipe: Recipe) -> Comparison:
    drf_tree = extract(recipe, "drf")
    daf_tree = extract(recipe, "daf_drf")
    migrate(recipe, daf_tree)
    # The two runs are independent processes on separate trees: run them side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        drf_run = pool.submit(run_suite, recipe, drf_tree)
        daf_run = pool.submit(run_suite, recipe, daf_tree)
        drf, daf = drf_run.result(), daf_run.result()
    passed_on_drf = drf.with_outcome("passed")
    not_passed_on_daf = passed_on_drf - daf.with_outcome("passed")
    regressions = not_passed_on_daf - set(recipe.exceptions)
    stale = set(recipe.exceptions) - not_passed_on_daf
    return Comparison(drf, daf, regressions, stale)


def summary(run: SuiteRun) -> str:
    counts = {o: len(run.with_outcome(o)) for o in ("passed", "failed", "skipped")}
    return ", ".join(f"{n} {o}" for o, n in counts.items())
