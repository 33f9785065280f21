"""The audit's findings, by category, with no server: each bad input a reader or an option met,
and what the user must see instead (one line naming the file, row, option or value).

The module grows with every audit: add the finding's input here, beside its category, before
fixing it. Faults and injections against a real server are in
``tests/integration/test_audit_server.py``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from neo4j.exceptions import Neo4jError
from typer.testing import CliRunner

from critmin.analysis.queries import QueryError, bind_query, load_library, parse_query, run_query
from critmin.cli.common import friendly
from critmin.cli.explain import explain
from critmin.cli.main import app
from critmin.errors import CritminError
from critmin.simulator.executors import SchedulerUnreachable, dask_client

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
COMTRADE = FIXTURES / "comtrade_synthetic_2022.csv"
BACI = FIXTURES / "baci_synthetic_Y2022_V202601.csv"
NOWHERE = "bolt://127.0.0.1:9"  # never reached: every case fails before connecting


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250", "NEO4J_URI": NOWHERE})
    return result.exit_code, result.output


def one_line(code: int, output: str) -> str:
    assert code == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    return lines[0]


# ---------------------------------------------------------------- readers: bad cells and rows


@pytest.mark.parametrize("year", ["nan", "-5", "1e400", "0x7E6"])
def test_a_comtrade_year_that_is_no_year_names_file_row_and_value(
    tmp_path: Path, year: str
) -> None:
    lines = COMTRADE.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("refYear")] = year
    path = tmp_path / "comtrade.csv"
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    line = one_line(*run("load", "trades", "--dry-run", str(path)))
    assert f"{path}, row 2, column 'refYear': value '{year}'" in line


@pytest.mark.parametrize("row", [2, 4])
def test_a_csv_row_with_an_extra_field_is_refused_with_its_row(tmp_path: Path, row: int) -> None:
    lines = BACI.read_text().splitlines()
    lines[row - 1] += ",999"
    path = tmp_path / BACI.name
    path.write_text("\n".join(lines) + "\n")
    line = one_line(*run("load", "trades", "--dry-run", str(path)))
    assert f"{path}, row {row}" in line and ("7 fields" in line or "saw 7" in line)


# ---------------------------------------------------------------- options: out of range, bad paths


@pytest.mark.parametrize(
    ("param", "says"),
    [
        ("max_hops=1000", "max_hops must be between 1 and 6"),
        ("max_hops=-3", "max_hops must be between 1 and 6"),
        ("min_share=-0.5", "min_share must be between 0 and 1"),
        ("limit=0", "limit must be at least 1"),
    ],
)
def test_query_parameters_out_of_their_declared_bounds_are_refused(param: str, says: str) -> None:
    args = ["query", "critical_paths", "-p", "scenario=sc_x", "-p", "target=CHN", "-p", param]
    code, output = run(*args, "--dry-run")
    assert code == 2 and says in " ".join(output.split()) and "Traceback" not in output
    name, value = param.split("=")
    with pytest.raises(QueryError, match=says):
        bind_query("critical_paths", {"scenario": "sc_x", "target": "CHN", name: value})
    # The Python API refuses before it asks the store anything.
    with pytest.raises(QueryError, match=says):
        run_query(None, "critical_paths", {"scenario": "x", "target": "CHN", name: value})  # type: ignore[arg-type]


def test_every_bounded_parameter_keeps_its_example_and_default_inside() -> None:
    library = load_library()
    bounded = [p for q in library.values() for p in q.parameters if p.bounds]
    assert {p.name for p in bounded} >= {"max_hops", "min_share", "limit", "shock"}
    assert all(p.signature.count("[") == 1 for p in bounded)


@pytest.mark.parametrize(
    ("declared", "says"),
    [
        ("// @param name: string[1..3]", "bounds apply to numbers only"),
        ("// @param n: integer[1..3] = 9", "bad default for n"),
        ("// @param n: integer[a..3]", r"write bounds as \[low\.\.high\]"),
    ],
)
def test_a_header_with_bad_bounds_is_refused(declared: str, says: str) -> None:
    name = declared.split()[2].rstrip(":")
    text = f"// Something.\n{declared}\n// :param {{{name}: 1}}\nRETURN ${name}\n"
    with pytest.raises(QueryError, match=says):
        parse_query("q", text)


def test_a_negative_top_is_refused_not_rows_dropped() -> None:
    code, output = run("results", "sources", "--commodity", "cobalt", "--top", "-5")
    assert code == 2 and "--top" in output and "Traceback" not in output


def test_out_naming_a_folder_is_one_line(tmp_path: Path) -> None:
    line = one_line(*run("query", "--list", "--out", str(tmp_path)))
    assert f"--out {tmp_path} is a folder" in line


def test_out_in_a_place_that_cannot_be_a_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "rows.csv"
    line = one_line(*run("query", "--list", "--out", str(target)))
    assert f"cannot write --out {target}" in line


# ---------------------------------------------------------------- faults, as the CLI explains them


def _neo4j(code: str, message: str) -> Neo4jError:
    return Neo4jError._hydrate_neo4j(code=code, message=message)


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("Neo.DatabaseError.Transaction.TransactionCommitFailed", "disk is full"),
        ("Neo.DatabaseError.Transaction.TransactionStartFailed", "accepts no query"),
        ("Neo.ClientError.General.WriteOnReadOnlyAccessDatabase", "read-only"),
    ],
)
def test_a_full_disk_on_the_server_says_restart_and_rerun(code: str, says: str) -> None:
    line = explain(_neo4j(code, "The database has encountered a critical error"))
    assert line is not None and says in line
    assert "critmin neo4j stop" in line and "re-run the same command" in line


def test_what_was_kept_follows_the_cause() -> None:
    exc = _neo4j("Neo.DatabaseError.Transaction.TransactionStartFailed", "critical error")
    exc.add_note("the load wrote 10,000 of 20,000 rows")
    line = explain(exc)
    assert line is not None and line.endswith("; the load wrote 10,000 of 20,000 rows")


def test_an_error_raised_while_ctrl_c_was_handled_is_the_interrupt() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ConnectionResetError("the driver was cut off")  # noqa: B904
    except ConnectionResetError as exc:
        assert explain(exc) == "interrupted (Ctrl-C)"


def test_ctrl_c_is_one_line_and_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    @friendly
    def job() -> None:
        exc = KeyboardInterrupt()
        exc.add_note("nothing was written")
        raise exc

    with pytest.raises(typer.Exit) as stopped:
        job()
    assert stopped.value.exit_code == 130
    err = capsys.readouterr().err
    assert err.strip() == "error: interrupted (Ctrl-C); nothing was written"


def test_an_error_line_is_printed_as_written_not_as_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @friendly
    def job() -> None:
        raise CritminError("MATCH ()-[t:TRADES]->() [bold]x[/bold]")

    with pytest.raises(typer.Exit):
        job()
    assert "MATCH ()-[t:TRADES]->() [bold]x[/bold]" in capsys.readouterr().err


# ---------------------------------------------------------------- a scheduler that is not there


@pytest.fixture()
def not_dask() -> Iterator[str]:
    """A loopback port that answers like a web server, not a Dask scheduler."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                peer, _ = server.accept()
            except TimeoutError:
                continue
            with peer:
                peer.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


