"""The root of every error a user can fix: the CLI shows it as one line, never a traceback.

Every user-facing exception of critmin subclasses :class:`CritminError` (bad input, a bad query
or parameter, no server, no scenarios, an unknown commodity, a graph of another schema). Any
other exception is a bug and keeps its traceback. This module imports nothing of critmin, so
every module can use it.
"""

from __future__ import annotations


class CritminError(Exception):
    """An error the user can act on; its message says what happened and what to do."""
