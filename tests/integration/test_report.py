"""The HTML report end to end: a small known network in Neo4j, a sweep, the report, a browser."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser_client import CHROMIUM_ARGS
from matplotlib.image import imread
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.loader.commodities import load_groups
from critmin.report import ScenarioChoice, build_report
from critmin.simulator import SweepResult, TradeNetwork, sweep
from critmin.store.graph import GraphStore
from critmin.store.loading import PRODUCED, TRADES, apply_plan, plan_load
from critmin.store.networks import read_panel
from critmin.store.scenario_writes import RunInfo, write_sweep

pytestmark = pytest.mark.integration

COMMODITY = "cobalt_oxides"
SECTIONS = [
    "findings",
    "overview",
    "risk-sources",
    "failure-curves",
    "demand-loss",
    "transit",
    "scenarios",
    "parameters",
]
NAMES = {
    "COD": "Dem. Rep. of the Congo",
    "ZAF": "South Africa",
    "CHN": "China",
    "BEL": "Belgium",
    "USA": "USA",
    "JPN": "Japan",
    "FIN": "Finland",
    "SGP": "Singapore",
}
# exporter, importer, tonnes in 2023 and in 2024 (0 = no flow that year); SGP has no outline
FLOWS = [
    ("COD", "CHN", 100.0, 120.0),
    ("COD", "ZAF", 40.0, 30.0),
    ("ZAF", "CHN", 30.0, 25.0),
    ("ZAF", "BEL", 10.0, 12.0),
    ("CHN", "USA", 20.0, 22.0),
    ("CHN", "JPN", 15.0, 18.0),
    ("BEL", "USA", 5.0, 6.0),
    ("FIN", "BEL", 8.0, 0.0),
    ("SGP", "JPN", 3.0, 4.0),
    ("USA", "FIN", 2.0, 3.0),
    ("JPN", "SGP", 1.0, 1.0),
]
PARAMETERS = {
    "alpha": 0.8,
    "absorb": 0.0,
    "supplier_cap": "none",
    "fail_rel": 0.0,
    "fail_abs": 1e-3,
    "mode": "export",
}


def _load(store: GraphStore) -> None:
    rows = [
        (year, e, i, t)
        for e, i, t2023, t2024 in FLOWS
        for year, t in ((2023, t2023), (2024, t2024))
        if t > 0
    ]
    trades = pd.DataFrame(rows, columns=["year", "exporter", "importer", "tonnes"]).assign(
        hs="282200", source="test network"
    )
    trades["value_usd"] = trades["tonnes"] * 30_000.0
    production = pd.DataFrame(
        {
            "year": [2023, 2024],
            "country": ["COD", "COD"],
            "commodity": "cobalt",
            "tonnes": [150.0, 160.0],
            "source": "test production",
        }
    )
    group = load_groups()[COMMODITY]
    commodities = [
        {
            "id": COMMODITY,
            "name": group.name,
            "hs_codes": list(group.hs_codes),
            "production_commodity": "cobalt",
        },
        {"id": "cobalt", "name": "Cobalt", "hs_codes": [], "production_commodity": "cobalt"},
    ]
    for kind, frame in ((TRADES, trades), (PRODUCED, production)):
        apply_plan(store, plan_load(store, kind, frame, NAMES, commodities))


@pytest.fixture()
def swept(store: GraphStore) -> SweepResult:
    """The known network loaded, swept at 100% and 50% and stored; the sweep's own tables."""
    _load(store)
    group = load_groups()[COMMODITY]
    panel = read_panel(store, group, [2023, 2024], "tonnes")
    networks = {
        year: TradeNetwork.from_frames(
            panel.year_flows(year), panel.year_production(year), unit="t"
        )
        for year in panel.years
    }
    result = sweep(networks, fractions=(1.0, 0.5), keep_share=1e-3, **PARAMETERS)
    info = RunInfo(
        id="run_report_test",
        command="critmin simulate --commodity cobalt_oxides",
        commodity=COMMODITY,
        unit=panel.unit,
        parameters=PARAMETERS,
        n_panel=len(panel.countries),
        data_versions={year: panel.data_version(year) for year in panel.years},
        extra={"keep_share": 1e-3, "measure": "tonnes"},
        is_study=True,
    )
    write_sweep(store, result.runs, result.impacts, result.transmitted, info)
    return result


def _expected_top(result: SweepResult, fraction: float) -> tuple[str, int]:
    runs = result.runs[result.runs["fraction"] == fraction]
    totals = runs.groupby("sources")["n_failed"].sum()
    best = totals.max()
    return str(min(totals.index[totals == best])), int(best)


