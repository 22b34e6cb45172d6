"""
docs/tutorial.md, run as written: every fenced block, in order, in a fresh directory.

- A `python` block whose title is a path writes that file; a title ending in ", at the end"
  appends to it.
- A `bash` block runs as one `bash -euo pipefail` script in the project directory, with this
  interpreter's `bin/` first on `PATH` (so `python`, `django-admin` and `uvicorn` are the ones
  of this environment) and `REDIS_URL` naming the test run's throwaway redis-server.
- The environment lines of the install block (`python -m venv`, `source`, `pip install`) are
  not run: the test runs in an environment that has daf_drf; it checks instead that every
  package the block installs is installed here.
- A block that starts `uvicorn` starts it in the background, on a free port that replaces
  8000 in every later block, and waits until it listens; the test stops it at the end.

Then the README's before/after example runs in the same project: the "before" (DRF) and the
"after" (daf_drf) views answer the same requests identically under `manage.py test`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from tests.support.processes import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.M | re.S)
ENVIRONMENT_LINE = re.compile(r"^(python -m venv|source |pip install )")

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(400)]


def blocks(markdown: str) -> list[tuple[str, str, str]]:
    """(language, title, code) of every fenced block, in order."""
    found = []
    for lang, info, code in FENCE.findall(markdown):
        title = re.search(r'title="([^"]+)"', info)
        found.append((lang, title.group(1) if title else "", code))
    return found


def _env(redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["REDIS_URL"] = redis_url
    env["PYTHONWARNINGS"] = "always::RuntimeWarning"
    return env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> tuple[str, str]:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert "never awaited" not in done.stderr, done.stderr
    return done.stdout, done.stderr


def _check_installed(line: str) -> None:
    for requirement in shlex.split(line)[2:]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0]
        try:
            version(name)
        except PackageNotFoundError:  # pragma: no cover - the failure message
            pytest.fail(f"the tutorial installs {name}, which this environment lacks")


def test_the_tutorial_runs_as_written(tmp_path: Path, redis_url: str) -> None:
    project = tmp_path / "tutorial"
    project.mkdir()
    env = _env(redis_url)
    port = "8000"
    server: subprocess.Popen[bytes] | None = None
    server_log = tmp_path / "uvicorn.log"
    outputs: list[tuple[str, str]] = []
    try:
        for lang, title, code in blocks((ROOT / "docs" / "tutorial.md").read_text()):
            code = code.replace("8000", port)
            if lang == "python":
                assert title, f"a python block without a file title:\n{code}"
                path, _, how = title.partition(", ")
                target = project / path
                if how == "at the end":
                    target.write_text(target.read_text() + "\n" + code)
                else:
                    assert not how, title
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(code)
            elif lang == "bash" and code.startswith("uvicorn "):
                port = str(free_port())
                command = shlex.split(code.replace("8000", port))
                with server_log.open("wb") as out:
                    server = subprocess.Popen(
                        command, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                try:
                    wait_for_port(int(port), timeout=30, proc=server)
                except RuntimeError as exc:
                    raise AssertionError(f"{exc}\n{server_log.read_text()}") from None
            elif lang == "bash":
                lines = code.splitlines()
                for line in lines:
                    if ENVIRONMENT_LINE.match(line) and line.startswith("pip install "):
                        _check_installed(line)
                script = "\n".join(line for line in lines if not ENVIRONMENT_LINE.match(line))
                if script.strip():
                    outputs.append(_bash(script, project, env))
    finally:
        if server is not None:
            stop(server, sig=signal.SIGINT)
    assert server is not None, "the tutorial starts no server"
    # The last block: the created book, the list, and the stylesheet served.
    created, listed, css = outputs[-1][0].splitlines()
    assert json.loads(created)["owner"] == "ann"
    assert [book["title"] for book in json.loads(listed)["results"]] == ["Dune"]
    assert css == "200 text/css"
    log = server_log.read_text()
    assert "Traceback" not in log, log
    assert "never awaited" not in log, log
    # `manage.py test library` ran the tutorial's four tests (unittest reports on stderr).
    assert any("Ran 4 tests" in stderr for _, stderr in outputs)


# The README's example names `Order` and `OrderSerializer`; this app provides them.
ORDERS_APP = {
    "orders/__init__.py": "",
    "orders/models.py": """
from django.conf import settings
from django.db import models


class Order(models.Model):
    sku = models.CharField(max_length=20)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        ordering = ["id"]
""",
    "orders/serializers.py": """
from rest_framework import serializers

from .models import Order


class OrderSerializer(serializers.ModelSerializer):
    owner = serializers.ReadOnlyField(source="owner.username")

    class Meta:
        model = Order
        fields = ["id", "sku", "owner"]
""",
    "orders/urls.py": """
from django.urls import path

from . import views_after, views_before

urlpatterns = [
    path("before/", views_before.OrderList.as_view()),
    path("after/", views_after.OrderList.as_view()),
]
""",
    "orders/tests.py": """
from django.contrib.auth.models import User
from django.test import TestCase

from daf_drf.test import AsyncAPIClient

from .models import Order


class BeforeAndAfterTests(TestCase):
    client_class = AsyncAPIClient

    @classmethod
    def setUpTestData(cls):
        cls.ann = User.objects.create_user("ann")
        bob = User.objects.create_user("bob")
        Order.objects.create(sku="A1", owner=cls.ann)
        Order.objects.create(sku="B1", owner=bob)

    async def answers(self):
        before = await self.client.get("/before/")
        after = await self.client.get("/after/")
        self.assertEqual(before.status_code, after.status_code)
        self.assertEqual(before.content, after.content)
        return after

    async def test_anonymous_requests_are_refused_alike(self):
        response = await self.answers()
        self.assertEqual(response.status_code, 403)

    async def test_a_user_sees_their_orders_alike(self):
        self.client.force_authenticate(self.ann)
        response = await self.answers()
        self.assertEqual(response.json(), [{"id": 1, "sku": "A1", "owner": "ann"}])
""",
}

ORDERS_SETTINGS = """
INSTALLED_APPS += ["rest_framework", "daf_drf", "orders"]
ROOT_URLCONF = "orders.urls"
"""


def before_and_after(markdown: str) -> tuple[str, str]:
    """The two versions of the first `diff` block of `markdown`."""
    diff = next(code for lang, _, code in blocks(markdown) if lang == "diff")
    before, after = [], []
    for line in diff.splitlines():
        mark, text = line[:1], line[1:]
        if mark in (" ", "-", ""):
            before.append(text)
        if mark in (" ", "+", ""):
            after.append(text)
    header = "from .models import Order\nfrom .serializers import OrderSerializer\n"
    return header + "\n".join(before) + "\n", header + "\n".join(after) + "\n"


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_the_before_and_after_example_answers_alike(
    tmp_path: Path, redis_url: str, page: str
) -> None:
    env = _env(redis_url)
    _bash("django-admin startproject mysite .", tmp_path, env)
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + ORDERS_SETTINGS)
    for name, code in ORDERS_APP.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(code)
    before, after = before_and_after((ROOT / page).read_text())
    assert "rest_framework.views import APIView" in before
    assert "daf_drf.views import APIView" in after
    assert "async def get" in after
    (tmp_path / "orders" / "views_before.py").write_text(before)
    (tmp_path / "orders" / "views_after.py").write_text(after)
    _bash("python manage.py makemigrations orders -v 0", tmp_path, env)
    _, stderr = _bash("python manage.py test orders", tmp_path, env)
    assert "Ran 2 tests" in stderr
