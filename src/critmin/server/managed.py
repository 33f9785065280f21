"""The managed local Neo4j 5.26 Community server, run from Maven Central jars with local Java.

Layout under the home directory (``$CRITMIN_HOME/neo4j``, default
``~/.local/share/critmin/neo4j``)::

    conf/neo4j.conf       written at every start (ports may change)
    data/ logs/ plugins/  Neo4j's own directories; data survives restarts
    run/neo4j.pid         the server process
    credentials.json      user, password and ports, readable by the owner only

The server listens on 127.0.0.1 only, with authentication on and a generated password set
before the first start (``neo4j-admin dbms set-initial-password``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from critmin.server.errors import ServerError
from critmin.server.jars import ensure_jars, neo4j_version, pinned_jars
from critmin.server.java import find_java

DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
START_TIMEOUT_S = 180.0
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
#: One transaction-log file's size, and how much of the logs is kept (Neo4j 5 settings
#: ``db.tx_log.rotation.size`` and ``db.tx_log.rotation.retention_policy``).
TX_LOG_ROTATION_SIZE = "64M"
TX_LOG_RETENTION = "512M size"
#: Hosts Browser may fetch remote content (guides) from: loopback only.
GUIDE_HOSTS = "127.0.0.1,localhost"
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
)


def default_home() -> Path:
    """``$CRITMIN_HOME/neo4j``, else ``$XDG_DATA_HOME/critmin/neo4j``, else ~/.local/share."""
    if explicit := os.environ.get("CRITMIN_HOME"):
        return Path(explicit) / "neo4j"
    base = os.environ.get("XDG_DATA_HOME")
    return (Path(base) if base else Path.home() / ".local" / "share") / "critmin" / "neo4j"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    bolt_port: int
    http_port: int

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        """Neo4j Browser with its connect form filled in: this server's Bolt URL and user.

        ``dbms`` is Browser 5's URL parameter for the connect form (the older ``connectURL``
        still works); only the password is left to type.

        >>> Credentials("neo4j", "secret", 7687, 7474).browser_url
        'http://127.0.0.1:7474/browser/?dbms=bolt://neo4j@127.0.0.1:7687'
        """
        connect = f"bolt://{quote(self.user, safe='')}@127.0.0.1:{self.bolt_port}"
        return f"http://127.0.0.1:{self.http_port}/browser/?dbms={connect}"


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    home: Path
    version: str
    credentials: Credentials | None


def new_password(length: int = 32) -> str:
    """A random password of letters and digits.

    token_urlsafe is not used: its '-' can start the password, and neo4j-admin then reads it as
    an option (the start fails about once in 64).

    >>> password = new_password()
    >>> len(password), password.isalnum()
    (32, True)
    """
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ManagedNeo4j:
    """Install, start, stop and describe one local Neo4j kept under ``home``."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).resolve()
        self.version = neo4j_version(pinned_jars())

    # -- files -----------------------------------------------------------------------------
    @property
    def _pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def _credentials_file(self) -> Path:
        return self.home / "credentials.json"

    @property
    def console_log(self) -> Path:
        return self.home / "logs" / "console.log"

    def credentials(self) -> Credentials | None:
        if not self._credentials_file.is_file():
            return None
        return Credentials(**json.loads(self._credentials_file.read_text()))

    def _save_credentials(self, credentials: Credentials) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self._credentials_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(credentials), handle)
        tmp.replace(self._credentials_file)

    # -- process ---------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The server's pid if it is alive and really our Neo4j (pids get reused)."""
        try:
            pid = int(self._pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        if ENTRY_POINT.encode() not in cmdline or str(self.home).encode() not in cmdline:
            return None
        return pid

    def status(self) -> Status:
        pid = self.pid()
        return Status(pid is not None, pid, self.home, self.version, self.credentials())

    def _choose_ports(self, bolt_port: int | None, http_port: int | None) -> tuple[int, int]:
        saved = self.credentials()
        chosen = []
        for wanted, remembered, default, name in (
            (bolt_port, saved.bolt_port if saved else None, DEFAULT_BOLT_PORT, "Bolt"),
            (http_port, saved.http_port if saved else None, DEFAULT_HTTP_PORT, "HTTP"),
        ):
            if wanted is not None:
                if not port_free(wanted):
                    raise ServerError(
                        f"{name} port {wanted} on 127.0.0.1 is taken by another program; "
                        f"choose another with --{name.lower()}-port or stop that program."
                    )
                chosen.append(wanted)
                continue
            port = remembered or default
            chosen.append(port if port_free(port) else _free_port())
        return chosen[0], chosen[1]

    def _write_config(self, credentials: Credentials) -> None:
        for sub in ("conf", "data", "logs", "plugins", "run", "import"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        heap, pagecache = memory_settings()
        lines = [
            "# Written by `critmin neo4j start` at every start; edits here are overwritten.",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{credentials.bolt_port}",
            f"server.http.listen_address=127.0.0.1:{credentials.http_port}",
            # Advertised with the real ports: Browser and drivers read them from the discovery
            # document (GET /) and the routing table; the default would name 7687 and 7474.
            f"server.bolt.advertised_address=127.0.0.1:{credentials.bolt_port}",
            f"server.http.advertised_address=127.0.0.1:{credentials.http_port}",
            "server.https.enabled=false",
            # Transaction logs bounded: files of 64 MiB instead of 256 MiB, and at most
            # TX_LOG_RETENTION of them kept (Neo4j's default keeps two days of logs, however
            # large: 2.9 GB after eight sweeps). Older files go at the next checkpoint.
            f"db.tx_log.rotation.size={TX_LOG_ROTATION_SIZE}",
            f"db.tx_log.rotation.retention_policy={TX_LOG_RETENTION}",
            # Browser may fetch guides from this machine only (critmin's guide server).
            f"browser.remote_content_hostname_whitelist={GUIDE_HOSTS}",
            f"server.directories.data={self.home / 'data'}",
            f"server.directories.logs={self.home / 'logs'}",
            f"server.directories.plugins={self.home / 'plugins'}",
            f"server.directories.import={self.home / 'import'}",
            f"server.directories.run={self.home / 'run'}",
            f"server.memory.heap.max_size={heap}",
            f"server.memory.pagecache.size={pagecache}",
            "dbms.security.auth_enabled=true",
            "dbms.security.procedures.unrestricted=apoc.*",
            "dbms.usage_report.enabled=false",
        ]
        (self.home / "conf" / "neo4j.conf").write_text("\n".join(lines) + "\n")

    def _java_env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")}

    def _classpath(self, paths: dict[str, list[Path]]) -> str:
        # The stock launcher puts plugins/* before lib/* on the classpath; APOC's extension
        # factories are found through it, so plugins must be on the classpath, not only in plugins/.
        return os.pathsep.join(str(p) for p in paths["plugin"] + paths["lib"])

    def start(
        self,
        bolt_port: int | None = None,
        http_port: int | None = None,
        timeout: float = START_TIMEOUT_S,
        say: Callable[[str], None] = lambda _msg: None,
    ) -> Status:
        """Start the server unless it runs already; return once it answers on Bolt."""
        current = self.status()
        if current.running:
            return current
        shortage = self._disk_shortage()
        if shortage:
            raise ServerError(f"{shortage} (or set CRITMIN_HOME to a folder on a larger disk)")
        java, major = find_java()
        fetched: list[str] = []
        paths = ensure_jars(progress=lambda jar: fetched.append(jar.filename))
        if fetched:
            say(f"downloaded and verified {len(fetched)} jars into the cache")
        saved = self.credentials()
        bolt, http = self._choose_ports(bolt_port, http_port)
        credentials = Credentials(
            user="neo4j",
            password=saved.password if saved else new_password(),
            bolt_port=bolt,
            http_port=http,
        )
        self._write_config(credentials)
        self._save_credentials(credentials)
        classpath = self._classpath(paths)
        self._install_plugins(paths["plugin"])
        if not (self.home / "data" / "dbms").exists():
            self._set_initial_password(java, classpath, credentials.password)
        heap, _pagecache = memory_settings()
        self._owner_only()
        previous = os.umask(0o077)  # what the server creates is its owner's only
        try:
            pid = os.posix_spawn(
                str(java),
                [
                    str(java),
                    f"-Xmx{heap}",
                    *JVM_OPTIONS,
                    "-cp",
                    classpath,
                    ENTRY_POINT,
                    f"--home-dir={self.home}",
                    f"--config-dir={self.home / 'conf'}",
                ],
                self._java_env(),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (
                        os.POSIX_SPAWN_OPEN,
                        1,
                        str(self.console_log),
                        os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                        0o600,
                    ),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                ],
                setsid=True,  # its own session: it outlives the CLI and ignores Ctrl-C sent to it
            )
            self._pid_file.write_text(str(pid))
        finally:
            os.umask(previous)
        say(f"started Neo4j {self.version} with Java {major} (pid {pid}); waiting for Bolt")
        self._wait_until_ready(pid, credentials, timeout)
        return self.status()

    def _install_plugins(self, jars: list[Path]) -> None:
        """Link APOC into plugins/: procedures are only registered from jars found there."""
        plugins = self.home / "plugins"
        for jar in jars:
            link = plugins / jar.name
            if not link.exists():
                link.symlink_to(jar)

    def _set_initial_password(self, java: Path, classpath: str, password: str) -> None:
        """Set the first password without showing it in the process list: neo4j-admin reads
        its arguments from an owner-only file (``@file``, picocli's argument files)."""
        arguments = self.home / "run" / "initial-password.args"
        fd = os.open(arguments, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        command = [str(java), "-cp", classpath, ADMIN_TOOL, "dbms", "set-initial-password"]
        try:
            done = subprocess.run(
                [*command, f"@{arguments}"],
                capture_output=True,
                text=True,
                env=self._java_env(),
                timeout=120,
                check=False,
                umask=0o077,
            )
        finally:
            arguments.unlink(missing_ok=True)
        if done.returncode != 0:
            raise ServerError(f"neo4j-admin set-initial-password failed: {done.stderr.strip()}")

    def _owner_only(self) -> None:
        """The managed home (store files, auth, logs) readable by its owner only."""
        for folder, _subfolders, files in os.walk(self.home):
            os.chmod(folder, 0o700)
            for name in files:
                path = Path(folder) / name
                if not path.is_symlink():
                    os.chmod(path, path.stat().st_mode & 0o700)

    def _wait_until_ready(self, pid: int, credentials: Credentials, timeout: float) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, ServiceUnavailable

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self._pid_file.unlink(missing_ok=True)
                shortage = self._disk_shortage()
                raise ServerError(
                    f"Neo4j exited with code {os.waitstatus_to_exitcode(status)} while starting"
                    f"{'; ' + shortage if shortage else ''}. What its log says (full log: "
                    f"{self.console_log}):\n{self.log_cause()}"
                )
            try:
                with GraphDatabase.driver(
                    credentials.uri, auth=(credentials.user, credentials.password)
                ) as driver:
                    driver.verify_connectivity()
                return
            except AuthError as exc:
                raise ServerError(
                    f"Neo4j answered but refused the stored password ({exc.message}). The data "
                    f"directory {self.home / 'data'} was initialised with another password."
                ) from exc
            except (ServiceUnavailable, OSError):
                time.sleep(0.5)
        raise ServerError(
            f"Neo4j did not answer on {credentials.uri} within {timeout:.0f} s; "
            f"see {self.console_log} and {self.home / 'logs' / 'neo4j.log'}"
        )

    def log_tail(self, lines: int = 20) -> str:
        texts = []
        for log in (self.console_log, self.home / "logs" / "neo4j.log"):
            if log.is_file():
                texts.extend(log.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(texts[-lines:])

    def log_cause(self, lines: int = 6) -> str:
        """The log lines that say why the server failed: errors and exception messages, not
        the stack frames under them (the last ``lines`` of them)."""
        texts = []
        for log in (self.console_log, self.home / "logs" / "neo4j.log"):
            if log.is_file():
                texts.extend(log.read_text(errors="replace").splitlines()[-400:])
        telling = [
            line.strip()
            for line in texts
            if (" ERROR " in line or "Exception" in line or "Caused by" in line)
            and not line.lstrip().startswith("at ")
        ]
        return "\n".join(telling[-lines:]) or self.log_tail(lines)

    def _disk_shortage(self) -> str:
        """What to tell the user when the home's disk is too full for Neo4j, else ``""``."""
        free = free_bytes(self.home)
        if free >= MIN_FREE_BYTES:
            return ""
        return (
            f"the disk of {self.home} has {free / 2**20:,.0f} MiB free; Neo4j needs at least "
            f"{MIN_FREE_BYTES / 2**20:,.0f} MiB to start: free some space and start it again"
        )

    def stop(self, timeout: float = 60.0) -> str:
        """Stop the server: ``"stopped"``, ``"killed"`` (it did not shut down within
        ``timeout`` seconds) or ``"not running"``."""
        pid = self.pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            return "not running"
        os.kill(pid, signal.SIGTERM)
        # A server that cannot write (a full disk) cannot checkpoint and never finishes
        # shutting down: do not wait the whole timeout for it.
        if free_bytes(self.home) < MIN_FREE_BYTES // 16:
            timeout = min(timeout, 10.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            _reap(pid)
            time.sleep(0.2)
        outcome = "stopped"
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
            outcome = "killed"
        self._pid_file.unlink(missing_ok=True)
        return outcome

    def destroy(self) -> None:
        """Stop the server and delete its home (tests only: data is lost)."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def memory_settings() -> tuple[str, str]:
    """Heap and page cache of the managed server: ``$CRITMIN_NEO4J_HEAP`` (default 1g) and
    ``$CRITMIN_NEO4J_PAGECACHE`` (default 512m)."""
    return (
        os.environ.get("CRITMIN_NEO4J_HEAP", "1g"),
        os.environ.get("CRITMIN_NEO4J_PAGECACHE", "512m"),
    )


#: Free disk space the managed server needs to start (its store files, logs and transactions).
MIN_FREE_BYTES = 128 * 2**20


def free_bytes(path: Path) -> int:
    """Free bytes on the disk holding ``path`` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(Path.cwd()).free


def _reap(pid: int) -> None:
    """Collect the exit status of a server this process started (else it lingers as a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # started by another process: init reaps it
