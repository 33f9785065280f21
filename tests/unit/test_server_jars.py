"""The pinned jar set: every download is verified, failures name the URL and install nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from critmin.server import ServerError
from critmin.server.jars import Jar, _fetch, neo4j_version, pinned_jars


def _jar(content: bytes) -> Jar:
    return Jar("lib", "org.example", "thing", "", "1.0", hashlib.sha256(content).hexdigest(), 4)


def _repository(tmp_path: Path, content: bytes) -> str:
    folder = tmp_path / "repo" / "org" / "example" / "thing" / "1.0"
    folder.mkdir(parents=True)
    (folder / "thing-1.0.jar").write_bytes(content)
    return (tmp_path / "repo").as_uri()


def test_lock_pins_neo4j_browser_and_apoc_with_checksums() -> None:
    jars = pinned_jars()
    names = {(j.group, j.artifact) for j in jars}
    assert {("org.neo4j", "neo4j"), ("org.neo4j.app", "neo4j-server")} <= names
    assert ("org.neo4j.client", "neo4j-browser") in names
    assert {j.artifact for j in jars if j.role == "plugin"} >= {"apoc-core", "apoc-common"}
    assert all(len(j.sha256) == 64 and j.size > 0 for j in jars)
    assert neo4j_version(jars).startswith("5.26.")


def test_verified_download_is_installed(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "thing-1.0.jar"
    _fetch(_jar(b"good"), target, _repository(tmp_path, b"good"))
    assert target.read_bytes() == b"good"


def test_checksum_mismatch_installs_nothing(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "thing-1.0.jar"
    with pytest.raises(ServerError, match=r"checksum mismatch for thing-1\.0\.jar"):
        _fetch(_jar(b"good"), target, _repository(tmp_path, b"evil"))
    assert list(target.parent.iterdir()) == []


def test_failed_download_names_the_url(tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere").as_uri()
    with pytest.raises(
        ServerError, match=r"could not download .*thing-1.0.jar.*CRITMIN_MAVEN_REPO"
    ):
        _fetch(_jar(b"good"), tmp_path / "cache" / "thing-1.0.jar", missing)


def test_a_changed_cached_jar_is_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin.server import jars

    good = b"good"
    jar = _jar(good)
    monkeypatch.setattr(jars, "pinned_jars", lambda: [jar])
    monkeypatch.setenv("CRITMIN_MAVEN_REPO", _repository(tmp_path, good))
    monkeypatch.setattr(jars, "cache_dir", lambda: tmp_path / "cache")
    cached = tmp_path / "cache" / jar.repository_path
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"gooX")  # same size, one byte flipped
    fetched: list[Jar] = []
    paths = jars.ensure_jars(progress=fetched.append)
    assert fetched == [jar] and paths["lib"] == [cached]
    assert cached.read_bytes() == good
    fetched.clear()
    jars.ensure_jars(progress=fetched.append)
    assert fetched == []  # intact now: nothing fetched
