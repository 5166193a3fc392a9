"""The HTML report in a real browser: headless Chromium, driven over the DevTools protocol.

The page of a run with a failing backend must load without a JavaScript exception or a
console error; a click on a red cell must bring its failure block into view as the
URL's target, and its back link must lead to the cell; the filters must hide what they
filter; without script everything must be visible. A screenshot at 1280×900 is kept in
``reports/report-screenshot.png`` (CI keeps ``reports/``).

Chromium is driven through ``--remote-debugging-pipe`` (NUL-separated JSON on file
descriptors 3 and 4), so nothing beyond the standard library is needed. The test is
skipped, saying so, where no Chromium is installed; CI installs Debian's ``chromium`` and
sets ``CONFORMANCE_REQUIRE_BROWSER=1``, which turns that skip into a failure.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.frontends.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "reports" / "report-screenshot.png"
WIDTH, HEIGHT = 1280, 900
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
REQUIRED = "CONFORMANCE_REQUIRE_BROWSER"
"""Set (by ``.ci/run``): a missing browser fails the test instead of skipping it."""

BROKEN = '''
"""The LSTM cell's forget gate uses the input gate's weights."""
import numpy as np
from conformance import Backend, Kernel, hookimpl


def sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def cell(a):
    z = np.concatenate([a["h_prev"], a["x"]], axis=1)
    f = sigmoid(z @ a["W_i"].T + a["b_i"])  # wrong: should be W_f, b_f
    i = sigmoid(z @ a["W_i"].T + a["b_i"])
    g = np.tanh(z @ a["W_c"].T + a["b_c"])
    o = sigmoid(z @ a["W_o"].T + a["b_o"])
    c = f * a["c_prev"] + i * g
    return {"h": o * np.tanh(c), "c": c}


@hookimpl
def conformance_register_backends(register):
    register.add(Backend("swapped-forget", {"lstm.cell": Kernel(cell)}, version="0.0.1"))
'''


def chromium_binary() -> str | None:
    """The first Chromium-like browser on PATH, or ``$CHROMIUM`` when set."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class Chromium:
    """A headless Chromium and one page in it, spoken to over the DevTools pipe."""

    def __init__(self, binary: str, *, script: bool = True) -> None:
        self.profile = tempfile.mkdtemp(prefix="conformance-chromium-")
        commands_in, self._commands = os.pipe()
        self._replies, replies_out = os.pipe()
        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
            f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}",
            "--remote-debugging-pipe", "about:blank",
        ]  # fmt: skip
        devnull = os.open(os.devnull, os.O_RDWR)
        actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
        actions += [(os.POSIX_SPAWN_DUP2, commands_in, 3), (os.POSIX_SPAWN_DUP2, replies_out, 4)]
        self.pid = os.posix_spawn(binary, args, os.environ, file_actions=actions, setsid=True)
        for fd in (commands_in, replies_out, devnull):
            os.close(fd)
        self._buffer = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )
        if not script:
            self.call("Emulation.setScriptExecutionDisabled", {"value": True})

    def send(self, method: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        """Send one command and wait for its answer, keeping the events that come first."""
        self._id += 1
        ident = self._id
        message = {"id": ident, "method": method, "params": params or {}, **extra}
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._read(deadline)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A command to the page's session."""
        return self.send(method, params, sessionId=self.session)

    def wait_for(self, method: str) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + 30
        while True:
            event = self._read(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        """The value of ``expression`` in the page; a thrown exception fails the test."""
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def problems(self) -> list[str]:
        """JavaScript exceptions, console errors and browser log errors seen so far."""
        out = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(f"log: {params['entry'].get('text')}")
        return out

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element ``selector`` picks."""
        self.js(
            f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})"
        )
        box = self.js(
            f"(function () {{ var r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )
        time.sleep(0.2)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer within 30 s")
            ready, _, _ = select.select([self._replies], [], [], left)
            if ready:
                chunk = os.read(self._replies, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe (did it crash?)")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        """Ask the browser to quit; kill its process group (it has its own) if it lingers."""
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            os.write(
                self._commands, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0"
            )
        deadline = time.monotonic() + 5
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.05)
        os.close(self._commands)
        os.close(self._replies)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def binary() -> str:
    found = chromium_binary()
    if found is None:
        reason = (
            "no Chromium on PATH (tried " + ", ".join(CANDIDATES) + "; set $CHROMIUM): "
            "install it with `apt-get install -y chromium` to run the browser test"
        )
        if os.environ.get(REQUIRED):
            pytest.fail(f"{reason} (${REQUIRED} is set: CI must run it)")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of two reference backends and one with a swapped forget gate."""
    folder = tmp_path_factory.mktemp("browser")
    (folder / "swapped_forget.py").write_text(textwrap.dedent(BROKEN))
    path = folder / "report.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        code = main([
            "run", "--plugin", "swapped_forget",
            "--backend", "numpy-vectorized,fused-gate,swapped-forget",
            "--spec", "lstm.*", "--report", str(path),
        ])  # fmt: skip
    assert code == 1 and path.exists()
    return path


