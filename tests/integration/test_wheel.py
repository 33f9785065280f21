"""The wheel, installed outside the checkout, has everything it needs: the Cypher library, the
bundled tables, the report templates. Built as a user would (``pip wheel``), installed with pip
into a scratch virtual environment in a temporary folder, run from there.

The scratch environment takes the third-party packages of the test environment (a path file, so
nothing is downloaded but the build backend) and critmin itself only from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from critmin.pipeline import load_trades, run_sweep
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv (outside the checkout) with the critmin wheel installed; its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = work.glob("critmin-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / "bin"
    site = Path(
        subprocess.check_output(
            [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            text=True,
        ).strip()
    )
    # Third-party packages from this environment, appended after the scratch site-packages;
    # the editable critmin of the checkout is not on it (its finder is not loaded from here).
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install",
         "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return bin_dir


def _run(bin_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CRITMIN_", "NEO4J_"))}
    return subprocess.run(
        [str(bin_dir / "critmin"), *args],
        cwd=cwd,
        env={**clean, "COLUMNS": "250", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_installed_wheel_is_not_the_checkout(scratch: Path, tmp_path: Path) -> None:
    where = subprocess.check_output(
        [scratch / "python", "-c", "import critmin; print(critmin.__file__)"],
        cwd=tmp_path,
        text=True,
    )
    assert not Path(where.strip()).is_relative_to(ROOT), where
    version = _run(scratch, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("critmin "), version


def test_the_wheel_lists_and_runs_the_cypher_library(
    scratch: Path, tmp_path: Path, store: GraphStore, neo4j_settings: ConnectionSettings
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(
        "year,exporter,importer,hs,tonnes,value_usd\n2022,COD,ZAF,260500,100,1000\n"
        "2022,ZAF,CHN,260500,60,700\n2022,AUS,CHN,260500,20,240\n"
    )
    load_trades(store, [flows])
    run_sweep(store, "cobalt")
    listed = _run(scratch, tmp_path, "query", "--list", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    names = {line.split(",")[0] for line in listed.stdout.splitlines()[1:]}
    shipped = {p.stem for p in (ROOT / "src" / "critmin" / "cypher").glob("*.cypher")}
    assert names == shipped
    ran = _run(
        scratch,
        tmp_path,
        "query", "top_risk_sources", "-p", "commodity=cobalt", "-p", "shock=1.0",
        "--format", "csv",
        NEO4J_URI=neo4j_settings.uri,
        NEO4J_USER=neo4j_settings.user,
        NEO4J_PASSWORD=neo4j_settings.password,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    header, *rows = ran.stdout.splitlines()
    assert header.startswith("rank,source,name,total_failed"), ran.stdout
    assert [row.split(",")[1] for row in rows] == ["COD", "AUS", "ZAF"], ran.stdout
