"""Neo4j Browser driven in headless Chromium (Playwright), the way an analyst uses it.

Chromium is the system's (``$CRITMIN_CHROMIUM``, default ``/usr/bin/chromium``); Playwright only
drives it and never downloads a browser. The page may talk to 127.0.0.1 only: Browser's calls to
font, analytics and feedback services are aborted (WebSockets too), so nothing leaves the machine.

Where Chromium or Playwright is missing the test skips, except under ``CI``, where that fails
(as a missing database does in conftest.py).

Playwright is imported inside the functions: this module is collected by ``--doctest-modules``
on machines without it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Route

CHROMIUM_ENV = "CRITMIN_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
_NOT_LOOPBACK_WS = re.compile(r"^wss?://(?!(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$))")

# Read inside the page: what the newest frame of Browser's stream shows.
_FRAME_STATE = """frame => {
  const text = sel => { const e = frame.querySelector(sel); return e ? e.innerText.trim() : ''; };
  const contents = frame.querySelector('[data-testid=frameContents]');
  const badge = contents && [...contents.querySelectorAll('div')].find(
    d => d.children.length === 0 && d.textContent.trim() === 'ERROR');
  let error = '';
  if (badge) {
    const code = badge.parentElement ? badge.parentElement.innerText.replace('ERROR', '') : '';
    const message = text('[data-testid=cypherFrameErrorMessage]');
    error = message ? (code.trim() + ': ' + message) : contents.innerText.replace('ERROR', '');
  }
  const table = frame.querySelector('table[role=table]');
  const columns = table ? [...table.querySelectorAll('th[role=columnheader]')].map(
    th => th.innerText.trim()) : [];
  const cells = table ? [...table.querySelectorAll('tbody tr')].map(
    tr => [...tr.querySelectorAll('td[role=cell]')].map(td => td.innerText.trim())) : [];
  const graph = frame.querySelector('[data-testid=vizInspector]');
  return {
    command: text('[data-testid=frameCommand]'),
    status: text('[data-testid=frameStatusbar]'),
    error: error.trim(),
    view: table ? 'table' : (graph ? 'graph' : 'none'),
    columns: columns,
    cells: cells,
    graph: graph ? graph.innerText : '',
    params: text('[data-testid=rawParamData]'),
    contents: contents ? contents.innerText.trim() : '',
    text: frame.innerText,
  };
}"""

_CONNECT_STATE = """() => {
  const frames = [...document.querySelectorAll('article[data-testid=frame]')];
  const done = frames.find(f => f.innerText.includes('You are connected as user'));
  const form = frames.find(f => f.querySelector('input[data-testid=password]'));
  return {connected: done ? done.innerText : '', form: form ? form.innerText : ''};
}"""
_NEWEST_UNSEEN = "article[data-testid=frame]:not([data-critmin-seen])"


def unavailable(what: str) -> NoReturn:
    """Skip, or fail under CI: a green CI run always means the browser tests ran."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {what}")
    pytest.skip(what)


