"""Policy scenarios run from scenario files (``critmin scenario run``), with the stock each
exposed country drew and the stock it would have needed not to fail. The section appears only
when such runs are stored for the report's commodity."""

from __future__ import annotations

import pandas as pd

from critmin.report.figures.canvas import unit_name
from critmin.report.html import Block, NoteBlock, Section, fixed, format_value, table_block
from critmin.report.study import PolicyRun, Study

__all__ = ["policy_findings", "policy_section"]

#: Countries listed per policy scenario and year (the largest needs first).
ROWS = 12


def _summary(study: Study, stock: pd.DataFrame) -> str:
    """One sentence per year: how many failed, and the total stock that would have avoided it."""
    parts = []
    for year, rows in stock.groupby("year"):
        unit = unit_name(str(rows["unit"].iloc[0]))
        failed = rows[rows["failed"].astype(bool)]
        needed = float(rows["stock_needed"].sum())
        text = f"in {year}, {len(failed)} countries failed"
        if len(failed):
            top = failed.sort_values("stock_needed", ascending=False).iloc[0]
            text += (
                f"; together they needed {format_value(needed)} {unit} of stock not to fail, "
                f"{study.label(str(top['country']))} the most "
                f"({format_value(float(top['stock_needed']))} {unit}"
            )
            months = top["stock_needed_months"]
            if months is not None and pd.notna(months):
                text += f", {float(months):.1f} months of its demand"
            text += ")"
        drawn = float(rows["stock_drawn"].sum())
        if drawn > 0:
            text += f"; stockpiles supplied {format_value(drawn)} {unit}"
        parts.append(text)
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _run_blocks(study: Study, policy: PolicyRun) -> list[Block]:
    run, stock = policy.run, policy.stock
    years = ", ".join(str(y) for y in (run.get("years") or []))
    blocks: list[Block] = [
        NoteBlock(
            title=f"{run['title']} ({run['name']})",
            items={
                "scenario file": str(run.get("file") or "not recorded"),
                "model preset": str(run.get("preset") or "paper"),
                "measure": str(run.get("measure") or "not recorded"),
                "failure rule": str(run.get("failure_rule") or "not recorded"),
                "command": str(run.get("command") or "not recorded"),
                "years": years or "not recorded",
                "stored run": str(run["run_id"]),
            },
        )
    ]
    if stock.empty:
        blocks.append(NoteBlock(paragraphs=["No country lost demand or drew on a stock."]))
        return blocks
    blocks.append(NoteBlock(paragraphs=[_summary(study, stock)]))
    unit = unit_name(str(stock["unit"].iloc[0]))
    shown = stock.groupby("year", group_keys=False).head(ROWS).copy()
    shown.insert(3, "name", [study.name(c) for c in shown["country"]])
    shown["failed"] = shown["failed"].map({True: "yes", False: "no"})
    blocks.append(
        table_block(
            shown.drop(columns=["scenario", "unit"]),
            title=f"Stock per exposed country: {run['title']}",
            caption=f"the {ROWS} largest needs per year; stock needed = the smallest stockpile "
            f"with which the country does not fail in this scenario (0: it did not fail); "
            f"months = stock needed / (its internal demand / 12); quantities in {unit}",
            headers={
                "country": "country (ISO3)",
                "demand_loss": f"demand loss ({unit})",
                "stock_drawn": f"stock drawn ({unit})",
                "stock_needed": f"stock needed ({unit})",
                "stock_needed_months": "stock needed (months of demand)",
            },
            formats={"year": str, "stock_needed_months": fixed(1)},
        )
    )
    return blocks


def policy_findings(study: Study) -> dict[str, str]:
    """One key finding per stored policy run: its title and :func:`_summary`."""
    out = {}
    for policy in study.policy:
        run, stock = policy.run, policy.stock
        if not stock.empty:
            out[f"Policy scenario {run['name']}"] = f"{run['title']}: {_summary(study, stock)}"
    return out


def policy_section(study: Study) -> Section | None:
    """The stored policy runs of the report's commodity, or None when there is none."""
    if not study.policy:
        return None
    blocks = [block for policy in study.policy for block in _run_blocks(study, policy)]
    return Section(
        "policy",
        "Policy scenarios",
        "Scenario files (scenarios/*.toml) run with `critmin scenario run` and stored as policy "
        "runs, each with its own shocks, stockpiles and parameters (in the file). They run the "
        "physical preset unless a file says otherwise (a supplier gives at most what it still "
        "has, a country loses at most what it consumes); each run below names its preset, "
        "measure and failure rule.",
        blocks,
    )
