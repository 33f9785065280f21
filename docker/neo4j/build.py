"""Build critmin's Neo4j 5.26 Community image with no image registry at all.

Two layers, each reused while its inputs are unchanged:

1. the base, ``critmin/debian-jre17:<suite>-<hash>``: a Debian root file system made by
   ``debootstrap --variant=minbase`` from the Debian mirror that apt's own sources name (read at
   build time from ``/etc/apt/sources.list`` and ``/etc/apt/sources.list.d/``), with Java 17,
   turned into an image by ``docker import``;
2. the server, ``critmin/neo4j:<version>``: ``docker/neo4j/Dockerfile`` on that base, with the
   jars of ``src/critmin/server/neo4j-jars.tsv`` (Community server, Browser, APOC) fetched and
   checked against their SHA-256 by the managed server's own code (``critmin.server.jars``) and
   its cache, so both ways of running Neo4j use the same pinned jar set.

Usage (root, or sudo, is needed for debootstrap; a Docker daemon must answer)::

    python docker/neo4j/build.py            # build or reuse; prints the image name on stdout
    python docker/neo4j/build.py --rebuild  # build both layers again

Progress goes to stderr, so ``CRITMIN_NEO4J_IMAGE=$(python docker/neo4j/build.py)`` works.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
JAVA_PACKAGE = "openjdk-17-jre-headless"
# wget answers the compose health check, like the official image's.
BASE_PACKAGES = (JAVA_PACKAGE, "wget")
BASE_REPOSITORY = "critmin/debian-jre17"
IMAGE_REPOSITORY = "critmin/neo4j"
RECIPE_FILES = ("Dockerfile", "docker-entrypoint.sh", "neo4j-admin", "neo4j.conf")
# Bump to rebuild bases made by an older version of this script.
BASE_RECIPE_VERSION = "1"


def say(message: str) -> None:
    print(f"[neo4j-image] {message}", file=sys.stderr, flush=True)


# -- apt's sources --------------------------------------------------------------------------


@dataclass(frozen=True)
class AptSource:
    """One ``deb`` line (or one URI of a deb822 stanza) of apt's configuration."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def _one_line_sources(text: str) -> list[AptSource]:
    found: list[AptSource] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        words = line.split()
        if len(words) < 3 or words[0] != "deb":
            continue
        if words[1].startswith("["):  # options such as [arch=amd64 signed-by=...]
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = ["deb", *words[1:]]
        if len(words) >= 3:
            found.append(AptSource(words[1], (words[2],), tuple(words[3:])))
    return found


def _deb822_sources(text: str) -> list[AptSource]:
    found: list[AptSource] = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for raw in stanza.splitlines():
            if raw.startswith("#"):
                continue
            if raw[:1] in (" ", "\t") and key:  # a folded continuation line
                fields[key] += " " + raw.strip()
            elif ":" in raw:
                key, value = raw.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(fields.get("suites", "").split())
        components = tuple(fields.get("components", "").split())
        found.extend(AptSource(uri, suites, components) for uri in fields.get("uris", "").split())
    return found


def apt_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every binary-package source apt is configured with, in apt's reading order."""
    found: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        found.extend(_one_line_sources(main_list.read_text(errors="replace")))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                found.extend(_one_line_sources(path.read_text(errors="replace")))
            elif path.suffix == ".sources":
                found.extend(_deb822_sources(path.read_text(errors="replace")))
    return found


def debian_mirror(sources: list[AptSource], suite: str) -> str:
    """The mirror to debootstrap ``suite`` from: apt's source that serves ``suite`` itself
    with ``main`` (not -security or -updates), else the first plain Debian release source
    (its URI carries every release, whatever the host's own release is).

    >>> debian_mirror([AptSource("http://deb.example.org/debian-security", ("bookworm-security",),
    ...                          ("main",)),
    ...                AptSource("http://deb.example.org/debian", ("bookworm",), ("main",))],
    ...               "bookworm")
    'http://deb.example.org/debian'
    """
    usable = [s for s in sources if "main" in s.components and s.uri.startswith(("http", "file"))]
    for source in usable:
        if suite in source.suites:
            return source.uri
    for source in usable:
        if any("-" not in s and "/" not in s for s in source.suites):
            return source.uri
    raise SystemExit(
        f"no Debian mirror in apt's sources serves '{suite} main'; name one with --mirror"
    )


# -- docker ---------------------------------------------------------------------------------


def docker(*args: str, capture: bool = False, stdin: int | None = None) -> str:
    done = subprocess.run(
        ["docker", *args],
        check=False,
        text=True,
        stdin=stdin,
        stdout=subprocess.PIPE if capture else sys.stderr,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},  # the classic builder: no buildx needed
    )
    if done.returncode != 0:
        raise SystemExit(f"docker {' '.join(args[:2])} failed (exit {done.returncode})")
    return done.stdout or ""


def image_label(image: str, label: str) -> str | None:
    """The image's label value, or None when there is no such image."""
    done = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{label}"}}}}',
            image,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def image_exists(image: str) -> bool:
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    return done.returncode == 0


# -- the base: debootstrap + docker import --------------------------------------------------


def base_tag(suite: str) -> str:
    recipe = "\n".join([BASE_RECIPE_VERSION, suite, "minbase", *BASE_PACKAGES])
    return f"{BASE_REPOSITORY}:{suite}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


