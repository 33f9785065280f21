"""Resolve the managed Neo4j's jar set with Maven once and pin it (maintainers only).

Users never need Maven: ``critmin neo4j start`` downloads exactly the jars listed in
``src/critmin/server/neo4j-jars.tsv`` from Maven Central and checks each SHA-256.
Run this script only to move to another Neo4j, Browser or APOC version:

    python scripts/pin_neo4j_jars.py --neo4j 5.26.19 --browser 5.24.0 --apoc 5.26.19

It needs ``mvn`` on PATH and writes the TSV in place; review the diff before committing.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
OUT = Path(__file__).resolve().parents[1] / "src" / "critmin" / "server" / "neo4j-jars.tsv"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>critmin.pin</groupId><artifactId>{name}</artifactId><version>1</version>
  <dependencies>{deps}</dependencies>
</project>
"""


def _dependency(coordinate: str) -> str:
    group, artifact, version = coordinate.split(":")
    return (
        f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{version}</version></dependency>"
    )


def resolve(name: str, coordinates: list[str]) -> list[tuple[str, str, str, str, Path]]:
    """Return (group, artifact, classifier, version, local file) for the runtime closure."""
    with tempfile.TemporaryDirectory() as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(POM.format(name=name, deps="".join(map(_dependency, coordinates))))
        listing = Path(tmp) / "list.txt"
        subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(pom),
                f"{DEPENDENCY_PLUGIN}:list",
                "-DincludeScope=runtime",
                "-DoutputAbsoluteArtifactFilename=true",
                f"-DoutputFile={listing}",
            ],
            check=True,
        )
        rows = []
        for line in listing.read_text().splitlines():
            line = line.strip().split(" -- ")[0]
            if not line or line.startswith("The following"):
                continue
            parts = line.split(":")
            path = Path(parts[-1])
            if len(parts) == 6:  # group:artifact:type:version:scope:path
                group, artifact, _type, version = parts[:4]
                classifier = ""
            else:  # group:artifact:type:classifier:version:scope:path
                group, artifact, _type, classifier, version = parts[:5]
            rows.append((group, artifact, classifier, version, path))
        return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neo4j", default="5.26.19")
    parser.add_argument("--browser", default="5.24.0")
    parser.add_argument("--apoc", default="5.26.19")
    args = parser.parse_args()

    server = resolve(
        "server",
        [
            f"org.neo4j:neo4j:{args.neo4j}",
            f"org.neo4j.app:neo4j-server:{args.neo4j}",
            f"org.neo4j.client:neo4j-browser:{args.browser}",
        ],
    )
    # APOC 5.26.x after 5.26.0 ships no shaded "core" jar; its classes are split over
    # apoc-core and apoc-common, whose third-party dependencies we add unless the server has them.
    apoc = resolve(
        "apoc",
        [
            f"org.neo4j.procedure:apoc-core:{args.apoc}",
            f"org.neo4j.procedure:apoc-common:{args.apoc}",
        ],
    )
    have = {(g, a) for g, a, *_ in server}
    plugins = [row for row in apoc if (row[0], row[1]) not in have]

    lines = ["role\tgroup\tartifact\tclassifier\tversion\tsha256\tbytes"]
    for role, rows in (("lib", server), ("plugin", plugins)):
        for group, artifact, classifier, version, path in sorted(rows):
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            lines.append(
                f"{role}\t{group}\t{artifact}\t{classifier}\t{version}\t{digest}\t{len(data)}"
            )
    OUT.write_text("\n".join(lines) + "\n")
    print(f"pinned {len(server)} server jars and {len(plugins)} plugin jars in {OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
