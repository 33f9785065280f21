"""Neo4j Browser as analysts use it: the printed URL, the password, the Cypher library pasted in.

Headless Chromium opens the Browser URL that `critmin neo4j status` prints (its connect form
already filled in), the password is typed, and every file of ``cypher/`` is pasted
as the README says: its ``// :params {...}`` line, run, then its body, run. Each must give a
result frame with at least one row (table view rows, or nodes in the graph view) and no error,
on the demo graph.
One run reports every failing file by name with Browser's error text and a screenshot.

Browser keeps every number of ``:params`` as a float (``limit: 10`` is ``10.0``), and the
example parameters must name data the demo graph holds: a file that fails here fails for an
analyst pasting it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from browser_client import NeoBrowser, chromium_page, chromium_path, require_playwright, unavailable
from typer.testing import CliRunner

from critmin.analysis.queries import load_library
from critmin.cli.main import app
from critmin.guide.process import stop_guide
from critmin.server import ManagedNeo4j
from critmin.server.managed import Credentials
from critmin.store.graph import GraphStore
from critmin.store.guide_reads import guide_facts
from critmin.store.scenario_reads import find_run

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
CYPHER_DIR = ROOT / "cypher"
README = ROOT / "README.md"
_PARAMS_COMMENT = re.compile(r"^\s*//\s*(?P<line>:params?\s.*?)\s*$")


@dataclass(frozen=True)
class BrowserExample:
    """One library file as an analyst pastes it into Browser."""

    name: str
    params: str | None  # the ':params {...}' line of its header, None when it has none
    body: str  # the query: the file's lines that are not '//' comments


def browser_examples(directory: Path) -> list[BrowserExample]:
    """Every ``*.cypher`` file of ``directory``: its ``// :params`` example line and its body."""
    examples = []
    for path in sorted(directory.glob("*.cypher")):
        lines = path.read_text(encoding="utf-8").splitlines()
        params = [m["line"] for line in lines if (m := _PARAMS_COMMENT.match(line))]
        body = "\n".join(
            line.rstrip() for line in lines if not line.lstrip().startswith("//")
        ).strip()
        examples.append(BrowserExample(path.stem, params[0] if params else None, body))
    return examples


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium and Playwright, checked before the (slow) demo graph is built."""
    require_playwright()
    return chromium_path()


@pytest.fixture(scope="module")
def browser_server(managed_server: ManagedNeo4j | None) -> ManagedNeo4j:
    if managed_server is None:
        unavailable(
            "the Browser tests need the managed test server (its HTTP port), and the tests use "
            "an external one (CRITMIN_TEST_NEO4J_URI)"
        )
    return managed_server


def _credentials(server: ManagedNeo4j) -> Credentials:
    creds = server.credentials()
    assert creds is not None
    return creds


def _open_and_connect(browser: NeoBrowser, creds: Credentials, url: str, password: str) -> None:
    """Open ``url``: its connect form must name this server's Bolt URL and user; connect."""
    form = browser.open(url)
    assert form == {
        "scheme": "bolt://",
        "address": f"127.0.0.1:{creds.bolt_port}",
        "username": creds.user,
    }, f"{url} does not fill the connect form in with {creds.uri} and {creds.user}"
    connected = browser.connect(password)
    assert f"bolt://127.0.0.1:{creds.bolt_port}" in connected, connected


def test_browser_finds_the_bolt_port_without_url_parameters(
    chromium: str, browser_server: ManagedNeo4j, tmp_path: Path
) -> None:
    """Plain /browser/ (as typed by hand) fills its form in from the discovery document."""
    creds = _credentials(browser_server)
    with chromium_page(tmp_path / "profile") as page:
        form = NeoBrowser(page).open(f"http://127.0.0.1:{creds.http_port}/browser/")
    assert form["address"] == f"127.0.0.1:{creds.bolt_port}", form


