"""A throwaway Neo4j for benchmarks: a managed server in a temporary home on free ports.

Benchmarks wipe their database, so they never use the user's server; set
``CRITMIN_BENCH_NEO4J_URI`` (+ ``_USER``, ``_PASSWORD``) to measure another server you can wipe.
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from critmin.server import ManagedNeo4j
from critmin.server.managed import _free_port
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings


@contextmanager
def throwaway_store() -> Iterator[GraphStore]:
    if uri := os.environ.get("CRITMIN_BENCH_NEO4J_URI"):
        settings = ConnectionSettings(
            uri,
            os.environ.get("CRITMIN_BENCH_NEO4J_USER", "neo4j"),
            os.environ.get("CRITMIN_BENCH_NEO4J_PASSWORD", ""),
        )
        with GraphStore.connect(settings) as store:
            yield store
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = ManagedNeo4j(home=Path(tmp) / "neo4j")
        status = server.start(bolt_port=_free_port(), http_port=_free_port())
        creds = status.credentials
        assert creds is not None
        try:
            with GraphStore.connect(
                ConnectionSettings(creds.uri, creds.user, creds.password)
            ) as store:
                yield store
        finally:
            server.destroy()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"
