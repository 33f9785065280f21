"""``build_report``: read the stored results, draw the figures, write the page and its PNGs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from critmin.report.html import FigureBlock, Page, Section, render
from critmin.report.rerun import ScenarioChoice
from critmin.report.sections.chain import chain_section, load_chain
from critmin.report.sections.findings import findings_section
from critmin.report.sections.losses import losses_section
from critmin.report.sections.policy import policy_section
from critmin.report.sections.provenance import overview_section, parameters_section
from critmin.report.sections.scenarios import scenarios_section
from critmin.report.sections.sources import curves_section, sources_section
from critmin.report.sections.transit import path_scenarios, transit_section
from critmin.report.study import load_study
from critmin.store.graph import GraphStore

__all__ = ["build_report", "report_filename"]


def report_filename(commodity: str) -> str:
    """
    >>> report_filename("cobalt_oxides")
    'critmin_report_cobalt_oxides.html'
    """
    return f"critmin_report_{commodity}.html"


def build_report(
    store: GraphStore,
    commodity: str,
    out_dir: str | Path,
    *,
    scenarios: Sequence[ScenarioChoice] | None = None,
    top: int = 10,
    mode: str = "export",
) -> Path:
    """Write the HTML report of ``commodity``'s stored scenarios and its figures as PNG files.

    Parameters
    ----------
    store : GraphStore
        The graph holding the trade flows and the scenarios written by ``critmin simulate``.
    commodity : str
        Commodity group id (``cobalt_oxides``).
    out_dir : path
        Folder for the HTML file and the PNG figures (created if needed).
    scenarios : sequence of ScenarioChoice, optional
        Stored scenarios to picture before and after the cascade; by default the top risk
        source's latest year at the largest stored shock.
    top : int
        Rows of the ranking tables and lines of the yearly curves.
    mode : str
        ``export`` (the study) or ``production`` runs.

    Returns
    -------
    Path
        The HTML file; the page embeds its figures, so it can be moved or mailed alone.

    Raises
    ------
    NoScenarios
        When the commodity is unknown or has no stored scenarios (or not the chosen ones).
    """
    study = load_study(store, commodity, mode, top, scenarios)
    paths = path_scenarios(study)
    policy = policy_section(study)
    chain = chain_section(load_chain(store), top)
    sections: list[Section] = [
        findings_section(study, paths),
        overview_section(study),
        sources_section(study),
        curves_section(study),
        losses_section(study),
        transit_section(study, paths),
        scenarios_section(study),
        *([policy] if policy is not None else []),
        *([chain] if chain is not None else []),
        parameters_section(study),
    ]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = Page(
        title=f"Supply-risk report: {study.group.name}",
        subtitle=f"critmin shock-diffusion results for {commodity} "
        f"(HS {', '.join(study.group.hs_codes)}), built {created}",
        sections=sections,
    )
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for section in sections:
        for block in section.blocks:
            if isinstance(block, FigureBlock):
                (folder / block.filename).write_bytes(block.png)
    path = folder / report_filename(commodity)
    path.write_text(render(page), encoding="utf-8")
    return path
