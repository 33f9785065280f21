"""`critmin neo4j ...`: the managed local Neo4j server."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from critmin.cli.common import console, friendly
from critmin.server import ManagedNeo4j

app = typer.Typer(help="Install, start, stop and describe the managed local Neo4j 5.26 server.")

BoltPort = Annotated[int | None, typer.Option(help="Bolt port (default 7687, or a free one).")]
HttpPort = Annotated[
    int | None, typer.Option(help="HTTP/Browser port (default 7474, or a free one).")
]


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
    console.print(f"Neo4j {status.version} {state} (pid {status.pid}), data in {status.home}")
    console.print(f"  Bolt:    {creds.uri}")
    console.print(
        f"  Browser: {creds.browser_url}  (user {creds.user}; password: critmin neo4j env)"
    )


@app.command()
@friendly
def stop() -> None:
    """Stop the server; its data stays for the next start."""
    stopped = ManagedNeo4j().stop()
    console.print("Neo4j stopped" if stopped else "Neo4j was not running")


@app.command()
@friendly
def status() -> None:
    """Say whether the server runs, on which ports, and where its data is. Exit 1 if stopped."""
    info = ManagedNeo4j().status()
    creds = info.credentials
    console.print(
        f"Neo4j {info.version}: {'running, pid ' + str(info.pid) if info.running else 'stopped'}"
    )
    console.print(f"  home:    {info.home}")
    if creds:
        console.print(f"  Bolt:    {creds.uri}")
        console.print(f"  Browser: {creds.browser_url}")
    if not info.running:
        raise typer.Exit(1)


@app.command()
@friendly
def env() -> None:
    """Print NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD lines for `eval "$(critmin neo4j env)"`."""
    creds = ManagedNeo4j().credentials()
    if creds is None:
        console.print("# the managed server was never started: run `critmin neo4j start`")
        raise typer.Exit(1)
    for name, value in (
        ("NEO4J_URI", creds.uri),
        ("NEO4J_USER", creds.user),
        ("NEO4J_PASSWORD", creds.password),
        ("NEO4J_DATABASE", "neo4j"),
    ):
        typer.echo(f"export {name}={shlex.quote(value)}")
