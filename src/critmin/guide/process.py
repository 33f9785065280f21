"""The guide server beside the managed Neo4j: started by ``critmin neo4j start``, stopped by
``critmin neo4j stop``.

It is a small Python process of its own (``python -m critmin.guide``, in its own session, so it
outlives the command that started it, like the server), listening on 127.0.0.1. Its files sit in
the managed home::

    run/guide.json         pid and port of the running guide server
    run/guide-warm.json    what planning the library's queries after the start took
    logs/guide.log         its log

Right after it listens, it plans every library query (:mod:`critmin.guide.warm`), so the
first answers of a fresh server do not wait for planning.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from critmin.errors import CritminError
from critmin.server.managed import port_free

__all__ = [
    "DEFAULT_GUIDE_PORT",
    "GuideProcess",
    "GuideStartFailed",
    "guide_process",
    "read_warm_report",
    "start_guide",
    "stop_guide",
]

DEFAULT_GUIDE_PORT = 7480
MODULE = "critmin.guide"
START_TIMEOUT_S = 30.0


class GuideStartFailed(CritminError, RuntimeError):
    """The guide server did not come up; the message names its log."""


@dataclass(frozen=True)
class GuideProcess:
    pid: int
    port: int


def _state_file(home: Path) -> Path:
    return home / "run" / "guide.json"


def warm_file(home: Path) -> Path:
    return home / "run" / "guide-warm.json"


def log_file(home: Path) -> Path:
    return home / "logs" / "guide.log"


def _ours(pid: int, home: Path) -> bool:
    """Whether ``pid`` is alive and is this home's guide server (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return MODULE.encode() in cmdline and str(home).encode() in cmdline


def guide_process(home: Path) -> GuideProcess | None:
    """The running guide server of the managed ``home``, or None."""
    try:
        state = json.loads(_state_file(home).read_text())
        process = GuideProcess(int(state["pid"]), int(state["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return process if _ours(process.pid, home) else None


def _remembered_port(home: Path) -> int | None:
    try:
        return int(json.loads(_state_file(home).read_text())["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_guide(home: Path, port: int | None = None, *, warm: bool = True) -> GuideProcess:
    """Start the guide server of the managed ``home`` unless it runs; return once it listens.

    The port is ``port``, else the one it had, else 7480, else a free one.
    """
    running = guide_process(home)
    if running is not None:
        return running
    if port is None:
        remembered = _remembered_port(home)
        candidates = [p for p in (remembered, DEFAULT_GUIDE_PORT) if p]
        port = next((p for p in candidates if port_free(p)), 0)
    elif not port_free(port):
        raise GuideStartFailed(f"guide port {port} on 127.0.0.1 is taken: choose another")
    log = log_file(home)
    log.parent.mkdir(parents=True, exist_ok=True)
    (home / "run").mkdir(parents=True, exist_ok=True)
    warm_file(home).unlink(missing_ok=True)
    announce = home / "run" / "guide.port"
    announce.unlink(missing_ok=True)
    command = [sys.executable, "-m", MODULE, "--home", str(home), "--port", str(port)]
    command += ["--announce", str(announce)]
    if not warm:
        command.append("--no-warm")
    pid = os.posix_spawn(
        sys.executable,
        command,
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            raise GuideStartFailed(f"the guide server exited while starting: see {log}")
        if announce.is_file() and (text := announce.read_text().strip()):
            process = GuideProcess(pid, int(text))
            if _answers(process.port):
                _state_file(home).write_text(json.dumps({"pid": pid, "port": process.port}))
                announce.unlink(missing_ok=True)
                return process
        time.sleep(0.1)
    os.kill(pid, signal.SIGTERM)
    raise GuideStartFailed(
        f"the guide server did not listen within {START_TIMEOUT_S:.0f} s: see {log}"
    )


def stop_guide(home: Path, timeout: float = 10.0) -> bool:
    """Stop the guide server of ``home``; False when none was running."""
    process = guide_process(home)
    if process is None:
        return False
    os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _ours(process.pid, home):
        _reap(process.pid)
        time.sleep(0.1)
    if _ours(process.pid, home):
        os.kill(process.pid, signal.SIGKILL)
        _reap(process.pid)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: init reaps it


def read_warm_report(home: Path) -> dict[str, Any] | None:
    """What the guide server wrote after planning the library's queries, or None (not yet)."""
    try:
        report: dict[str, Any] = json.loads(warm_file(home).read_text())
    except (OSError, ValueError):
        return None
    return report