def run_in_browser(
    browser: NeoBrowser, examples: list[BrowserExample], shots: Path
) -> tuple[list[str], list[str]]:
    """Paste and run each example; return (failures, one line per file of what happened).

    A failure names the file and says what Browser showed; its screenshot is saved in ``shots``.
    """
    failures: list[str] = []
    log: list[str] = []
    for example in examples:
        started = time.monotonic()
        problem = None
        if example.params is None:
            problem = "no '// :params {...}' line in its header"
        else:
            params = browser.run(example.params)
            if params.error or "Successfully set your parameters" not in params.status:
                problem = f"Browser refused {example.params!r}: {params.error or params.text}"
            else:
                result = browser.run(example.body)
                held = " ".join(params.params.split())
                if result.error:
                    problem = f"Browser's error: {result.error}  [parameters in Browser: {held}]"
                elif result.rows == 0:
                    shown = " ".join(f"{result.contents} {result.status}".split())
                    problem = f"no rows: Browser shows '{shown}'  [parameters in Browser: {held}]"
                else:
                    log.append(
                        f"{example.name}: ok, {result.rows} rows in the {result.view} view, "
                        f"{time.monotonic() - started:.1f} s"
                    )
        if problem is not None:
            shot = browser.screenshot(shots / f"{example.name}.png")
            print(f"{example.name}: screenshot {shot}")
            failures.append(f"{example.name}.cypher: {problem}  (screenshot: {shot})")
            log.append(f"{example.name}: FAILED, {time.monotonic() - started:.1f} s")
    return failures, log


def test_every_library_query_runs_in_browser(
    chromium: str, browser_server: ManagedNeo4j, demo_store: GraphStore, tmp_path: Path
) -> None:
    creds = _credentials(browser_server)
    examples = browser_examples(CYPHER_DIR)
    assert len(examples) >= 10, f"only {len(examples)} .cypher files in {CYPHER_DIR}"
    with chromium_page(tmp_path / "profile") as page:
        browser = NeoBrowser(page)
        _open_and_connect(browser, creds, creds.browser_url, creds.password)
        failures, log = run_in_browser(browser, examples, tmp_path)
    print("\n".join(log))
    assert not failures, (
        f"{len(failures)} of {len(examples)} files of cypher/ fail when pasted into "
        "Neo4j Browser:\n" + "\n".join(failures)
    )


def test_the_harness_tells_a_float_parameter_failure_from_a_working_query(
    chromium: str, browser_server: ManagedNeo4j, demo_store: GraphStore, tmp_path: Path
) -> None:
    """The check above on two files whose outcome is known: one works, one breaks on a float."""
    library = tmp_path / "cypher"
    library.mkdir()
    (library / "works.cypher").write_text(
        "// Countries.\n//\n// :params {limit: 3.0}\n"
        "MATCH (c:Country) RETURN c.iso3 AS iso3 ORDER BY iso3\nLIMIT toInteger($limit)\n"
    )
    (library / "float_limit.cypher").write_text(
        "// :params {limit: 3}\nMATCH (c:Country) RETURN c.iso3 AS iso3 LIMIT $limit\n"
    )
    (library / "no_rows.cypher").write_text(
        "// :params {iso3: 'XXX'}\nMATCH (c:Country {iso3: $iso3}) RETURN c.iso3 AS iso3\n"
    )
    (library / "graph.cypher").write_text(
        "// :params {}\nMATCH p = (:Country)-[:TRADES]->(:Country) RETURN p LIMIT 2\n"
    )
    creds = _credentials(browser_server)
    with chromium_page(tmp_path / "profile") as page:
        browser = NeoBrowser(page)
        _open_and_connect(browser, creds, creds.browser_url, creds.password)
        failures, log = run_in_browser(browser, browser_examples(library), tmp_path)
    assert [f.split(":")[0] for f in failures] == ["float_limit.cypher", "no_rows.cypher"], log
    assert "LIMIT: Invalid input. '3.0' is not a valid value" in failures[0]
    assert '"limit": 3.0' in failures[0]
    assert "no rows" in failures[1] and "(no changes, no records)" in failures[1]
    assert (tmp_path / "float_limit.png").is_file() and not (tmp_path / "works.png").exists()
    assert log[0].startswith("float_limit: FAILED")
    assert re.match(r"graph: ok, \d+ rows in the graph view", log[1]), log  # nodes shown
    assert re.match(r"works: ok, 3 rows in the table view", log[-1]), log