@pytest.fixture(scope="module")
def browser(binary: str):
    chromium = Chromium(binary)
    yield chromium
    chromium.close()


def test_page_loads_without_console_errors(browser: Chromium, page: Path) -> None:
    browser.open(page.as_uri())
    assert browser.problems() == []
    assert browser.js("document.documentElement.classList.contains('js')")  # the script ran
    assert browser.js("document.title").startswith("Conformance report · ")
    browser.screenshot(SCREENSHOT)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_clicking_a_failing_cell_shows_its_failure_block(browser: Chromium, page: Path) -> None:
    browser.open(page.as_uri())
    cell = "table.matrix td.cell.fail"
    assert browser.js(f"document.querySelectorAll({json.dumps(cell)}).length") >= 1
    browser.click(cell + " a")
    target = browser.js("document.querySelector(':target') && document.querySelector(':target').id")
    assert target and target.startswith("lstm.cell-swapped-forget-")
    block = browser.js(
        "(function () { var b = document.querySelector(':target'), r = b.getBoundingClientRect();"
        " return {cls: b.className, top: r.top, bottom: r.bottom, text: b.textContent}; })()"
    )
    assert "failure" in block["cls"] and "swapped-forget" in block["text"]
    assert 0 <= block["top"] < HEIGHT  # scrolled into view, below the sticky bar
    assert block["top"] >= browser.js("document.querySelector('nav.bar').offsetHeight")
    browser.screenshot(SCREENSHOT.with_name("report-screenshot-failure.png"))
    browser.click(":target .back a")  # and back to the cell
    assert browser.js("document.querySelector(':target').className").startswith("cell fail")
    assert browser.problems() == []


def test_filters_hide_other_backends_and_passing_rows(browser: Chromium, page: Path) -> None:
    browser.open(page.as_uri())
    visible = "Array.from(document.querySelectorAll({})).filter(e => e.offsetParent).length"
    heads = visible.format(json.dumps("table.matrix thead th[data-b]"))
    rows = visible.format(json.dumps("table.matrix tbody tr:not(.family)"))
    assert browser.js(heads) == 3
    all_rows = browser.js(rows)
    browser.js(
        "var f = document.getElementById('filters'); f.elements.status.value = 'fail';"
        "f.dispatchEvent(new Event('change'))"
    )
    assert browser.js(rows) == 1  # only lstm.cell has a failing cell
    browser.js(
        "f.elements.status.value = ''; f.elements.backend.value = 'fused-gate';"
        "f.dispatchEvent(new Event('change'))"
    )
    assert browser.js(heads) == 1 and browser.js(rows) == all_rows
    assert browser.js(visible.format(json.dumps("li.failure"))) == 0
    assert browser.problems() == []


def test_columns_sort_by_their_numbers(browser: Chromium, page: Path) -> None:
    browser.open(page.as_uri())
    column = (
        "Array.from(document.querySelectorAll('table.timing tbody tr'))"
        ".map(r => +r.cells[2].dataset.v)"
    )
    browser.click("table.timing thead th:nth-child(3)")
    ascending = browser.js(column)
    assert ascending == sorted(ascending)
    browser.click("table.timing thead th:nth-child(3)")
    assert browser.js(column) == sorted(ascending, reverse=True)


def test_page_without_script_shows_everything(binary: str, page: Path) -> None:
    chromium = Chromium(binary, script=False)
    try:
        chromium.open(page.as_uri())
        assert not chromium.js("document.documentElement.classList.contains('js')")
        assert chromium.js("document.getElementById('filters').hidden")  # no dead controls
        visible = (
            "Array.from(document.querySelectorAll({})).every(e => e.getClientRects().length > 0)"
        )
        for selector in ("li.failure", "table.matrix tbody tr", "table.detail tbody tr", "svg"):
            assert chromium.js(visible.format(json.dumps(selector))), selector
        assert (
            chromium.js("document.querySelectorAll('li.failure').length") == 2
        )  # float32, float64
        chromium.click("table.matrix td.cell.fail a")  # links work without script
        assert chromium.js("document.querySelector(':target').className").startswith("failure")
        assert chromium.problems() == []
    finally:
        chromium.close()
