"""The ``critmin`` console script.

Importing the command line takes seconds (pandas, matplotlib, numba, the driver); a Ctrl-C in
that time reached Python's default handler and printed a traceback, where every later interrupt
prints one line (:mod:`critmin.cli.explain`). The script imports the command line here, so an
interrupt during start-up gets its one line too, before anything was read or written.
"""

from __future__ import annotations

import sys

INTERRUPTED_WHILE_STARTING = (
    "critmin: interrupted while starting; nothing was read or written. Run the command again."
)


def main() -> None:
    """Import the command line, then run it."""
    try:
        from critmin.cli.main import app
    except KeyboardInterrupt:
        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        raise SystemExit(130) from None
    app()