def chromium_path() -> str:
    """The Chromium to drive: ``$CRITMIN_CHROMIUM``, else Debian's, else ``chromium`` on PATH."""
    if explicit := os.environ.get(CHROMIUM_ENV):
        if os.access(explicit, os.X_OK):
            return explicit
        unavailable(f"{CHROMIUM_ENV}={explicit} is not an executable Chromium")
    for candidate in (DEFAULT_CHROMIUM, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    unavailable(f"Chromium is missing ({DEFAULT_CHROMIUM}): apt-get install chromium")


def require_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright is missing: pip install -e '.[dev]' (or pip install playwright)")


def _loopback_only(route: Route) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
        route.continue_()
    else:
        route.abort()


@contextmanager
def chromium_page(profile: Path, width: int = 1400, height: int = 1000) -> Iterator[Page]:
    """A page of a fresh headless Chromium (its own profile in ``profile``), loopback only."""
    require_playwright()
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            args=list(CHROMIUM_ARGS),
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            context.route("**/*", _loopback_only)
            context.route_web_socket(_NOT_LOOPBACK_WS, lambda socket: socket.close())
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


@dataclass
class Frame:
    """One result frame of Browser's stream, as shown."""

    command: str  # the statement Browser ran, whitespace collapsed as Browser shows it
    status: str  # the status bar: "Started streaming 3 records after ..." etc.
    error: str  # Browser's error text ("Neo.ClientError...: message"), "" when none
    view: str  # 'table', 'graph' or 'none'
    columns: list[str] = field(default_factory=list)
    cells: list[list[str]] = field(default_factory=list)  # the table view's rows
    graph: str = ""  # the graph view's overview ("Displaying 6 nodes, 3 relationships.")
    params: str = ""  # the parameters after a :params command, as Browser shows them
    contents: str = ""  # what the frame shows below its command
    text: str = ""  # everything the frame shows, its command included

    @property
    def rows(self) -> int:
        """Rows in the table view, or nodes displayed in the graph view."""
        if self.view == "table":
            return len(self.cells)
        found = re.search(r"Displaying (\d+) nodes?", self.graph)
        return int(found[1]) if found else 0

    @property
    def records(self) -> int | None:
        """Records streamed, from the status bar (None when it does not say)."""
        found = re.search(r"Started streaming (\d+) records?", self.status)
        return int(found[1]) if found else None

    def column(self, name: str) -> list[str]:
        """One column of the table view, strings without Browser's quotes."""
        index = self.columns.index(name)
        return [row[index].strip('"') for row in self.cells]


class NeoBrowser:
    """Neo4j Browser in one page: open, connect, run statements, read their frames."""

    def __init__(self, page: Page, timeout_s: float = 120.0) -> None:
        self.page = page
        self.timeout_ms = timeout_s * 1000

    def open(self, url: str) -> dict[str, str]:
        """Open Browser at ``url``; return its connect form (scheme, address, username)."""
        self.page.goto(url)
        form = self.page.locator("input[data-testid=boltaddress]")
        form.wait_for(timeout=self.timeout_ms)
        return {
            "scheme": self.page.locator("[data-testid=bolt-scheme-select]").input_value(),
            "address": form.input_value(),
            "username": self.page.locator("input[data-testid=username]").input_value(),
        }

    def connect(self, password: str) -> str:
        """Type the password and press Connect; return what the connect frame says."""
        self.page.locator("input[data-testid=password]").fill(password)
        self.page.locator("button[data-testid=connect]").click()
        deadline = time.monotonic() + self.timeout_ms / 1000
        while time.monotonic() < deadline:
            # One read of the whole stream: the connect form is replaced as it connects.
            state: dict[str, str] = self.page.evaluate(_CONNECT_STATE)
            if state["connected"]:
                return _collapse(state["connected"])
            if re.search(r"Neo\.ClientError|ServiceUnavailable|WebSocket conn", state["form"]):
                raise AssertionError(f"Browser did not connect: {_collapse(state['form'])}")
            time.sleep(0.2)
        raise AssertionError(f"Browser did not connect within {self.timeout_ms / 1000:.0f} s")

    def _mark_frames_seen(self) -> None:
        self.page.evaluate(
            "() => document.querySelectorAll('article[data-testid=frame]')"
            ".forEach(f => f.setAttribute('data-critmin-seen', '1'))"
        )

    def run(self, statement: str) -> Frame:
        """Paste ``statement`` into the editor, run it (Ctrl+Enter) and read its frame."""
        page = self.page
        self._mark_frames_seen()
        editor = page.locator("[data-testid=activeEditor]")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(statement)  # one input event, as a paste
        page.keyboard.press("Control+Enter")
        return self._read_new_frame(statement)

    def click_runnable(self, block: Locator) -> Frame:
        """Run a guide's runnable block as an analyst does, by its play icon; read its frame."""
        statement = block.inner_text().strip()
        self._mark_frames_seen()
        block.locator("i.fa-play-circle-o").click()
        return self._read_new_frame(statement)

    def _read_new_frame(self, statement: str) -> Frame:
        page = self.page
        frame = page.locator(_NEWEST_UNSEEN).first
        try:
            frame.wait_for(timeout=self.timeout_ms)
            page.wait_for_function(
                f"""() => {{
                  const f = document.querySelector('{_NEWEST_UNSEEN}');
                  if (!f) return false;
                  const bar = f.querySelector('[data-testid=frameStatusbar]');
                  const contents = f.querySelector('[data-testid=frameContents]');
                  const error = contents && [...contents.querySelectorAll('div')].some(
                    d => d.children.length === 0 && d.textContent.trim() === 'ERROR');
                  const graph = f.querySelector('[data-testid=vizInspector]');
                  return error || (bar !== null && bar.innerText.trim() !== '')
                    || (graph !== null && graph.innerText.includes('Displaying'));
                }}""",
                timeout=self.timeout_ms,
                polling=200,
            )
        except Exception as exc:  # Playwright's TimeoutError: report what the page shows
            shown = frame.inner_text() if frame.count() else "(no new frame)"
            return Frame(
                command=" ".join(statement.split()),
                status="",
                error=f"no result within {self.timeout_ms / 1000:.0f} s ({type(exc).__name__}); "
                f"the frame shows: {shown[:500]}",
                view="none",
            )
        state: dict[str, Any] = frame.evaluate(_FRAME_STATE)
        result = Frame(**state)
        if not result.error and _collapse(result.command) != _collapse(statement):
            # Browser's editor changed what was pasted (auto-closed a bracket, say).
            result.error = f"the editor ran {result.command!r}, not the pasted statement"
        return result

    def screenshot(self, path: Path) -> Path:
        """The page as shown: the newest frames are at the top of Browser's stream."""
        self.page.screenshot(path=str(path))
        return path


def _collapse(text: str) -> str:
    """
    >>> _collapse("MATCH (n)\\n  RETURN n ")
    'MATCH (n) RETURN n'
    """
    return " ".join(text.split())
