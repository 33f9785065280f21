"""`critmin neo4j ...`: the managed local Neo4j server."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.common import console, err_console, friendly
from critmin.guide.process import (
    GuideProcess,
    GuideStartFailed,
    guide_process,
    log_file,
    read_warm_report,
    start_guide,
    stop_guide,
)
from critmin.guide.serve import browser_guide_url, guide_url
from critmin.server import ManagedNeo4j
from critmin.server.managed import Credentials

app = typer.Typer(help="Install, start, stop and describe the managed local Neo4j 5.26 server.")

BoltPort = Annotated[int | None, typer.Option(help="Bolt port (default 7687, or a free one).")]
HttpPort = Annotated[
    int | None, typer.Option(help="HTTP/Browser port (default 7474, or a free one).")
]
GuidePort = Annotated[
    int | None,
    typer.Option(help="Port of the Browser guide's server (default 7480, or a free one)."),
]
NEVER_STARTED = "the managed server was never started: run `critmin neo4j start`"


def _say(line: str) -> None:
    """One line as it is: never wrapped (a URL must stay whole), no markup, no highlighting."""
    console.print(line, soft_wrap=True, markup=False, highlight=False)


def _say_connection(creds: Credentials, guide: GuideProcess | None) -> None:
    _say(f"  Bolt:     {creds.uri}")
    if guide is not None:
        url = browser_guide_url(creds.browser_url, guide.port)
        _say(f"  Browser:  {url}  (the connect form filled in, and the analyst's guide)")
        _say(f"  guide:    :guide {guide_url(guide.port)}  (type it in Browser to reopen it)")
    else:
        _say(f"  Browser:  {creds.browser_url}  (opens the connect form filled in)")
    _say(f"  user:     {creds.user}")
    _say("  password: run `critmin neo4j password`")


def _say_warm(home: Path) -> None:
    report = read_warm_report(home)
    if report is None:
        _say("  plans:    the library's queries are being planned (first answers come sooner)")
    elif report.get("failed"):
        _say(
            f"  plans:    {len(report['failed'])} queries could not be planned; "
            f"see {log_file(home)}"
        )
    else:
        _say(
            f"  plans:    {report['queries']} library queries planned in {report['seconds']:.1f} s"
        )


@app.command()
@friendly
def start(
    bolt_port: BoltPort = None, http_port: HttpPort = None, guide_port: GuidePort = None
) -> None:
    """Start the server (downloading its pinned jars once) and wait until it answers; start the
    Browser guide's server beside it, which also plans the library's queries in the background."""
    server = ManagedNeo4j()
    was_running = server.status().running
    status = server.start(bolt_port, http_port, say=lambda msg: console.print(msg))
    creds = status.credentials
    assert creds is not None  # start() always stores credentials
    try:
        guide: GuideProcess | None = start_guide(status.home, guide_port)
    except GuideStartFailed as exc:  # Neo4j runs: say what is missing, do not fail the start
        err_console.print(f"warning: no guide: {exc}", highlight=False, soft_wrap=True)
        guide = None
    state = "already running" if was_running else "running"
    _say(f"Neo4j {status.version} {state} (pid {status.pid}), data in {status.home}")
    _say_connection(creds, guide)


@app.command()
@friendly
def stop() -> None:
    """Stop the server and its guide server; the data stays for the next start."""
    server = ManagedNeo4j()
    stop_guide(server.home)
    outcome = server.stop()
    if outcome == "killed":
        console.print(
            "Neo4j did not shut down in time and was killed. Committed transactions are safe "
            "(the next start recovers them from its transaction log). What its log says:\n"
            + server.log_cause(),
            highlight=False,
        )
    else:
        console.print("Neo4j stopped" if outcome == "stopped" else "Neo4j was not running")


@app.command()
@friendly
def status() -> None:
    """Say whether the server runs, on which ports, and where its data is. Exit 1 if stopped."""
    info = ManagedNeo4j().status()
    creds = info.credentials
    _say(f"Neo4j {info.version}: {'running, pid ' + str(info.pid) if info.running else 'stopped'}")
    _say(f"  home:     {info.home}")
    if creds:
        guide = guide_process(info.home) if info.running else None
        _say_connection(creds, guide)
        if guide is not None:
            _say_warm(info.home)
        elif info.running:
            _say("  guide:    not running; `critmin neo4j start` starts it")
    if not info.running:
        raise typer.Exit(1)


@app.command()
@friendly
def password() -> None:
    """Print the password of the managed server, and nothing else (for Neo4j Browser)."""
    creds = ManagedNeo4j().credentials()
    if creds is None:
        err_console.print(NEVER_STARTED, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    typer.echo(creds.password)


@app.command()
@friendly
def env() -> None:
    """Print NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD lines for `eval "$(critmin neo4j env)"`."""
    creds = ManagedNeo4j().credentials()
    if creds is None:
        console.print(f"# {NEVER_STARTED}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    for name, value in (
        ("NEO4J_URI", creds.uri),
        ("NEO4J_USER", creds.user),
        ("NEO4J_PASSWORD", creds.password),
        ("NEO4J_DATABASE", "neo4j"),
    ):
        typer.echo(f"export {name}={shlex.quote(value)}")
