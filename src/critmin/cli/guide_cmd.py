"""`critmin guide ...`: the analyst's guide for Neo4j Browser, for any server.

The managed server runs its guide server itself (`critmin neo4j start`); these commands serve
or write the guide for a server critmin does not manage (docker compose, testcontainers, any
NEO4J_URI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from critmin.cli.common import Database, Password, Uri, User, console, friendly, open_store
from critmin.guide.build import write_guide
from critmin.guide.serve import GuideServer
from critmin.server.managed import GUIDE_HOSTS
from critmin.store.graph import GraphStore
from critmin.store.settings import resolve_settings

app = typer.Typer(help="The analyst's guide inside Neo4j Browser: serve it, or write it to a file.")

Commodity = Annotated[
    str | None,
    typer.Option(help="The study's commodity group (default: the one with the largest study)."),
]


def _say(line: str) -> None:
    console.print(line, soft_wrap=True, markup=False, highlight=False)


@app.command()
@friendly
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 7480,
    commodity: Commodity = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Serve the guide on 127.0.0.1 until Ctrl-C, for a Neo4j critmin does not manage."""
    settings = resolve_settings(uri, user, password, database)
    with GraphStore.connect(settings) as store:
        try:
            server = GuideServer(lambda: write_guide(store, commodity=commodity), port=port)
        except OSError as exc:
            raise typer.BadParameter(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        _say(f"Serving the guide for {settings.describe()}")
        _say(f"  in Neo4j Browser:  :guide {server.url}")
        _say(
            f"  the server must allow this host: browser.remote_content_hostname_whitelist="
            f"{GUIDE_HOSTS} in neo4j.conf (docker: NEO4J_browser_remote__content__hostname__"
            f"whitelist={GUIDE_HOSTS}; docker-compose.yml sets it), then restart it"
        )
        _say(f"  or open Browser at  .../browser/?cmd=guide&arg={server.url}")
        _say("Ctrl-C stops it.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            _say("stopped")
        finally:
            server.server_close()


@app.command()
@friendly
def write(
    out: Annotated[Path, typer.Argument(help="The HTML file to write.")],
    commodity: Commodity = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Database = None,
) -> None:
    """Write the guide to an HTML file (serve it yourself, with CORS, to play it in Browser)."""
    with open_store(uri, user, password, database) as store:
        page = write_guide(store, commodity=commodity)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {out}: {exc.strerror}") from None
    _say(f"wrote {out} ({len(page):,} characters)")
