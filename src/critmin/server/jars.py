"""The pinned jar set of the managed Neo4j: read the lock, fetch from Maven Central, verify.

The lock (``neo4j-jars.tsv`` next to this module) lists every jar with its SHA-256, so a start
needs neither Maven nor an unpinned dependency resolution. Jars are cached per user; a jar
already in the local Maven repository (``~/.m2``) with the right checksum is copied instead of
downloaded, so machines with a warm Maven cache start offline.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from critmin.server.errors import ServerError

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
LOCK_FILE = "neo4j-jars.tsv"


@dataclass(frozen=True)
class Jar:
    """One pinned artifact: where it lives in a Maven repository and what its bytes must hash to."""

    role: str  # "lib" (server classpath) or "plugin" (APOC and its dependencies)
    group: str
    artifact: str
    classifier: str
    version: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        suffix = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{suffix}.jar"

    @property
    def repository_path(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.filename}"


def pinned_jars() -> list[Jar]:
    """Read the committed lock file."""
    text = resources.files("critmin.server").joinpath(LOCK_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return [
        Jar(
            role=r["role"],
            group=r["group"],
            artifact=r["artifact"],
            classifier=r["classifier"],
            version=r["version"],
            sha256=r["sha256"],
            size=int(r["bytes"]),
        )
        for r in rows
    ]


def neo4j_version(jars: list[Jar]) -> str:
    return next(j.version for j in jars if (j.group, j.artifact) == ("org.neo4j", "neo4j"))


def cache_dir() -> Path:
    """Where verified jars are kept: ``$CRITMIN_CACHE`` or the XDG cache directory."""
    base = os.environ.get("CRITMIN_CACHE") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return (root if os.environ.get("CRITMIN_CACHE") else root / "critmin") / "jars"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(jar: Jar, target: Path, repository: str) -> None:
    """Put the verified jar at ``target`` (atomically), from ~/.m2 or the repository."""
    target.parent.mkdir(parents=True, exist_ok=True)
    local = Path.home() / ".m2" / "repository" / jar.repository_path
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
        part = Path(tmp.name)
    try:
        if local.is_file() and _sha256(local) == jar.sha256:
            shutil.copyfile(local, part)
        else:
            url = f"{repository.rstrip('/')}/{jar.repository_path}"
            try:
                with urllib.request.urlopen(url, timeout=60) as response, part.open("wb") as out:
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                raise ServerError(
                    f"could not download {url}: {exc}. Check the network or set "
                    "CRITMIN_MAVEN_REPO to a reachable Maven mirror."
                ) from exc
            actual = _sha256(part)
            if actual != jar.sha256:
                raise ServerError(
                    f"checksum mismatch for {jar.filename} from {url}: expected {jar.sha256}, "
                    f"got {actual}. The download was discarded; nothing was installed."
                )
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)


def _verified(jar: Jar, path: Path) -> bool:
    """Whether ``path`` holds exactly the pinned jar (size first, then SHA-256)."""
    return path.is_file() and path.stat().st_size == jar.size and _sha256(path) == jar.sha256


def ensure_jars(progress: Callable[[Jar], None] | None = None) -> dict[str, list[Path]]:
    """Make every pinned jar present and verified in the cache; return paths by role.

    Every cached jar is checked against its pinned SHA-256 at every start (a jar changed in
    the cache, even by one byte, is never put on the classpath: it is fetched again); hashing
    the ~135 MB set costs under a second. Anything missing or changed is fetched in parallel.
    Raises :class:`ServerError` with the failing URL.
    """
    jars = pinned_jars()
    root = cache_dir()
    repository = os.environ.get("CRITMIN_MAVEN_REPO", MAVEN_CENTRAL)
    paths: dict[str, list[Path]] = {"lib": [], "plugin": []}
    for jar in jars:
        target = root / jar.repository_path
        paths[jar.role].append(target)
    with ThreadPoolExecutor(max_workers=4) as pool:
        intact = list(pool.map(_verified, jars, [root / j.repository_path for j in jars]))
    missing = [(j, root / j.repository_path) for j, ok in zip(jars, intact, strict=True) if not ok]

    def fetch(item: tuple[Jar, Path]) -> None:
        _fetch(item[0], item[1], repository)
        if progress is not None:
            progress(item[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, missing))
    return paths
