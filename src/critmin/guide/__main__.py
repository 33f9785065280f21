"""``python -m critmin.guide --home HOME --port PORT``: the managed server's guide server.

Started by ``critmin neo4j start`` (see :mod:`critmin.guide.process`); it reads the managed
server's credentials from HOME, serves the guide on 127.0.0.1:PORT (0: a free port, written to
``--announce``), plans the library's queries once, and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from critmin.analysis.queries import load_library
from critmin.guide.build import write_guide
from critmin.guide.process import warm_file
from critmin.guide.serve import GuideServer
from critmin.guide.warm import warm_plans
from critmin.server import ManagedNeo4j
from critmin.store.graph import GraphStore
from critmin.store.guide_reads import guide_facts
from critmin.store.settings import ConnectionSettings

log = logging.getLogger("critmin.guide")


class _Store:
    """One connection to the managed server, opened when first needed and again after a
    failure (the server may restart while the guide server runs)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._store: GraphStore | None = None
        self._lock = threading.Lock()

    def get(self) -> GraphStore:
        with self._lock:
            if self._store is None:
                creds = ManagedNeo4j(self.home).credentials()
                if creds is None:
                    raise RuntimeError(f"no managed server in {self.home}")
                settings = ConnectionSettings(
                    creds.uri, creds.user, creds.password, origin=f"managed server in {self.home}"
                )
                self._store = GraphStore.connect(settings)
            return self._store

    def reset(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
            self._store = None


def _page(store: _Store) -> str:
    try:
        return write_guide(store.get())
    except Exception:
        store.reset()
        raise


def _warm(store: _Store, home: Path) -> None:
    """Plan the library's queries once Bolt answers (give up after a few minutes)."""
    deadline = time.monotonic() + 300
    while True:
        try:
            graph = store.get()
            report = warm_plans(graph, load_library(), guide_facts(graph))
            break
        except Exception as exc:
            store.reset()
            if time.monotonic() > deadline:
                log.warning("planning the library's queries failed: %s", exc)
                return
            time.sleep(2)
    log.info(
        "planned %d queries (%d statements) in %.1f s",
        report.queries,
        report.statements,
        report.seconds,
    )
    warm_file(home).write_text(
        json.dumps({**asdict(report), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m critmin.guide")
    parser.add_argument("--home", type=Path, required=True, help="the managed server's home")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--announce", type=Path, help="file to write the port to once listening")
    parser.add_argument("--no-warm", action="store_true", help="do not plan the queries")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store = _Store(args.home)
    server = GuideServer(lambda: _page(store), port=args.port)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.announce:
        args.announce.write_text(str(server.port))
    log.info("serving the guide at %s", server.url)
    if not args.no_warm:
        threading.Thread(target=_warm, args=(store, args.home), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        store.reset()


if __name__ == "__main__":
    main()
