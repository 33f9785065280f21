"""`critmin sensitivity` on a small loaded graph: the default point is the stored study's table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.pipeline import load_trades, run_sweep
from critmin.store.graph import GraphStore

pytestmark = pytest.mark.integration

# 2022 reports tonnes for all but 0.2% of its value, 2023 for none: the study reads USD, the
# tonnes variants read 2022 in tonnes (AUS -> FIN imputed, or dropped). One 2022 flow
# (CHN -> FIN) is worth little in tonnes.
FLOWS = """year,exporter,importer,hs,tonnes,value_usd
2022,COD,ZAF,260500,100,1000000
2022,ZAF,CHN,260500,60,700000
2022,ZAF,FIN,260500,30,350000
2022,AUS,CHN,260500,20,240000
2022,CHN,FIN,810520,0.0005,400000
2022,AUS,FIN,260500,,5000
2023,COD,ZAF,260500,,1300000
2023,ZAF,CHN,260500,,800000
2023,AUS,FIN,260500,,300000
"""

GRID = ["--alpha", "0.5", "--absorb", "0", "--fail-abs-scale", "1", "--fail-abs-scale", "10"]


def test_cli_grid_default_point_is_the_study(
    store: GraphStore, neo4j_env: None, tmp_path: Path
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    load_trades(store, [flows])
    runner = CliRunner()
    command = ["sensitivity", "--commodity", "cobalt", *GRID, "--workers", "1"]
    out = tmp_path / "grid.csv"
    ran = runner.invoke(app, [*command, "--table", "points", "--table", "bands", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert "Sensitivity bands of the top 10 sources: cobalt" in ran.output
    assert "Kendall tau-b" in ran.output and "unit USD" in ran.output
    assert "data: value = USD (5 countries); tonnes = t 2022, USD 2023" in " ".join(
        ran.output.split()
    )

    # Not stored: the graph holds no scenario, and the default point is the plain study.
    assert store.records("MATCH (s:Scenario) RETURN count(s) AS n") == [{"n": 0}]
    study = run_sweep(store, "cobalt", write=False).tables.sources
    points = pd.read_csv(out.with_name("grid_points.csv"), comment="#")
    default = points[points["is_default"]].drop(columns=points.columns[:11].drop("fraction"))
    default = default.reset_index(drop=True)[list(study.columns)]
    pd.testing.assert_frame_equal(default, study, check_dtype=False)
    header = out.with_name("grid_bands.csv").read_text()
    assert "# default_point: paper alpha=0.8 absorb=0 any-loss fail_abs=x1 data=value" in header
    # 2 presets x 2 alpha x 1 absorb x 3 rules x 2 scales x 3 data variants
    assert points["point"].nunique() == 72
    assert set(points["preset"]) == {"paper", "physical"}

    agreement = runner.invoke(app, [*command, "--table", "agreement", "--format", "json"])
    assert agreement.exit_code == 0, agreement.output
    payload = json.loads(agreement.stdout.splitlines()[-1])
    assert payload["parameters"]["grid_points"] == 72
    rows = pd.DataFrame(payload["rows"])
    assert len(rows) == 72 * 2
    assert rows.loc[rows["is_default"], "kendall_tau_b"].tolist() == [1.0, 1.0]
    assert rows["kendall_tau_b"].between(-1, 1).all()

    bad = runner.invoke(app, ["sensitivity", "--commodity", "cobalt", "--data", "weight"])
    assert bad.exit_code == 2 and "weight" in bad.output
