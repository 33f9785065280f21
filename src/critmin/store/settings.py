"""Which Neo4j to talk to: explicit options, then NEO4J_* variables, then the managed server."""

from __future__ import annotations

import os
from dataclasses import dataclass

from critmin.errors import CritminError
from critmin.server.managed import ManagedNeo4j


class NoDatabaseConfigured(CritminError, RuntimeError):
    """Neither NEO4J_URI nor a managed server's credentials are available."""


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
            uri=uri,
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
