"""The report on the demo graph (the bundled real sample, swept as `critmin demo` does): key
findings generated from the stored numbers, transit hubs and critical paths, data-coverage
notes, the policy section once a policy run is stored, and a screenshot in headless Chromium.

Expected values are read through the store's functions, never written here, so the tests hold
for any data the demo loads.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from html import unescape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_client import chromium_page
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.policy import read_scenario, run_policy
from critmin.report import build_report
from critmin.report.sections.chain import load_chain
from critmin.report.sections.policy import percent
from critmin.report.sections.transit import hub_frame
from critmin.store.graph import GraphStore
from critmin.store.scenario_reads import (
    country_table,
    policy_runs,
    policy_stock,
    source_table,
    yearly_failures,
)

pytestmark = pytest.mark.integration

COMMODITY = "cobalt_oxides"
ROOT = Path(__file__).resolve().parents[2]
DRC_BAN = ROOT / "scenarios" / "drc-cobalt-ban-2025.toml"
NEW_SECTIONS = {
    "findings": "Key findings",
    "transit": "Transit hubs and critical paths",
    "policy": "Policy scenarios",
}


def _section(html: str, section: str) -> str:
    return html.split(f'<section id="{section}"')[1].split("</section>")[0]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#39;", "'")


def test_findings_state_the_stored_numbers(demo_store: GraphStore, tmp_path: Path) -> None:
    assert policy_runs(demo_store, COMMODITY).empty  # the empty case: no policy run yet
    html = build_report(demo_store, COMMODITY, tmp_path).read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections[0] == "findings" and "transit" in sections and "policy" not in sections
    findings = _text(_section(html, "findings"))

    table, context = source_table(demo_store, COMMODITY, 1.0)
    top = table.iloc[0]
    years = f"{context['first_year']}–{context['last_year']}"
    assert (
        f"({top['source']}) fails the most countries: {int(top['total_failed']):,} "
        f"country-years over {years}, an average failure rate of {top['failure_rate']:.3f}"
    ) in findings
    assert "alpha 0.8, failure above 1,000 USD lost" in findings  # parameters, with the unit

    latest = yearly_failures(demo_store, str(context["run_id"]), 1.0)
    in_2024 = latest[latest["year"] == 2024].sort_values(
        ["n_failed", "source"], ascending=[False, True]
    )
    best = in_2024.iloc[0]
    assert "In 2024 alone (the one year with complete flows)," in findings
    assert f"({best['source']}) fails the most countries at a 100% cut: {best['n_failed']}" in (
        findings
    )

    countries, _ = country_table(demo_store, COMMODITY, 1.0)
    hub = hub_frame(countries, "USD").iloc[0]
    assert (
        f"({hub['country']}) passed on {hub['share_passed_on']:.0%} of the "
        f"{hub['received']:,.0f} USD it received"
    ) in findings
    assert "Critical path from COD, 2024" in findings
    assert "the 2002–2023 flows hold each country's top partners only" in findings
    assert "2024 holds every reported flow" in findings
    assert "2,952 failed countries" in findings and "HS 282200" in findings
    assert "critmin sensitivity --commodity cobalt_oxides" in findings

    transit = _text(_section(html, "transit"))
    assert "Critical paths: Dem. Rep. of the Congo (COD), 2024, 100% export cut" in transit
    assert "COD → " in transit  # a path of the DRC's scenario, read from its TRANSMITS
    figures = {p.name for p in tmp_path.glob("*.png")}
    assert {"transit_hubs_100pct.png", "critical_paths_COD_2024_100pct.png"} <= figures
    assert f"critical_paths_{top['source']}_2024_100pct.png" in figures
    # Every figure carries the parameters and the failure rule in its caption.
    for caption in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S):
        assert "alpha=0.8" in caption and "fails when its demand loss exceeds" in caption


def test_chain_section_follows_the_drc_down_the_demo_chain(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    """No cobalt_chain stages are bundled, so the section shows the demo chain's DRC stop."""
    chain = load_chain(demo_store)
    assert chain is not None and chain.chain == "cobalt_demo" and chain.estimated == [1]
    html = build_report(demo_store, COMMODITY, tmp_path).read_text(encoding="utf-8")
    text = _text(_section(html, "chain"))
    assert "cobalt_demo" in text and "t contained metal" in text
    assert "estimated at stage(s): 1" in text
    refiners = chain.refiners()
    assert refiners.loc[0, "country"] == "COD"  # the DRC's own hydroxide output is cut
    top = chain.losers(1).iloc[0]
    assert top["name"] in text and top["demand_loss"] > 0
    stages = chain.stages()
    # The stage-1 shock is the coupling cut, which the stage-1 losses settle.
    assert stages.loc[1, "initial_shock"] == pytest.approx(stages.loc[1, "coupling_cut"])
    assert stages.loc[1, "demand_loss"] == pytest.approx(stages.loc[1, "initial_shock"], rel=1e-3)
    assert (tmp_path / "chain_paths_cobalt_demo.png").stat().st_size > 0


