"""`critmin neo4j ...`: the managed local Neo4j server."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from critmin.cli.common import console, err_console, friendly
from critmin.server import ManagedNeo4j
from critmin.server.managed import Credentials

app = typer.Typer(help="Install, start, stop and describe the managed local Neo4j 5.26 server.")

BoltPort = Annotated[int | None, typer.Option(help="Bolt port (default 7687, or a free one).")]
HttpPort = Annotated[
    int | None, typer.Option(help="HTTP/Browser port (default 7474, or a free one).")
]
NEVER_STARTED = "the managed server was never started: run `critmin neo4j start`"


def _say(line: str) -> None:
    """One line as it is: never wrapped (a URL must stay whole), no markup, no highlighting."""
    console.print(line, soft_wrap=True, markup=False, highlight=False)


def _say_connection(creds: Credentials) -> None:
    _say(f"  Bolt:     {creds.uri}")
    _say(f"  Browser:  {creds.browser_url}  (opens the connect form filled in)")
    _say(f"  user:     {creds.user}")
    _say("  password: run `critmin neo4j password`")


@app.command()
@friendly
def start(bolt_port: BoltPort = None, http_port: HttpPort = None) -> None:
    """Start the server (downloading its pinned jars once) and wait until it answers."""
    server = ManagedNeo4j()
    was_running = server.status().running
    status = server.start(bolt_port, http_port, say=lambda msg: console.print(msg))
    creds = status.credentials
    assert creds is not None  # start() always stores credentials
    state = "already running" if was_running else "running"
    _say(f"Neo4j {status.version} {state} (pid {status.pid}), data in {status.home}")
    _say_connection(creds)


@app.command()
@friendly
def stop() -> None:
    """Stop the server; its data stays for the next start."""
    server = ManagedNeo4j()
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
        _say_connection(creds)
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
