"""Which Neo4j to talk to: explicit options, then NEO4J_* variables, then the managed server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from critmin.errors import CritminError
from critmin.server.managed import ManagedNeo4j


class NoDatabaseConfigured(CritminError, RuntimeError):
    """Neither NEO4J_URI nor a managed server's credentials are available."""


class BadConnectionSetting(CritminError, ValueError):
    """The URI (or another connection setting) cannot be used to reach a Neo4j server."""


#: URI schemes of the Bolt protocol, which the driver speaks (not Browser's http/https).
SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def check_uri(uri: str) -> str:
    """``uri`` if the driver can use it; else a one-line error saying what is wrong.

    >>> check_uri("bolt://127.0.0.1:7687")
    'bolt://127.0.0.1:7687'
    >>> check_uri("http://127.0.0.1:7474")
    Traceback (most recent call last):
    ...
    critmin.store.settings.BadConnectionSetting: NEO4J_URI 'http://127.0.0.1:7474' is Browser's \
HTTP address; critmin speaks Bolt: use bolt://HOST:7687 (or neo4j://HOST:7687)
    """
    parts = urlsplit(uri.strip())
    if parts.scheme in ("http", "https"):
        raise BadConnectionSetting(
            f"NEO4J_URI {uri!r} is Browser's HTTP address; critmin speaks Bolt: use "
            "bolt://HOST:7687 (or neo4j://HOST:7687)"
        )
    if parts.scheme not in SCHEMES:
        raise BadConnectionSetting(
            f"NEO4J_URI {uri!r} does not start with one of {', '.join(s + '://' for s in SCHEMES)}"
        )
    try:
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise BadConnectionSetting(f"NEO4J_URI {uri!r} is malformed: {exc}") from None
    if not host or (port is not None and not 0 < port < 65536):
        raise BadConnectionSetting(
            f"NEO4J_URI {uri!r} names no usable host and port: write e.g. bolt://127.0.0.1:7687"
        )
    if parts.path not in ("", "/"):
        raise BadConnectionSetting(
            f"NEO4J_URI {uri!r} has a path ({parts.path!r}); name the database with "
            "--database / NEO4J_DATABASE instead"
        )
    return uri


@dataclass(frozen=True)
class ConnectionSettings:
    uri: str
    user: str
    password: str
    database: str = "neo4j"
    origin: str = "options"  # where the settings came from, for messages

    def describe(self) -> str:
        return f"{self.uri} (database {self.database!r}, user {self.user!r}, from {self.origin})"


def resolve_settings(
    uri: str | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
) -> ConnectionSettings:
    """Resolve connection settings; an explicit URI (option or NEO4J_URI) beats the managed one.

    The CLI passes its options here; options declared with ``envvar=`` already carry the
    environment's values, and the lookups below cover library callers.
    """
    uri = uri or os.environ.get("NEO4J_URI")
    database = database or os.environ.get("NEO4J_DATABASE") or "neo4j"
    if uri:
        return ConnectionSettings(
            uri=check_uri(uri),
            user=user
            or os.environ.get("NEO4J_USER")
            or os.environ.get("NEO4J_USERNAME")
            or "neo4j",
            password=password or os.environ.get("NEO4J_PASSWORD") or "",
            database=database,
            origin="NEO4J_URI/options",
        )
    managed = ManagedNeo4j()
    credentials = managed.credentials()
    if credentials is None:
        raise NoDatabaseConfigured(
            "no Neo4j is configured: run `critmin neo4j start` for the managed local server, "
            "`docker compose up -d` with the project's docker-compose.yml, or set NEO4J_URI, "
            "NEO4J_USER and NEO4J_PASSWORD for a server you run."
        )
    return ConnectionSettings(
        uri=credentials.uri,
        user=credentials.user,
        password=credentials.password,
        database=database,
        origin=f"managed server in {managed.home}",
    )
