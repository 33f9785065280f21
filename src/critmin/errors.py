"""The exceptions that mean "the user can fix this": shown as one line, never as a traceback."""

from __future__ import annotations

from critmin.loader.errors import InputError
from critmin.pipeline import InvalidParameters, UnknownCommodity
from critmin.server.errors import ServerError
from critmin.store.graph import DatabaseUnavailable, IncompleteWrite
from critmin.store.networks import NoTradeData
from critmin.store.results import NoScenarios
from critmin.store.settings import NoDatabaseConfigured

USER_ERRORS: tuple[type[Exception], ...] = (
    InputError,
    ServerError,
    DatabaseUnavailable,
    NoDatabaseConfigured,
    NoTradeData,
    NoScenarios,
    UnknownCommodity,
    InvalidParameters,
    IncompleteWrite,
)
