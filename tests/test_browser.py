"""
The browsable API in a real browser: Debian's `chromium`, headless, driven over the DevTools
protocol, against uvicorn serving tests/browser_project (daf_drf's ASGI entry wrapped in
Django's `ASGIStaticFilesHandler`, as docs/deployment.md shows). The viewsets under test use
an `async def` `SerializerMethodField`, and one of them an `async def get_queryset`.

For each page the test records every network response of 400 or more, every failed load,
every uncaught JavaScript exception and every console error, and asks the page whether DRF's
stylesheets were applied. The server's own output must hold no traceback and no "never
awaited" warning. `scripts/ensure-chromium.sh` installs chromium where it can; elsewhere the
test skips and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import free_port, start, stop

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed here (scripts/ensure-chromium.sh installs "
        "it with apt-get where that is possible)",
    ),
]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
]


def _project_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.browser_project.settings",
        DAF_DRF_BROWSER_DB=str(db),
        PYTHONPATH=str(ROOT),
        # Report every coroutine left un-awaited, not only the first one per code location.
        PYTHONWARNINGS="always::RuntimeWarning",
    )
    return env


SEED = """
from tests.models import Author, Book
ann = Author.objects.create(name="Ann")
Book.objects.create(id=1, title="Dune", isbn="1", author=ann)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("browser-project")
    env = _project_env(tmp / "db.sqlite3")
    for args in (["migrate", "--run-syncdb", "-v", "0"], ["shell", "-c", SEED]):
        subprocess.run(
            [sys.executable, "-m", "django", *args], env=env, cwd=ROOT, check=True, timeout=120
        )
    port = free_port()
    log = tmp / "server.log"
    argv = [sys.executable, "-m", "uvicorn", "tests.browser_project.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    with log.open("wb") as out:
        try:
            proc = start(
                argv, port, timeout=30, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()}") from None
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop(proc, sig=signal.SIGINT)


class DevTools:
    """A minimal DevTools protocol client: one page, its events kept in order."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(ws_url, max_size=None, open_timeout=10))
        self.last_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def call(self, method: str, timeout: float = 20, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            data = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if data.get("id") == self.last_id:
                assert "error" not in data, data
                return dict(data["result"])
            self.events.append(data)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            data = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            self.events.append(data)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    assert CHROMIUM is not None
    proc = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    devtools = None
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        ws_url = None
        while ws_url is None:
            assert time.monotonic() < deadline, "chromium did not start its DevTools server"
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "chromium exited"
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            ws_url = match.group(1) if match else None
        # Keep reading chromium's stderr so a chatty browser never blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        devtools = DevTools(ws_url)
        target = devtools.call("Target.createTarget", url="about:blank")["targetId"]
        devtools.session = devtools.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            devtools.call(f"{domain}.enable")
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        stop(proc)
        if proc.stderr is not None:
            proc.stderr.close()


def _is_favicon(params: dict[str, Any]) -> bool:
    # Chromium asks for /favicon.ico on its own; the project has none, as startproject's.
    url = params.get("response", params.get("entry", {})).get("url", "")
    return str(url).endswith("/favicon.ico")


def _problems(events: list[dict[str, Any]]) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if _is_favicon(params):
            continue
        if method == "Network.responseReceived" and params["response"]["status"] >= 400:
            problems.append(f"{params['response']['status']} {params['response']['url']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"load failed: {params.get('errorText')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            problems.append(f"console: {params['entry']['text']}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            problems.append(f"console.error: {params.get('args')}")
    return problems


def _statuses(events: list[dict[str, Any]], resource: str) -> list[tuple[int, str]]:
    return [
        (e["params"]["response"]["status"], e["params"]["response"]["url"])
        for e in events
        if e.get("method") == "Network.responseReceived" and e["params"].get("type") == resource
    ]


# The page applies DRF's bootstrap stylesheet: it has rules, and the navbar is styled by it.
STYLED = """(() => {
  const sheets = Array.from(document.styleSheets).filter(
    s => s.href && s.href.includes('/static/rest_framework/css/bootstrap'));
  const rules = sheets.reduce((n, s) => n + s.cssRules.length, 0);
  const navbar = document.querySelector('.navbar');
  return {sheets: sheets.length, rules: rules,
          navbarPosition: navbar ? getComputedStyle(navbar).position : null,
          title: document.title, text: document.body.innerText};
})()"""


def _load(devtools: DevTools, url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    devtools.events.clear()
    devtools.call("Page.navigate", url=url)
    devtools.wait_for("Page.loadEventFired")
    page = devtools.evaluate(STYLED)
    time.sleep(0.2)  # late console messages of the load
    devtools.call("Runtime.evaluate", expression="1")  # drains pending events into the list
    return page, list(devtools.events)


def _assert_page_ok(page: dict[str, Any], events: list[dict[str, Any]], status: int) -> None:
    assert _problems(events) == []
    documents = _statuses(events, "Document")
    assert documents, "no document response"
    assert documents[-1][0] == status, documents
    assert page["sheets"] >= 1, "DRF's bootstrap stylesheet is not on the page"
    assert page["rules"] > 100, page["rules"]
    assert page["navbarPosition"] == "fixed", "the navbar is not styled by DRF's CSS"
    assert "coroutine" not in page["text"]


def _assert_server_clean(log: Path, since: int) -> None:
    output = log.read_bytes()[since:].decode()
    assert "Traceback" not in output, output
    assert "never awaited" not in output, output


@pytest.mark.parametrize("prefix", ["method-field-books", "async-qs-books"])
def test_list_and_detail_pages_load_with_their_stylesheet_and_no_error(
    server: tuple[str, Path], browser: DevTools, prefix: str
) -> None:
    base, log = server
    since = log.stat().st_size
    page, events = _load(browser, f"{base}/{prefix}/")
    _assert_page_ok(page, events, 200)
    assert "by Ann" in page["text"]
    page, events = _load(browser, f"{base}/{prefix}/1/")
    _assert_page_ok(page, events, 200)
    assert "by Ann" in page["text"]
    # The PUT form's raw data tab holds the awaited method field, not a coroutine.
    raw = browser.evaluate(
        "document.querySelector('#put-generic-content-form textarea[name=_content]').value"
    )
    assert json.loads(raw)["author_name"] == "by Ann"
    _assert_server_clean(log, since)


FILL_AND_SUBMIT = """(() => {
  const form = document.querySelector('#post-object-form form');
  form.querySelector('[name=title]').value = %(title)s;
  form.querySelector('[name=isbn]').value = %(isbn)s;
  form.querySelector('[name=pages]').value = '7';
  form.querySelector('[name=author]').value = '1';
  form.submit();
  return true;
})()"""


@pytest.mark.parametrize(
    ("prefix", "isbn"),
    [("method-field-books", "20"), ("async-qs-books", "21")],
)
def test_the_html_post_form_creates_an_object_and_renders_the_201(
    server: tuple[str, Path], browser: DevTools, prefix: str, isbn: str
) -> None:
    base, log = server
    since = log.stat().st_size
    page, events = _load(browser, f"{base}/{prefix}/")
    _assert_page_ok(page, events, 200)
    browser.events.clear()
    title = f"Posted {isbn}"
    assert browser.evaluate(
        FILL_AND_SUBMIT % {"title": json.dumps(title), "isbn": json.dumps(isbn)}
    )
    browser.wait_for("Page.loadEventFired")
    page = browser.evaluate(STYLED)
    browser.call("Runtime.evaluate", expression="1")
    events = list(browser.events)
    _assert_page_ok(page, events, 201)
    assert "HTTP 201 Created" in page["text"]
    assert title in page["text"]
    assert "by Ann" in page["text"]
    _assert_server_clean(log, since)