def closed_port() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


@pytest.mark.parametrize("which", ["closed", "not dask"])
def test_a_scheduler_address_that_does_not_answer_is_one_line(
    which: str, request: pytest.FixtureRequest
) -> None:
    pytest.importorskip("distributed")
    address = closed_port() if which == "closed" else request.getfixturevalue("not_dask")
    with pytest.raises(SchedulerUnreachable, match=f"no Dask scheduler answered at {address}"):
        with dask_client(address):
            pass


# -- Ctrl-C while the command line is still importing (audit round 2, left over) --------------


class _InterruptImport:
    """A meta-path finder that raises KeyboardInterrupt when the command line is imported, as a
    Ctrl-C in the seconds the imports take does."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "critmin.cli.main":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_starting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from critmin.cli import entry

    monkeypatch.delitem(sys.modules, "critmin.cli.main")
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err.strip() == entry.INTERRUPTED_WHILE_STARTING


def test_the_console_script_is_the_entry_that_catches_it() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert scripts["scripts"]["critmin"] == "critmin.cli.entry:main"


def test_a_real_sigint_during_start_up_prints_no_traceback(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    code = "from critmin.cli.entry import main; main()"
    env = {**os.environ, "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--help"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(0.3)  # inside the imports: they take over a second even on a quiet machine
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert "Traceback" not in err, err
    if process.returncode == 0:  # the imports won the race: the help was printed whole
        assert "Usage" in out
    else:
        assert process.returncode in (130, -signal.SIGINT), (process.returncode, err)
