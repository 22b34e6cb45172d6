"""
The distribution a user installs: the sdist and the wheel built as `make dist` builds them
(`python -m build`, the wheel from the sdist), checked by `twine check --strict`, and the wheel
installed into a fresh virtualenv where a `startproject` with daf_drf passes `manage.py check`.

The fresh virtualenv gets Django, DRF, asgiref and redis-py from the package index, pinned to
the versions of the running environment so the result is about daf_drf's packaging and not a
newer release of a dependency.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(600)


def _clean_env() -> dict[str, str]:
    # The fresh project must not see this suite's settings module or import path.
    hidden = {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    return {key: value for key, value in os.environ.items() if key not in hidden}


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_clean_env(),
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, timeout=400)
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_twine_check_passes_on_sdist_and_wheel(dist: Path) -> None:
    output = _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert output.count("PASSED") == 2, output


def test_sdist_holds_only_the_include_list(dist: Path) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes = config["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert all(entry.startswith("/") for entry in includes), "unanchored sdist include"
    allowed = {entry.lstrip("/") for entry in includes} | {"PKG-INFO"}
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = [
            member.name.split("/", 1)[1] for member in sdist.getmembers() if "/" in member.name
        ]
    top = {name.split("/", 1)[0] for name in names}
    assert top <= allowed, sorted(top - allowed)
    # What distributors need to run the suite and build the docs is there.
    for needed in ("tests/settings.py", "docs/index.md", "mkdocs.yml", "LICENSE", "README.md"):
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_has_the_package_and_project_urls(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        names = wheel.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = wheel.read(metadata).decode()
    assert {n.split("/", 1)[0] for n in names if not n.startswith("daf_drf-")} == {"daf_drf"}
    assert "daf_drf/py.typed" in names
    urls = {
        line.split(": ", 1)[1].split(", ", 1)[0]
        for line in text.splitlines()
        if line.startswith("Project-URL: ")
    }
    assert urls == {"Documentation", "Source", "Changelog", "Issues"}
    # The README is the index page's description: its links must not be relative.
    assert "](docs/" not in text
    assert "](SECURITY.md)" not in text


SETTINGS_TAIL = """
INSTALLED_APPS += ["rest_framework", "daf_drf"]
"""

URLS = """
from django.urls import path
from rest_framework.response import Response

from daf_drf.views import APIView


class Ping(APIView):
    async def get(self, request):
        return Response({"pong": True})


urlpatterns = [path("ping/", Ping.as_view())]
"""


def test_wheel_installs_into_a_fresh_venv_and_a_startproject_passes_check(
    dist: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    pins = [
        f"Django=={version('Django')}",
        f"djangorestframework=={version('djangorestframework')}",
    ]
    _run(
        python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
        _one(dist, "*.whl"), *pins,
        timeout=400,
    )  # fmt: skip
    # The installed package is the wheel's, not this checkout's.
    where = _run(python, "-c", "import daf_drf, sys; print(daf_drf.__file__)", cwd=tmp_path)
    assert where.startswith(str(venv)), where

    project = tmp_path / "proj"
    project.mkdir()
    _run(venv / "bin" / "django-admin", "startproject", "mysite", project)
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS_TAIL)
    (project / "mysite" / "urls.py").write_text(URLS)
    output = _run(python, "manage.py", "check", "--fail-level", "WARNING", cwd=project)
    assert "System check identified no issues" in output