def _as_root(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo"):
        return ["sudo", *command]
    raise SystemExit("debootstrap needs root: run as root or install sudo")


def build_base(suite: str, mirror: str | None, rebuild: bool) -> str:
    tag = base_tag(suite)
    if image_exists(tag) and not rebuild:
        say(f"base {tag}: reused")
        return tag
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap is missing: apt-get install debootstrap")
    mirror = mirror or debian_mirror(apt_sources(), suite)
    say(f"base {tag}: debootstrap {suite} from {mirror} (about a minute)")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="critmin-rootfs-", dir=os.environ.get("TMPDIR")))
    rootfs = work / "rootfs"
    try:
        debootstrap = subprocess.run(
            _as_root(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    suite,
                    str(rootfs),
                    mirror,
                ]
            ),
            check=False,
            capture_output=True,
            text=True,
        )
        if debootstrap.returncode != 0:
            tail = "\n".join((debootstrap.stdout + debootstrap.stderr).splitlines()[-30:])
            raise SystemExit(f"debootstrap failed (exit {debootstrap.returncode}):\n{tail}")
        # What an image needs no copy of: downloaded packages, package lists, docs, manuals.
        cleanup = "var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* usr/share/man/*"
        subprocess.run(_as_root(["sh", "-c", f"cd '{rootfs}' && rm -rf {cleanup}"]), check=True)
        tar = subprocess.Popen(
            _as_root(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."]),
            stdout=subprocess.PIPE,
        )
        assert tar.stdout is not None
        docker(
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            'CMD ["bash"]',
            "-",
            tag,
            stdin=tar.stdout.fileno(),
            capture=True,
        )
        tar.stdout.close()
        if tar.wait() != 0:
            raise SystemExit("tar of the debootstrap root file system failed")
    finally:
        subprocess.run(_as_root(["rm", "-rf", str(work)]), check=False)
    say(f"base {tag}: made in {time.monotonic() - started:.0f} s")
    return tag


# -- the server image -----------------------------------------------------------------------


def _copy_readable(source: Path, target: Path) -> None:
    """A copy readable by everyone (the cache's jars are its owner's only; the server in the
    image runs as another user)."""
    shutil.copyfile(source, target)
    target.chmod(0o644)


def stage_context(context: Path) -> str:
    """Fill the build context (recipe files, pinned jars); return the digest of it all."""
    from critmin.server.jars import LOCK_FILE, ensure_jars
    from critmin.server.managed import JVM_OPTIONS

    digest = hashlib.sha256(Path(__file__).read_bytes())  # how the context is made, too
    for name in RECIPE_FILES:
        data = (HERE / name).read_bytes()
        if name == "neo4j.conf":  # the managed server's JVM options, for the same behaviour
            data += "".join(f"server.jvm.additional={o}\n" for o in JVM_OPTIONS).encode()
        digest.update(name.encode() + b"\0" + data + b"\0")
        (context / name).write_bytes(data)
        shutil.copymode(HERE / name, context / name)
    fetched: list[str] = []
    paths = ensure_jars(progress=lambda jar: fetched.append(jar.filename))
    if fetched:
        say(f"downloaded and verified {len(fetched)} pinned jars")
    from importlib import resources

    lock = resources.files("critmin.server").joinpath(LOCK_FILE).read_bytes()
    digest.update(b"lock\0" + lock)
    for role in ("lib", "plugin"):
        folder = context / ("plugins" if role == "plugin" else "lib")
        folder.mkdir()
        for jar in paths[role]:
            _copy_readable(jar, folder / jar.name)
    return digest.hexdigest()


def build_image(tag: str | None, suite: str, mirror: str | None, rebuild: bool) -> str:
    from critmin.server.jars import neo4j_version, pinned_jars

    version = neo4j_version(pinned_jars())
    tag = tag or f"{IMAGE_REPOSITORY}:{version}"
    base = build_base(suite, mirror, rebuild)
    with tempfile.TemporaryDirectory(prefix="critmin-neo4j-image-") as folder:
        context = Path(folder)
        recipe = hashlib.sha256(
            (stage_context(context) + "\0" + base + "\0" + version).encode()
        ).hexdigest()
        if not rebuild and image_label(tag, "org.critmin.recipe") == recipe:
            say(f"image {tag}: reused (recipe {recipe[:12]} unchanged)")
            return tag
        say(f"image {tag}: building on {base}")
        started = time.monotonic()
        docker(
            "build",
            "--network",
            "none",  # nothing is fetched while building
            "--build-arg",
            f"BASE={base}",
            "--build-arg",
            f"NEO4J_VERSION={version}",
            "--label",
            f"org.critmin.recipe={recipe}",
            "--tag",
            tag,
            str(context),
            capture=True,
        )
        say(f"image {tag}: built in {time.monotonic() - started:.0f} s")
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", help=f"image name (default {IMAGE_REPOSITORY}:<neo4j version>)")
    parser.add_argument("--suite", default=SUITE, help=f"Debian release of the base ({SUITE})")
    parser.add_argument("--mirror", help="Debian mirror URL (default: read from apt's sources)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even when up to date")
    parser.add_argument(
        "--print-mirror", action="store_true", help="print the mirror apt's sources name; exit"
    )
    args = parser.parse_args(argv)
    if args.print_mirror:
        print(args.mirror or debian_mirror(apt_sources(), args.suite))
        return 0
    if not shutil.which("docker"):
        raise SystemExit("no docker client on PATH")
    print(build_image(args.tag, args.suite, args.mirror, args.rebuild))
    return 0


if __name__ == "__main__":
    sys.exit(main())