def test_policy_section_appears_once_a_policy_run_is_stored(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    scenario = read_scenario(DRC_BAN)
    run_policy(demo_store, scenario)
    stock = policy_stock(demo_store, scenario.run_id)
    assert not stock.empty
    html = build_report(demo_store, COMMODITY, tmp_path).read_text(encoding="utf-8")
    policy = _text(_section(html, "policy"))
    assert scenario.title in policy and scenario.path.name in policy
    # The run names its model, measure and failure rule (contained cobalt, on the fallback).
    assert "model preset physical" in policy and "measure metal" in policy
    assert "failure rule share-1pct (failed: loss > 1 t contained metal" in unescape(policy)
    first = stock.iloc[0]  # the largest share of consumption lost among the failed
    assert first["failed"] and f"{first['country']} " in policy
    assert "stock needed (months of demand)" in policy
    # Ranked by the share of consumption lost, shown as a column, with unit, preset and rule.
    assert f"Countries by share of consumption lost: {scenario.title}" in policy
    assert "share of consumption lost" in policy and "preset physical" in policy
    assert percent(first["share_of_consumption_lost"]) in policy
    failed = stock[stock["failed"]]
    shares = failed["share_of_consumption_lost"].dropna().to_numpy()
    assert (shares[:-1] >= shares[1:]).all()
    assert ("unbalanced (t contained metal)" in policy) == bool((stock["unbalanced"] != 0).any())
    assert f"Policy scenario {scenario.name}" in _text(_section(html, "findings"))


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served on 127.0.0.1 (the test browser may load nothing else)."""
    folder = tmp_path / "report"
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.browser
def test_new_sections_render_in_chromium(
    demo_store: GraphStore, served: tuple[Path, str], tmp_path: Path
) -> None:
    folder, base = served
    if policy_runs(demo_store, COMMODITY).empty:  # run alone: store one, as the test above does
        run_policy(demo_store, read_scenario(DRC_BAN))
    page_path = build_report(demo_store, COMMODITY, folder)
    shot = tmp_path / "report_screenshot.png"
    problems: list[str] = []
    with chromium_page(tmp_path / "profile", width=1280, height=1000) as page:
        page.on(
            "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/{page_path.name}", wait_until="load")
        page.wait_for_function("document.body.dataset.imagesOk !== undefined", timeout=60_000)
        assert page.get_attribute("body", "data-images-ok") == "true"
        for section, title in NEW_SECTIONS.items():
            heading = page.locator(f"section#{section} > h2")
            assert heading.inner_text() == title
            assert heading.is_visible()
        widths = page.evaluate(
            """() => [...document.querySelectorAll(
                   'section#findings img, section#transit img, section#failure-curves img')]
                 .map(img => [img.alt, img.naturalWidth, img.getBoundingClientRect().width])"""
        )
        assert len(widths) >= 4  # hub bars, two critical-path figures, the yearly curves
        for alt, natural, shown in widths:
            assert natural > 0 and shown > 0, alt
        order = page.evaluate("() => [...document.querySelectorAll('section')].map(s => s.id)")
        assert order[0] == "findings" and "policy" in order
        page.screenshot(path=str(shot), full_page=True)
    assert problems == []
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")


@pytest.mark.usefixtures("neo4j_env")
def test_cli_simulates_a_chain(demo_store: GraphStore) -> None:
    """`critmin simulate --commodity CHAIN_ID` sweeps the chain and names stage, unit, preset."""
    runner = CliRunner()
    args = ["simulate", "--commodity", "cobalt_demo", "--years", "2024", "--shock", "1.0"]
    ran = runner.invoke(app, [*args, "--mode", "production", "--source", "COD"])
    assert ran.exit_code == 0, ran.output
    out = " ".join(ran.output.split())
    assert "cobalt_demo: 2 stages" in out and "t contained metal" in out
    assert "preset paper" in out and "estimated at stage(s) 1" in out
    assert "demand_loss_stage1_t_metal" in out
    # Failure counts print as counts (a pivot of the stage table once made them "88.00"): the
    # last two columns are n_failed_stage0 and n_failed_stage1.
    row = next(line for line in ran.output.splitlines() if "Congo" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert all(c.isdigit() for c in cells[-2:]), row
    refused = runner.invoke(app, [*args, "--target", "CHN"])
    assert refused.exit_code == 2 and "--target apply to one commodity" in refused.output
