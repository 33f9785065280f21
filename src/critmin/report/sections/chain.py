"""The supply-chain section: one miner's stop followed down the chain's stages.

The chain is the cobalt chain (``cobalt_chain``: ores, intermediates, refined) when its
scenarios are stored, else the demo's (``cobalt_demo``: mine production, then HS 282200); the
scenario is the DRC's stop at stage 0 (its latest year and largest shock). The section shows the
losses per stage, the refiners that carry the cut (a country whose loss at one stage cut its
own output at the next: the STARVES links) and the widest paths from the mine to the countries
that lose metal at the last stage, crossing the stages. Read once by :func:`load_chain`;
:func:`chain_section` renders what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmin.report.figures.paths import paths_figure
from critmin.report.html import Block, NoteBlock, Section, format_value, table_block
from critmin.report.paths import critical_paths
from critmin.report.study import DRC, figure_block
from critmin.store.graph import GraphStore
from critmin.store.networks import country_names
from critmin.store.scenario_reads import chain_scenario
from critmin.units import Unit

__all__ = ["CHAINS", "ChainReport", "chain_section", "load_chain", "node"]

#: The chains the section looks for, first found first.
CHAINS = ("cobalt_chain", "cobalt_demo")


def node(country: str, stage: int) -> str:
    """A country at one stage, as the section's paths name it.

    >>> node("CHN", 1)
    'CHN@1'
    """
    return f"{country}@{int(stage)}"


@dataclass(frozen=True)
class ChainReport:
    """One stored chain scenario, as read from the graph."""

    chain: str
    source: str
    props: dict[str, Any]
    impacts: pd.DataFrame
    hops: pd.DataFrame
    names: dict[str, str]

    @property
    def last(self) -> int:
        return int(self.props["stages"][-1])

    @property
    def estimated(self) -> list[int]:
        return [int(k) for k in self.props.get("estimated_stages") or []]

    def note(self) -> str:
        """Unit, preset and estimates: what every table and figure of the section says."""
        p = self.props
        estimated = ", ".join(map(str, self.estimated)) or "none"
        rule = (
            f"a country fails when its demand loss exceeds fail_abs = "
            f"{format_value(float(p.get('fail_abs') or 0.0))} {Unit.METAL.label}"
        )
        if float(p.get("fail_rel") or 0.0) > 0:
            rule += f" and {float(p['fail_rel']):g} × its internal demand"
        return (
            f"{Unit.METAL.label}; chain {self.chain}, {self.names.get(self.source, self.source)}"
            f" shocked at stage 0 ({p['mode']} mode, shock {float(p['shock']):g}), {p['year']}; "
            f"preset {p.get('preset', 'custom')}, alpha={p.get('alpha')}, absorb="
            f"{p.get('absorb')}, supplier_cap={p.get('supplier_cap')}; stage output P^k "
            f"estimated at stage(s): {estimated}. Failure rule: {rule} (a shocked source never "
            "counts)."
        )

    def stages(self) -> pd.DataFrame:
        """Per stage the run reached: its commodity, ``S0^k``, coupling cut, losses, failures."""
        p = self.props
        commodities = list(p.get("stage_commodities") or [])
        stages = [int(k) for k in p["stages"]]
        return pd.DataFrame(
            {
                "stage": stages,
                "commodity": [commodities[k] if k < len(commodities) else "" for k in stages],
                "initial_shock": p["stage_initial_shock_t_metal"],
                "coupling_cut": p["stage_coupling_cut_t_metal"],
                "demand_loss": p["stage_demand_loss_t_metal"],
                "n_failed": p["stage_n_failed"],
                "estimated": ["yes" if k in self.estimated else "no" for k in stages],
            }
        )

    def refiners(self) -> pd.DataFrame:
        """Per STARVES link: what the country lost upstream, the output it cut, what it passed
        on downstream (its TRANSMITS there) and kept (its loss there), largest cut first."""
        loss = {
            (c, int(k)): float(q)
            for c, k, q in zip(
                self.impacts["country"], self.impacts["stage"], self.impacts["demand_loss"],
                strict=True,
            )
        }  # fmt: skip
        hops = self.hops
        passed = (
            hops[hops["kind"] == "TRANSMITS"]
            .groupby(["from_country", "from_stage"])["quantity"]
            .sum()
            .to_dict()
        )
        links = hops[hops["kind"] == "STARVES"]
        rows = [
            {
                "country": c,
                "name": self.names.get(c, c),
                "stages": f"{int(a)} → {int(b)}",
                "input_lost": loss.get((c, int(a)), 0.0),
                "output_cut": float(q),
                "passed_on": float(passed.get((c, int(b)), 0.0)),
                "kept_loss": loss.get((c, int(b)), 0.0),
            }
            for c, a, b, q in zip(
                links["from_country"], links["from_stage"], links["to_stage"], links["quantity"],
                strict=True,
            )
        ]  # fmt: skip
        frame = pd.DataFrame(rows, columns=["country", "name", "stages", "input_lost"])
        if rows:
            frame = pd.DataFrame(rows).sort_values("output_cut", ascending=False)
        return frame.reset_index(drop=True)

    def losers(self, top: int) -> pd.DataFrame:
        """The countries that lose most at the last stage."""
        at = self.impacts[(self.impacts["stage"] == self.last) & (self.impacts["demand_loss"] > 0)]
        at = at.sort_values("demand_loss", ascending=False).head(top)
        return pd.DataFrame(
            {
                "country": at["country"],
                "name": [self.names.get(c, c) for c in at["country"]],
                "demand_loss": at["demand_loss"],
                "coupling_cut": at["coupling_cut"],
                "failed": ["yes" if f else "no" for f in at["failed"]],
            }
        )


def load_chain(
    store: GraphStore, chains: Sequence[str] = CHAINS, source: str = DRC
) -> ChainReport | None:
    """The first of ``chains`` with a stored scenario of ``source`` at stage 0, read once."""
    for chain in chains:
        found = chain_scenario(store, chain, source)
        if found is not None:
            props, impacts, hops = found
            return ChainReport(chain, source, props, impacts, hops, country_names(store))
    return None


QUANTITIES = (
    "initial_shock",
    "coupling_cut",
    "demand_loss",
    "input_lost",
    "output_cut",
    "passed_on",
    "kept_loss",
)


def _metal_table(frame: pd.DataFrame, title: str, caption: str) -> Block:
    """A table whose quantity columns name their unit."""
    headers = {c: f"{c} ({Unit.METAL.label})" for c in QUANTITIES if c in frame}
    return table_block(frame, title=title, caption=caption, headers=headers)


def _labelled(
    impacts: pd.DataFrame, names: Mapping[str, str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    frame = impacts.assign(
        country=[node(c, k) for c, k in zip(impacts["country"], impacts["stage"], strict=True)]
    )
    labels = {
        node(c, k): f"{names.get(c, c)}, stage {int(k)}"
        for c, k in zip(impacts["country"], impacts["stage"], strict=True)
    }
    return frame, labels


def _path_blocks(report: ChainReport, top: int) -> list[Block]:
    impacts, labels = _labelled(report.impacts, report.names)
    hops = report.hops
    edges = pd.DataFrame(
        {
            "from": [
                node(c, k) for c, k in zip(hops["from_country"], hops["from_stage"], strict=True)
            ],
            "to": [node(c, k) for c, k in zip(hops["to_country"], hops["to_stage"], strict=True)],
            "quantity": hops["quantity"].astype(float),
            "share": hops["share"].astype(float),
        }
    )
    # Targets are chosen among the last stage's losers; every node keeps its own figures.
    last = impacts["country"].str.endswith(f"@{report.last}")
    targets = impacts.assign(demand_loss=impacts["demand_loss"].where(last, 0.0))
    source = node(report.source, 0)
    found = critical_paths(targets, edges, source, n_targets=min(top, 6))
    if not found.paths:
        return [NoteBlock("Paths", [f"No stored hop leads from {source} to the last stage."])]
    s0 = float(report.props["stage_initial_shock_t_metal"][0])
    figure = paths_figure(
        found,
        impacts,
        unit=Unit.METAL.value,
        initial_shock=s0,
        title=f"{report.names.get(report.source, report.source)}'s stop down chain {report.chain}",
        names=labels,
        note=report.note(),
    )
    table = found.table(impacts, s0)
    return [
        figure_block(
            figure,
            f"chain_paths_{report.chain}.png",
            "The widest paths from the mine to the last stage's losers",
            "columns are hops from the stopped mine (NAME@k: a country at stage k). An arrow "
            "within a stage is loss passed on (TRANSMITS); an arrow from X@k to X@k+1 is X's own "
            "output cut because it lost input (STARVES). Width and label: share of that stage's "
            "initial shock.",
            report.note(),
        ),
        table_block(
            table,
            title="Paths to the last stage's largest losses",
            caption=f"path: countries at their stage (@k); {report.note()}",
        ),
    ]


def chain_section(report: ChainReport | None, top: int = 10) -> Section | None:
    """The section, or None when no chain scenario is stored."""
    if report is None:
        return None
    blocks: list[Block] = [
        _metal_table(
            report.stages(),
            title="Losses per stage",
            caption=f"initial_shock: S0^k (the shock at stage 0, the coupling cut below); "
            f"estimated: the stage's output P^k is the project's estimate; {report.note()}",
        ),
        _metal_table(
            report.refiners(),
            title="The refiners that carry the cut",
            caption=f"input_lost: its loss at the upper stage; output_cut: the output that loss "
            f"cut; passed_on: what it then passed on at the lower stage; kept_loss: what it lost "
            f"there itself; {report.note()}",
        ),
        _metal_table(
            report.losers(top),
            title=f"Who loses metal at the last stage (stage {report.last})",
            caption=report.note(),
        ),
        *_path_blocks(report, top),
    ]
    return Section(
        "chain",
        f"Supply chain: the DRC's stop down {report.chain}",
        "A mine's stop followed stage by stage: what each stage loses, which countries' own "
        "output the loss cuts (the refiners), and along which paths the cut reaches the "
        "countries that lose metal at the chain's last stage (docs/model.md, 'Supply chains').",
        blocks,
    )
