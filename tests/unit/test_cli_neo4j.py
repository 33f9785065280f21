"""`critmin neo4j status` and `password` as a user reads them (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app


@pytest.fixture()
def stored_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A managed-server home that was started once (credentials stored), now stopped."""
    home = tmp_path / "neo4j"
    home.mkdir()
    credentials = {"user": "neo4j", "password": "s3cret", "bolt_port": 54321, "http_port": 65432}
    (home / "credentials.json").write_text(json.dumps(credentials))
    monkeypatch.setenv("CRITMIN_HOME", str(tmp_path))
    return home


def test_status_prints_the_browser_url_and_where_the_password_is_one_line_each(
    stored_credentials: Path,
) -> None:
    result = CliRunner().invoke(app, ["neo4j", "status"])
    assert result.exit_code == 1  # stopped
    lines = result.output.splitlines()
    url = "http://127.0.0.1:65432/browser/?dbms=bolt://neo4j@127.0.0.1:54321"
    assert f"  Browser:  {url}  (opens the connect form filled in)" in lines, lines
    assert "  Bolt:     bolt://127.0.0.1:54321" in lines
    assert "  user:     neo4j" in lines
    assert "  password: run `critmin neo4j password`" in lines
    assert "s3cret" not in result.output


def test_password_prints_the_password_alone(stored_credentials: Path) -> None:
    result = CliRunner().invoke(app, ["neo4j", "password"])
    assert result.exit_code == 0
    assert result.stdout == "s3cret\n"


def test_password_before_the_first_start_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMIN_HOME", str(tmp_path / "nothing"))
    result = CliRunner().invoke(app, ["neo4j", "password"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "run `critmin neo4j start`" in result.stderr
