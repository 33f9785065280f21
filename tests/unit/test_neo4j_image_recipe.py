"""The image recipe's choice of Debian mirror: read from apt's own sources, never hard-coded."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BUILD = Path(__file__).resolve().parents[2] / "docker" / "neo4j" / "build.py"


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("critmin_neo4j_image_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _etc_apt(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


DEB822 = """\
Types: deb
# a comment inside the stanza
URIs: http://mirror.example.net/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.net/debian-security
Suites: bookworm-security
Components: main
"""


def test_deb822_sources_give_the_release_mirror_not_security(
    build: ModuleType, tmp_path: Path
) -> None:
    etc = _etc_apt(tmp_path, {"sources.list.d/debian.sources": DEB822})
    sources = build.apt_sources(etc)
    assert [s.uri for s in sources] == [
        "http://mirror.example.net/debian",
        "http://mirror.example.net/debian-security",
    ]
    assert build.debian_mirror(sources, "bookworm") == "http://mirror.example.net/debian"


def test_one_line_sources_with_options_and_disabled_files(
    build: ModuleType, tmp_path: Path
) -> None:
    etc = _etc_apt(
        tmp_path,
        {
            "sources.list": "# deb http://commented.example/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] https://deb.example.org/debian bookworm main\n"
            "deb-src https://deb.example.org/debian bookworm main\n",
            "sources.list.d/vendor.list.disabled": "deb http://vendor.example/apt stable main\n",
            "sources.list.d/off.sources": "Types: deb\nURIs: http://off.example/debian\n"
            "Suites: bookworm\nComponents: main\nEnabled: no\n",
        },
    )
    sources = build.apt_sources(etc)
    assert [(s.uri, s.suites) for s in sources] == [
        ("https://deb.example.org/debian", ("bookworm",))
    ]
    assert build.debian_mirror(sources, "bookworm") == "https://deb.example.org/debian"


def test_a_host_on_another_release_still_gives_its_mirror(
    build: ModuleType, tmp_path: Path
) -> None:
    text = DEB822.replace("bookworm", "trixie")
    sources = build.apt_sources(_etc_apt(tmp_path, {"sources.list.d/debian.sources": text}))
    assert build.debian_mirror(sources, "bookworm") == "http://mirror.example.net/debian"


def test_no_debian_source_is_an_error_that_names_the_option(
    build: ModuleType, tmp_path: Path
) -> None:
    etc = _etc_apt(tmp_path, {"sources.list": "deb http://x.example/apt stable-extra contrib\n"})
    with pytest.raises(SystemExit, match="--mirror"):
        build.debian_mirror(build.apt_sources(etc), "bookworm")


def test_base_tag_changes_with_the_recipe(build: ModuleType) -> None:
    assert build.base_tag("bookworm").startswith("critmin/debian-jre17:bookworm-")
    assert build.base_tag("bookworm") != build.base_tag("trixie")
