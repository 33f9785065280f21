"""Errors of the managed server that a user can act on (shown without a traceback)."""

from critmin.errors import CritminError


class ServerError(CritminError, RuntimeError):
    """The managed Neo4j could not be installed, started, stopped or reached."""
