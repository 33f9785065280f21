"""The Browser guide as written from the library and a store's values, and as served (no Neo4j).

The store is a snapshot of values (what :func:`critmin.store.guide_reads.guide_facts` returns);
the integration tests read them from a real store and run the guide in real Browser.
"""

from __future__ import annotations

import html
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from critmin.analysis.literals import parse_literal
from critmin.analysis.queries import load_library
from critmin.guide.build import QUESTIONS, browser_values, guide_html, guide_slides
from critmin.guide.serve import GUIDE_PATH, GuideServer, browser_guide_url
from critmin.guide.warm import parameter_typings
from critmin.store.guide_reads import GuideFacts, StoreContents

ROOT = Path(__file__).resolve().parents[2]
HEADER_SCENARIO = re.compile(r"sc_[0-9a-f]{20}")

#: A store's values, none of them the headers' examples: a guide that shows a header's example
#: id (sc_35bec6c4ce1f085e8eaf, a null run_id) instead of these did not read the store.
SNAPSHOT = GuideFacts(
    commodity="graphite_natural",
    run_id="run_20260101T000000000000_abcdef_graphite_natural",
    mode="export",
    unit="t",
    shock=1.0,
    years=(2023, 2024),
    source="TZA",
    source_name="Tanzania",
    scenario="sc_0123456789abcdef0123",
    year=2023,
    n_failed=42,
    country="JPN",
    country_name="Japan",
)
CONTENTS = StoreContents(countries=200, trades=12_000, scenarios=170)


def _blocks(page: str) -> list[str]:
    found = re.findall(r'<pre class="pre-scrollable code runnable">(.*?)</pre>', page, re.S)
    return [html.unescape(block) for block in found]


def test_every_library_file_gets_a_slide_with_this_stores_values() -> None:
    library = load_library(ROOT / "cypher")
    slides = guide_slides(library, SNAPSHOT)
    assert sorted(s.name for s in slides) == sorted(library)
    asked = [name for name, _title in QUESTIONS if name in library]
    assert [s.name for s in slides][: len(asked)] == asked  # the README's order first
    for slide in slides:
        query = library[slide.name]
        assert slide.body == query.body and not slide.body.lstrip().startswith("//")
        assert set(slide.params) == {p.name for p in query.parameters}, slide.name
        query.bind(slide.params)  # every value fits its declared type and choices
        assert slide.params_line == slide.params_line.strip()
        written = parse_literal(slide.params_line.removeprefix(":params "))
        assert written == slide.params, slide.name
        for name, value in SNAPSHOT.values().items():
            if name in slide.params:
                assert slide.params[name] == value, (slide.name, name)
        assert not HEADER_SCENARIO.search(slide.params_line.replace(SNAPSHOT.scenario, "")), (
            f"{slide.name}: a scenario id that is not the store's: {slide.params_line}"
        )
    run_scoped = [s.name for s in slides if "run_id" in s.params]
    assert len(run_scoped) >= 5 and all(
        library[name].example["run_id"] is None for name in run_scoped
    )  # the headers leave run_id null; the guide names the store's study


def test_the_page_holds_two_runnable_blocks_per_query_and_an_introduction() -> None:
    library = load_library(ROOT / "cypher")
    page = guide_html(library, SNAPSHOT, CONTENTS)
    assert page.count("<slide") == len(library) + 1
    assert "<title>critmin: supply-risk questions</title>" in page
    blocks = _blocks(page)
    assert len(blocks) == 2 * len(library)
    for params, body in zip(blocks[::2], blocks[1::2], strict=True):
        assert params.startswith(":params {") and "\n" not in params
        assert not body.startswith(":")
    bodies = set(blocks[1::2])
    assert all(query.body in bodies for query in library.values())
    intro = page.split("</slide>", 1)[0]
    for value in (SNAPSHOT.run_id, SNAPSHOT.scenario, "Tanzania", "Japan", "in tonnes"):
        assert value in intro
    assert "first run of a query" in intro and "critmin neo4j start" in intro
    assert "<script" not in page and not re.search(r"<[^>]*\son\w*=", page)