@dataclass(frozen=True)
class GuideStep:
    file: str  # the library file the README's first question uses
    params: str  # the ':params' line the README gives for it
    table: list[dict[str, str]]  # the README's answer


def readme_first_guide_step() -> GuideStep:
    """The README's first Browser question: its file, its ``:params`` line, its answer table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Analysts: Neo4j Browser and the Cypher library", 1)[1]
    section = section.split("\n## ", 1)[0]
    first = re.search(r"\*\*1\..*?\(`cypher/(?P<file>\w+)\.cypher`\)", section, re.S)
    assert first is not None, "the README's Browser guide has no first question"
    rest = section[first.end() :]
    block = re.search(r"```cypher\n(?P<params>:params? .*?)\n```", rest, re.S)
    assert block is not None, "the README's first Browser question gives no :params block"
    after = rest[block.end() :].split("\n\n**2.", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in after.splitlines() if line[:1] == "|"]
    header = [cell.strip() for cell in rows[0]]
    table = [dict(zip(header, (c.strip() for c in row), strict=True)) for row in rows[2:]]
    return GuideStep(first["file"], " ".join(block["params"].split()), table)


def test_readme_browser_guide_works_as_printed(
    chromium: str,
    browser_server: ManagedNeo4j,
    demo_store: GraphStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`critmin neo4j status` prints the URL, `critmin neo4j password` the password; question 1."""
    creds = _credentials(browser_server)
    monkeypatch.setenv("CRITMIN_HOME", str(browser_server.home.parent))
    status = CliRunner().invoke(app, ["neo4j", "status"])
    assert status.exit_code == 0, status.output
    printed = re.search(r"^\s*Browser:\s+(\S+)", status.output, re.M)
    assert printed is not None, status.output
    assert re.search(r"^\s*password: run `critmin neo4j password`$", status.output, re.M)
    password = CliRunner().invoke(app, ["neo4j", "password"])
    assert password.exit_code == 0 and password.output.count("\n") == 1, password.output
    step = readme_first_guide_step()
    body = next(e for e in browser_examples(CYPHER_DIR) if e.name == step.file).body
    with chromium_page(tmp_path / "profile") as page:
        browser = NeoBrowser(page)
        _open_and_connect(browser, creds, printed[1], password.output.strip())
        params = browser.run(step.params)
        result = browser.run(body)
        if params.error or result.error or not result.rows:
            print(f"screenshot: {browser.screenshot(tmp_path / 'readme_guide.png')}")
    assert not params.error, f"Browser refused the README's {step.params!r}: {params.error}"
    held = json.dumps(json.loads(params.params)) if params.params else ""
    assert not result.error, (
        f"the README's first question ({step.file}) fails in Browser: {result.error}  "
        f"[parameters in Browser: {held}]"
    )
    expected = [(row["source"], row["total_failed"]) for row in step.table]
    shown = list(zip(result.column("source"), result.column("total_failed"), strict=True))
    assert shown == expected, (
        f"after pasting the README's {step.params!r} and cypher/{step.file}.cypher, Browser shows "
        f"(source, total_failed) {shown}; the README says {expected}"
    )