def test_report_shows_the_sweeps_numbers(
    swept: SweepResult, store: GraphStore, tmp_path: Path
) -> None:
    path = build_report(store, COMMODITY, tmp_path)
    html = path.read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)"', html) == SECTIONS
    for fraction in (1.0, 0.5):
        source, total = _expected_top(swept, fraction)
        table = html.split(f"Top 8 risk sources, {fraction:.0%} export cut")[1].split("</table>")[0]
        first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", table, re.S)
        assert first_row is not None
        assert (
            f"<td>{source}</td>" in first_row[1] and f'<td class="num">{total}</td>' in first_row[1]
        )
    assert "total failed / (2 years × 8 countries)" in html  # the formula with Y and N
    assert "fail_abs=0.001 t" in html and "tonnes" in html
    assert "Singapore (SGP)" in html  # a loss with no outline is named, with its value
    top_source, _ = _expected_top(swept, 1.0)
    assert f"{top_source} 2024, 100% export cut" in html  # the default scenario
    assert "as stored, on unchanged data" in html
    for credit in (
        "CEPII BACI, version V202601",
        "Mineral Commodity Summaries",
        "Our World in Data",
    ):
        assert credit in html
    figures = sorted(p.name for p in tmp_path.glob("*.png"))
    paths = {f"critical_paths_{code}_2024_100pct.png" for code in (top_source, "COD")}
    assert figures == sorted(
        [
            "failure_curves_100pct.png",
            "failure_curves_50pct.png",
            "loss_map_100pct.png",
            "loss_map_50pct.png",
            f"network_{top_source}_2024_100pct.png",
            "transit_hubs_100pct.png",
            *paths,
        ]
    )
    # The key findings come first and carry the top source's numbers, unit, shock and years.
    findings = html.split('<section id="findings"')[1].split("</section>")[0]
    top_total = _expected_top(swept, 1.0)[1]
    assert f"At a 100% export cut, {NAMES[top_source]} ({top_source}) fails the most" in findings
    assert f"{top_total} country-years over 2023–2024" in findings
    assert "alpha 0.8, failure above 0.001 tonnes lost" in findings
    assert "critmin sensitivity --commodity cobalt_oxides" in findings
    assert "Data coverage" not in html  # the test network's flows are complete
    assert 'id="policy"' not in html  # no policy run stored
    assert html.count('src="data:image/png;base64,') == len(figures)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_report_pictures_the_chosen_scenarios(
    swept: SweepResult, store: GraphStore, tmp_path: Path
) -> None:
    choices = [ScenarioChoice("ZAF", 2023, 0.5), ScenarioChoice("CHN", 2024, 1.0)]
    html = build_report(store, COMMODITY, tmp_path, scenarios=choices, top=3).read_text()
    assert "ZAF 2023, 50% export cut; CHN 2024, 100% export cut" in html
    assert (tmp_path / "network_ZAF_2023_50pct.png").is_file()
    assert html.count("Network measures before and after") == 2
    assert "Top 3 risk sources" in html


def test_cli_writes_the_report(swept: SweepResult, neo4j_env: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--commodity",
            COMMODITY,
            "--out",
            str(tmp_path),
            "--scenario-source",
            "zaf",
            "--scenario-year",
            "2024",
            "--scenario-shock",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "critmin_report_cobalt_oxides.html" in result.output
    assert (tmp_path / "network_ZAF_2024_50pct.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--commodity", "unobtainium"], "unknown commodity 'unobtainium'"),
        (
            ["--commodity", COMMODITY, "--scenario-source", "USA", "--scenario-year", "1999"],
            "no stored 100% export scenario for cobalt_oxides, source USA, year 1999",
        ),
    ],
)
def test_cli_explains_what_is_missing(
    swept: SweepResult, neo4j_env: None, tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI is set and Chromium is missing: apt-get install chromium")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


def _browse(page: Path, profile: Path, *action: str) -> str:
    command = [
        _chromium(),
        *CHROMIUM_ARGS,
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *action,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)
    return done.stdout


@pytest.mark.browser
def test_report_renders_in_a_browser(swept: SweepResult, store: GraphStore, tmp_path: Path) -> None:
    page = build_report(store, COMMODITY, tmp_path / "report")
    dom = _browse(page, tmp_path / "profile", "--dump-dom")
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-images-ok="true"' in body[0], body[0]
    count = len(list((tmp_path / "report").glob("*.png")))
    assert f'data-images-total="{count}"' in body[0]
    assert f'data-images-decoded="{count}"' in body[0]
    for section in SECTIONS:
        assert f'data-section="{section}"' in dom
    shot = tmp_path / "report.png"
    _browse(page, tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={shot}")
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])
    assert (width, height) == (1280, 2400)
    pixels = np.asarray(imread(shot))[..., :3]
    assert pixels.std() > 0.05  # not a blank page
    assert (pixels < 0.5).mean() > 0.01  # text and figures drawn


def test_report_shows_one_parameter_set(
    swept: SweepResult, store: GraphStore, tmp_path: Path
) -> None:
    group = load_groups()[COMMODITY]
    panel = read_panel(store, group, [2024], "tonnes")
    network = TradeNetwork.from_frames(
        panel.year_flows(2024), panel.year_production(2024), unit="t"
    )
    other = {**PARAMETERS, "alpha": 0.5}
    result = sweep({2024: network}, fractions=(1.0,), **other)
    info = RunInfo(
        id="run_alpha_05",
        command="critmin simulate --alpha 0.5",
        commodity=COMMODITY,
        unit="t",
        parameters=other,
        n_panel=len(panel.countries),
        data_versions={2024: panel.data_version(2024)},
    )
    write_sweep(store, result.runs, result.impacts, result.transmitted, info)
    html = build_report(store, COMMODITY, tmp_path).read_text()
    # The study (flagged when stored), though the alpha 0.5 set is newer, as `critmin results`
    # and the library's queries pick it; the other set named, never pooled.
    assert "1 other parameter set(s) are stored for cobalt_oxides" in html
    assert "Other parameter sets stored (not in this report)" in html
    main = html.split("Other parameter sets stored")[0]
    assert "alpha=0.8, fail_abs=0.001 t" in main and "alpha=0.5, fail_abs" not in main
    assert "run run_report_test" in html and "run_alpha_05" in html
    assert "total failed / (2 years × 8 countries)" in html
    assert sorted(p.name for p in tmp_path.glob("failure_curves_*.png")) == [
        "failure_curves_100pct.png",
        "failure_curves_50pct.png",
    ]
