"""Policy scenarios run from scenario files (``critmin scenario run``), with the stock each
exposed country drew and the stock it would have needed not to fail. The section appears only
when such runs are stored for the report's commodity."""

from __future__ import annotations

import math
from numbers import Real

import pandas as pd

from critmin.policy.run import rank_by_share
from critmin.report.figures.canvas import unit_name
from critmin.report.html import Block, NoteBlock, Section, fixed, format_value, table_block
from critmin.report.study import PolicyRun, StoredStudy

__all__ = ["percent", "policy_findings", "policy_section"]

#: Countries listed per policy scenario and year (the largest shares of consumption lost first).
ROWS = 12


def percent(value: object) -> str:
    """A share as a percentage with one decimal; a dash where there is none (the country
    consumes nothing).

    >>> percent(0.4567), percent(0.0001), percent(float("nan")), percent(None)
    ('45.7%', '0.0%', '–', '–')
    """
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
        return "–"
    return f"{float(value):.1%}"


def _summary(study: StoredStudy, stock: pd.DataFrame) -> str:
    """One sentence per year: how many failed, who lost the largest share of its consumption,
    and the total stock that would have avoided the failures."""
    parts = []
    for year, rows in stock.groupby("year"):
        unit = unit_name(str(rows["unit"].iloc[0]))
        failed = rows[rows["failed"].astype(bool)]
        needed = float(rows["stock_needed"].sum())
        text = f"in {year}, {len(failed)} countries failed"
        # The table's first row: among the failed if any failed, so that a country losing a
        # few kilograms (all it consumes) does not head the sentence.
        first = rank_by_share(rows).iloc[0]
        if pd.notna(first["share_of_consumption_lost"]):
            text += (
                f"; {study.label(str(first['country']))} lost the largest share of its "
                f"consumption{' among them' if len(failed) else ''} "
                f"({percent(first['share_of_consumption_lost'])}, "
                f"{format_value(float(first['demand_loss']))} {unit})"
            )
        if len(failed):
            top = failed.sort_values("stock_needed", ascending=False).iloc[0]
            text += (
                f"; together the failed needed {format_value(needed)} {unit} of stock not to "
                f"fail, {study.label(str(top['country']))} the most "
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


def _run_blocks(study: StoredStudy, policy: PolicyRun) -> list[Block]:
    run, stock = policy.run, policy.stock
    years = ", ".join(str(y) for y in (run.get("years") or []))
    preset = str(run.get("preset") or "paper")
    rule = str(run.get("failure_rule") or "not recorded")
    stated = rule.removeprefix("failure rule ")  # the item's name says it
    blocks: list[Block] = [
        NoteBlock(
            title=f"{run['title']} ({run['name']})",
            items={
                "scenario file": str(run.get("file") or "not recorded"),
                "model preset": preset,
                "measure": str(run.get("measure") or "not recorded"),
                "failure rule": stated,
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
    ranked = rank_by_share(stock)
    shown = ranked.groupby("year", group_keys=False).head(ROWS).copy()
    shown.insert(3, "name", [study.name(c) for c in shown["country"]])
    shown["failed"] = shown["failed"].map({True: "yes", False: "no"})
    columns = ["year", "country", "name", "failed", "share_of_consumption_lost", "demand_loss"]
    unbalanced = bool((ranked["unbalanced"].astype(float) != 0).any())
    if unbalanced:  # only inconsistent data produce it: the column appears when they do
        columns.append("unbalanced")
    columns += ["stock_drawn", "stock_needed", "stock_needed_months"]
    caption = (
        f"the {ROWS} first per year: failed countries first, each group ranked by the share of "
        "its consumption lost (demand loss / its internal demand; – where it consumes nothing); "
        f"preset {preset}; {rule}; stock needed = the smallest stockpile with which the country "
        "does not fail in this scenario (0: it did not fail); months = stock needed / (its "
        f"internal demand / 12); quantities in {unit}"
    )
    if unbalanced:
        caption += (
            "; unbalanced = loss settled beyond the country's consumption with no exports left "
            "to cut (a data inconsistency, such as a negative apparent consumption)"
        )
    else:
        caption += "; no country settled a loss beyond its consumption (unbalanced 0)"
    blocks.append(
        table_block(
            shown[columns],
            title=f"Countries by share of consumption lost: {run['title']}",
            caption=caption,
            headers={
                "country": "country (ISO3)",
                "share_of_consumption_lost": "share of consumption lost",
                "demand_loss": f"demand loss ({unit})",
                "unbalanced": f"unbalanced ({unit})",
                "stock_drawn": f"stock drawn ({unit})",
                "stock_needed": f"stock needed ({unit})",
                "stock_needed_months": "stock needed (months of demand)",
            },
            formats={
                "year": str,
                "share_of_consumption_lost": percent,
                "stock_needed_months": fixed(1),
            },
        )
    )
    return blocks


def policy_findings(study: StoredStudy) -> dict[str, str]:
    """One key finding per stored policy run: its title and :func:`_summary`."""
    out = {}
    for policy in study.policy:
        run, stock = policy.run, policy.stock
        if not stock.empty:
            out[f"Policy scenario {run['name']}"] = f"{run['title']}: {_summary(study, stock)}"
    return out


def policy_section(study: StoredStudy) -> Section | None:
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
        "measure and failure rule, and ranks the countries it reached by the share of their "
        "consumption they lost.",
        blocks,
    )
