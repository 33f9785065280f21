"""Errors of the managed server that a user can act on (shown without a traceback)."""


class ServerError(RuntimeError):
    """The managed Neo4j could not be installed, started, stopped or reached."""
