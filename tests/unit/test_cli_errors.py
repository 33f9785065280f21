"""What a user sees when something is wrong: one line naming what to fix, exit code 2.

These need no server: each mistake is caught before one is asked for (a bad URI, a bad file is
read before connecting). Mistakes only a server can reveal are in
``tests/integration/test_cli_errors_server.py``.
"""

from __future__ import annotations

import errno
import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli.explain import explain
from critmin.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
BATTERY = ROOT / "data" / "trade" / "baci_hs17_v202601_2024_battery_subset.csv"
NOWHERE = "bolt://127.0.0.1:9"  # never reached: every case fails before connecting


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"COLUMNS": "250", "NEO4J_URI": NOWHERE, **(env or {})}
    )
    return result.exit_code, result.output


def one_line(code: int, output: str) -> str:
    assert code == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    return lines[0]


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("http://127.0.0.1:7474", "Browser's HTTP address; critmin speaks Bolt"),
        ("bolt://::nope", "is malformed"),
        ("ftp://127.0.0.1", "does not start with one of bolt://"),
        ("bolt://127.0.0.1:7687/neo4j", "name the database with --database"),
    ],
)
def test_unusable_uri(uri: str, says: str) -> None:
    line = one_line(*run("results", "sources", "--commodity", "cobalt", env={"NEO4J_URI": uri}))
    assert says in line


def test_a_production_format_given_to_load_trades() -> None:
    line = one_line(*run("load", "trades", "--format", "usgs", str(BATTERY)))
    assert "unknown trade format 'usgs'" in line and "critmin load production" in line
    line = one_line(*run("load", "trades", "--format", "xlsx", str(BATTERY)))
    assert "unknown trade format 'xlsx'; use one of baci" in line


def test_a_truncated_gzip_file_is_named(tmp_path: Path) -> None:
    whole = gzip.compress(BATTERY.read_bytes())
    cut = tmp_path / "flows.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    line = one_line(*run("load", "trades", str(cut)))
    assert str(cut) in line and "damaged or cut short" in line


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_wide_unicode_file_says_what_it_is(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "flows.csv"
    path.write_bytes(BATTERY.read_text().encode(encoding))
    line = one_line(*run("load", "trades", str(path)))
    assert str(path) in line and ("UTF-16" in line or "UTF-32" in line) and "iconv" in line


def test_advice_names_commands_that_exist(tmp_path: Path) -> None:
    production = ROOT / "data" / "production" / "mcs2024-cobal_world.csv"
    line = one_line(*run("load", "trades", str(production)))
    assert "`critmin load production`" in line
    flows = tmp_path / "flows.csv"
    flows.write_text("year,exporter,importer,hs,tonnes,value_usd\n2023,QQQ,CHN,260500,1,2\n")
    line = one_line(*run("load", "trades", str(flows)))
    assert "--unmapped-tolerance" in line
    code, output = run("load", "trades", "--help")
    assert code == 0 and "--unmapped-tolerance" in output


def test_parameters_out_of_range_are_refused_before_connecting() -> None:
    code, output = run(
        "query", "top_risk_sources", "-p", "commodity=cobalt", "-p", "shock=1.0",
        "-p", "limit=99999999999999999999",
    )  # fmt: skip
    assert code == 2 and "64-bit integers" in output and "Traceback" not in output
    code, output = run("simulate", "--commodity", "cobalt", "--years", "2024-2002")
    assert code == 2 and "run backwards" in output


@pytest.mark.parametrize(
    ("number", "says"),
    [
        (errno.ENOSPC, "the disk is full while writing /data/x"),
        (errno.EROFS, "/data/x is on a read-only file system"),
        (errno.EACCES, "permission denied on /data/x"),
    ],
)
def test_os_errors_users_can_fix_are_explained(number: int, says: str) -> None:
    assert explain(OSError(number, "reason", "/data/x")) == explain(
        OSError(number, "reason", "/data/x")
    )
    line = explain(OSError(number, "reason", "/data/x"))
    assert line is not None and line.startswith(says)


def test_a_bug_keeps_its_traceback() -> None:
    assert explain(KeyError("x")) is None
    assert explain(OSError(errno.EBADF, "bad file descriptor")) is None


def test_check_totals_names_a_file_that_is_not_a_totals_file(tmp_path: Path) -> None:
    totals = tmp_path / "totals.csv"
    totals.write_text("year,hs6,n_flows\n2022,260500,2\n")  # no value or tonnes columns
    line = one_line(*run("load", "check-totals", "--reference", str(totals)))
    assert "totals.csv: not a totals file" in line
    assert "no column world_value_usd, world_qty_tonnes" in line