def test_a_new_library_file_gets_its_slide_without_any_change(tmp_path: Path) -> None:
    library_dir = tmp_path / "cypher"
    library_dir.mkdir()
    (library_dir / "hub_count.cypher").write_text(
        "// Hubs of one scenario: how many countries it hit. <b>Bold</b> is text here.\n"
        "//\n// @param scenario: string   Scenario id\n//\n"
        "// :params {scenario: 'sc_35bec6c4ce1f085e8eaf'}\n"
        "MATCH (:Scenario {id: $scenario})-[:HIT]->(h:Impact) RETURN count(h) AS hit\n"
    )
    page = guide_html(load_library(library_dir), SNAPSHOT, CONTENTS)
    assert "1/1. Hubs of one scenario: how many countries it hit." in page
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page  # header text is escaped, never markup
    assert _blocks(page) == [
        ":params {scenario: 'sc_0123456789abcdef0123'}",
        "MATCH (:Scenario {id: $scenario})-[:HIT]->(h:Impact) RETURN count(h) AS hit",
    ]


@pytest.mark.parametrize(
    ("contents", "command"),
    [
        (StoreContents(0, 0, 0), "critmin demo"),
        (StoreContents(200, 12_000, 0), "critmin simulate --commodity ID --years FIRST-LAST"),
    ],
)
def test_a_store_without_a_study_gets_the_command_to_run_first(
    contents: StoreContents, command: str
) -> None:
    page = guide_html(load_library(ROOT / "cypher"), None, contents)
    assert page.count("<slide") == 1 and "run a study first" in page
    assert command in page and not _blocks(page)


def test_plans_are_warmed_with_the_types_browser_and_the_cli_send() -> None:
    library = load_library(ROOT / "cypher")
    typings = parameter_typings(library["critical_paths"], SNAPSHOT)
    assert {"scenario": SNAPSHOT.scenario, "target": "JPN", "max_hops": 4.0,
            "min_share": 0.01, "limit": 10.0} in typings  # fmt: skip
    assert any(isinstance(t["limit"], int) for t in typings)  # as critmin query sends it
    sweep = parameter_typings(library["top_risk_sources"], SNAPSHOT)
    assert {type(t["run_id"]) for t in sweep} == {str, type(None)}
    assert browser_values({"years": [2023, 2024], "flag": True}) == {
        "years": [2023.0, 2024.0],
        "flag": True,
    }


@pytest.fixture()
def guide_server() -> Iterator[GuideServer]:
    server = GuideServer(lambda: "<slide>one</slide>")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _fetch(
    server: GuideServer, headers: dict[str, str], method: str = "GET", path: str = GUIDE_PATH
) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:7474", "http://localhost:17474", "http://[::1]:7474"]
)
def test_a_page_on_this_machine_gets_the_guide_with_cors(
    guide_server: GuideServer, origin: str
) -> None:
    status, headers, body = _fetch(guide_server, {"Origin": origin})
    assert (status, body) == (200, "<slide>one</slide>")
    assert headers["Access-Control-Allow-Origin"] == origin
    # Browser's fetch carries pragma and cache-control: its preflight must allow them
    status, headers, _ = _fetch(
        guide_server,
        {
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "pragma,cache-control",
        },
        method="OPTIONS",
    )
    assert status == 204 and headers["Access-Control-Allow-Origin"] == origin
    assert set(headers["Access-Control-Allow-Headers"].split(", ")) >= {"pragma", "cache-control"}


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1.evil.example:7474", "null"]
)
def test_a_page_from_another_host_gets_no_cors_permission(
    guide_server: GuideServer, origin: str
) -> None:
    for method in ("GET", "OPTIONS"):
        _status, headers, _body = _fetch(guide_server, {"Origin": origin}, method=method)
        assert "Access-Control-Allow-Origin" not in headers, (method, headers)


def test_a_request_for_another_host_name_is_refused(guide_server: GuideServer) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: it gets nothing."""
    status, _headers, body = _fetch(guide_server, {"Host": f"evil.example:{guide_server.port}"})
    assert status == 403 and "slide" not in body
    assert _fetch(guide_server, {}, path="/etc/passwd")[0] == 404


def test_the_browser_url_plays_the_guide_after_the_connect_form() -> None:
    url = browser_guide_url("http://127.0.0.1:7474/browser/?dbms=bolt://neo4j@127.0.0.1:7687", 7)
    assert url == (
        "http://127.0.0.1:7474/browser/?dbms=bolt://neo4j@127.0.0.1:7687"
        "&cmd=guide&arg=http%3A%2F%2Flocalhost%3A7%2Fcritmin.html"
    )