def test_the_printed_url_opens_the_guide_and_every_block_answers(
    chromium: str,
    browser_server: ManagedNeo4j,
    demo_store: GraphStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`critmin neo4j start` starts the guide's server beside the running server; the Browser URL
    `status` prints opens the connect form and the guide; every runnable block of every slide,
    clicked as an analyst clicks it, answers on the demo data (numbers as Browser sends them)."""
    creds = _credentials(browser_server)
    monkeypatch.setenv("CRITMIN_HOME", str(browser_server.home.parent))
    started = CliRunner().invoke(app, ["neo4j", "start", "--guide-port", "0"])
    try:
        assert started.exit_code == 0, started.output
        status = CliRunner().invoke(app, ["neo4j", "status"])
        assert status.exit_code == 0, status.output
        printed = re.search(r"^\s*Browser:\s+(\S+)", status.output, re.M)
        guide_line = re.search(
            r"^\s*guide:\s+:guide (http://localhost:\d+/critmin\.html)", status.output, re.M
        )
        assert printed is not None and guide_line is not None, status.output
        assert printed[1].endswith("&cmd=guide&arg=" + quote(guide_line[1], safe="")), printed[1]
        library = load_library(CYPHER_DIR)
        with chromium_page(tmp_path / "profile") as page:
            browser = NeoBrowser(page)
            _open_and_connect(browser, creds, printed[1], creds.password)
            drawer = page.locator("[data-testid=guidesDrawer]")
            drawer.get_by_text("critmin: the study on this store").wait_for(timeout=60_000)
            failures, log = _run_every_slide(browser, drawer, len(library) + 1, tmp_path)
        print("\n".join(log))
        assert not failures, f"{len(failures)} guide blocks fail in Browser:\n" + "\n".join(
            failures
        )
        ran = [line for line in log if " rows in the " in line]
        assert len(ran) == len(library), log  # one query block per library file answered
    finally:
        stop_guide(browser_server.home)


def _run_every_slide(
    browser: NeoBrowser, drawer: Locator, slides: int, shots: Path
) -> tuple[list[str], list[str]]:
    failures: list[str] = []
    log: list[str] = []
    for number in range(1, slides + 1):
        title = drawer.locator("h3").first.inner_text()
        blocks = drawer.locator("pre.runnable")
        for index in range(blocks.count()):
            frame = browser.click_runnable(blocks.nth(index))
            if frame.command.startswith(":params"):
                ok = not frame.error and "Successfully set your parameters" in frame.status
                log.append(f"{title}: {frame.command[:60]} {'set' if ok else 'REFUSED'}")
            else:
                ok = not frame.error and frame.rows > 0
                log.append(f"{title}: {frame.rows} rows in the {frame.view} view")
            if not ok:
                shot = browser.screenshot(shots / f"guide-slide-{number}-{index}.png")
                failures.append(
                    f"slide {title!r}, block {index + 1}: {frame.error or frame.contents[:300]} "
                    f"[{frame.status}] (screenshot: {shot})"
                )
        if number < slides:
            drawer.get_by_text("Next", exact=True).click()
            drawer.locator("h3").first.filter(has_not_text=title).wait_for(timeout=30_000)
    return failures, log


def test_the_guide_names_the_stored_study_its_scenario_and_a_country_it_hit(
    demo_store: GraphStore,
) -> None:
    facts = guide_facts(demo_store)
    assert facts is not None
    assert facts.run_id == find_run(demo_store, facts.commodity)["id"]  # as `critmin results`
    assert (facts.commodity, facts.source, facts.shock) == ("cobalt_oxides", "COD", 1.0)
    assert facts.year == max(facts.years) == 2024
    included = demo_store.records(
        "MATCH (:Run {id: $run})-[:INCLUDES]->(s:Scenario {id: $id})-[:HIT]->(h:Impact)"
        "-[:OF]->(:Country {iso3: $country}) WHERE NOT h.source RETURN s.sources AS sources",
        run=facts.run_id,
        id=facts.scenario,
        country=facts.country,
    )
    assert included == [{"sources": ["COD"]}]
