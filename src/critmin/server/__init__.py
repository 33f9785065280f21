"""The managed local Neo4j for machines with Java but no Docker engine."""

from critmin.server.errors import ServerError
from critmin.server.managed import Credentials, ManagedNeo4j, Status, default_home

__all__ = ["Credentials", "ManagedNeo4j", "ServerError", "Status", "default_home"]
