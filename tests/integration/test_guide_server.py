"""The managed server's guide server: started beside it, loopback only, CORS for loopback pages
only, and a guide that says what to run first on an empty store."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from critmin.guide.process import GuideProcess, guide_process, start_guide, stop_guide
from critmin.guide.serve import GUIDE_PATH
from critmin.server import ManagedNeo4j
from critmin.store.graph import GraphStore

pytestmark = pytest.mark.integration


@pytest.fixture()
def guide(managed_server: ManagedNeo4j | None, store: GraphStore) -> Iterator[GuideProcess]:
    """The guide server of the (emptied) managed test server, on a free port, not warming."""
    if managed_server is None:
        pytest.skip("the guide server runs beside the managed server only")
    process = start_guide(managed_server.home, 0, warm=False)
    try:
        yield process
    finally:
        assert stop_guide(managed_server.home)
        assert guide_process(managed_server.home) is None


def _get(port: int, origin: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{GUIDE_PATH}", headers={"Origin": origin}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


def test_an_empty_store_gets_a_guide_that_says_what_to_run_first(
    guide: GuideProcess, managed_server: ManagedNeo4j
) -> None:
    status, headers, page = _get(guide.port, "http://127.0.0.1:7474")
    assert status == 200, page
    assert headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:7474"
    assert "run a study first" in page and "critmin demo" in page
    assert start_guide(managed_server.home) == guide  # running: started once only
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = {line.split()[1] for line in listening if line.split()[3] == "0A"}  # LISTEN
    assert f"0100007F:{guide.port:04X}" in local  # 127.0.0.1 only
    assert not any(addr.endswith(f":{guide.port:04X}") and addr != f"0100007F:{guide.port:04X}"
                   for addr in local)  # fmt: skip


def test_a_guide_fetched_from_another_host_gets_no_cors_permission(guide: GuideProcess) -> None:
    status, headers, _page = _get(guide.port, "https://attacker.example")
    assert status == 200  # the page is public on this machine; the other site may not read it
    assert "Access-Control-Allow-Origin" not in headers


def test_guide_write_puts_the_page_for_any_server_in_a_file(
    store: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from critmin.cli.main import app

    out = tmp_path / "guide.html"
    result = CliRunner().invoke(app, ["guide", "write", str(out)])
    assert result.exit_code == 0, result.output
    assert "run a study first" in out.read_text() and "<slide" in out.read_text()
    refused = CliRunner().invoke(app, ["guide", "write", str(tmp_path / "no" / "such" / "g.html")])
    assert refused.exit_code == 2 and "cannot write" in refused.output, refused.output
