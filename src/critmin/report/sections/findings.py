"""Key findings: the report's first section, short sentences generated from the stored numbers.

Every sentence is built from the tables the other sections show (never written by hand), and
carries its unit, shock size, years and the parameters it depends on.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from critmin.report.coverage import year_ranges
from critmin.report.html import NoteBlock, Section, format_value
from critmin.report.sections.policy import policy_findings
from critmin.report.sections.transit import PathScenario, hub_frame
from critmin.report.study import DRC, StoredStudy
from critmin.units import Unit

__all__ = ["COBALT_STUDY", "findings_section", "listing", "ordinal", "sensitivity_text"]

#: The cobalt trade study's Table 1 figure for the DRC, as docs/model.md quotes it.
COBALT_STUDY: dict[str, Any] = {
    "citation": "the cobalt trade study (Sustainability 2025, 17(15), 6711)",
    "hs_codes": ("2605", "8105"),
    "goods": "cobalt ores, concentrates, mattes and unwrought cobalt",
    "unit": "t",
    "first_year": 2000,
    "last_year": 2023,
    "years": 24,
    "countries": 155,
    "failed": 2952,
    "rate": 0.79,
}
#: How many countries a finding names.
NAMED = 3


def ordinal(rank: int) -> str:
    """An English ordinal.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st']
    """
    if 10 <= rank % 100 <= 20:
        return f"{rank}th"
    return str(rank) + {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")


def listing(parts: Sequence[str]) -> str:
    """Items joined as a sentence lists them.

    >>> listing(["a"]), listing(["a", "b"]), listing(["a", "b", "c"])
    ('a', 'a and b', 'a, b and c')
    """
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _sources_sentence(study: StoredStudy, shock: float) -> str:
    table, context = study.source_tables[shock]
    first, *rest = table.head(NAMED).itertuples(index=False)
    years = study.years_text(context)
    text = (
        f"At a {shock:.0%} export cut, {study.label(first.source)} fails the most countries: "
        f"{format_value(first.total_failed)} country-years over {years}, an average failure "
        f"rate of {first.failure_rate:.3f} (share of {context['years']} years × "
        f"{context['panel_countries']} countries)"
    )
    if rest:
        text += "; then " + listing(
            [
                f"{study.label(r.source)} {format_value(r.total_failed)} ({r.failure_rate:.3f})"
                for r in rest
            ]
        )
    return text + f". [{study.short_parameters()}]"


def _latest_year_sentence(study: StoredStudy, shock: float) -> str:
    yearly = study.yearly[shock]
    if yearly.empty:
        return ""
    year = int(yearly["year"].max())
    if year == int(yearly["year"].min()):
        return ""  # a one-year sweep: the ranking above is already that year's
    counts = yearly[yearly["year"] == year].sort_values(
        ["n_failed", "source"], ascending=[False, True]
    )
    first, *rest = counts.head(NAMED).itertuples(index=False)
    complete = year in study.coverage.complete and study.coverage.is_partial
    text = (
        f"In {year} alone{' (the one year with complete flows)' if complete else ''}, "
        f"{study.label(first.source)} fails the most countries at a {shock:.0%} cut: "
        f"{format_value(first.n_failed)}"
    )
    if rest:
        text += "; then " + listing(
            [f"{study.label(r.source)} {format_value(r.n_failed)}" for r in rest]
        )
    return text + f" (countries failed). [{study.short_parameters()}]"


def sensitivity_text(study: StoredStudy) -> str:
    """Where the bands of the ranking come from (``critmin sensitivity``)."""
    return (
        f"Not computed for this report: the range of each top source's rank and failed count over "
        f"alpha, the failure rule, fail_abs and the data variants comes from `critmin sensitivity "
        f"--commodity {study.group.id}`; the figures above hold for {study.parameter_text()} only."
    )


def _exposed_sentence(study: StoredStudy, shock: float) -> str:
    countries, context = study.country_tables[shock]
    suffix = Unit.of(study.unit).suffix
    exposed = countries[countries["runs_hit"] > 0].sort_values(["rank", "country"])
    if exposed.empty:
        return ""
    unit = study.unit_text
    first, *rest = exposed.head(NAMED).to_dict("records")
    text = (
        f"{study.label(first['country'])} loses the most on average at a {shock:.0%} cut: "
        f"{format_value(float(first[f'mean_loss_all_runs_{suffix}']))} {unit} per run over all "
        f"{context['runs']:,} runs of {study.years_text(context)} "
        f"({format_value(float(first[f'mean_loss_when_hit_{suffix}']))} {unit} over the "
        f"{int(first['runs_hit']):,} runs that hit it; it failed in "
        f"{int(first['times_failed']):,})"
    )
    if rest:
        text += "; then " + listing(
            [
                f"{study.label(r['country'])} "
                f"{format_value(float(r[f'mean_loss_all_runs_{suffix}']))} {unit}"
                for r in rest
            ]
        )
    return text + f". [{study.short_parameters()}]"


def _hubs_sentence(study: StoredStudy, shock: float) -> str:
    countries, context = study.country_tables[shock]
    hubs = hub_frame(countries, study.unit)
    if hubs.empty:
        return ""
    unit = study.unit_text
    parts = [
        f"{study.label(r.country)} passed on {r.share_passed_on:.0%} of the "
        f"{format_value(float(r.received))} {unit} it received"
        for r in hubs.head(NAMED).itertuples(index=False)
    ]
    return (
        f"Largest transit volumes at a {shock:.0%} cut, summed over the runs of "
        f"{study.years_text(context)} in which the country was not the source: "
        + listing(parts)
        + f". [{study.short_parameters()}]"
    )


def _path_sentence(study: StoredStudy, chosen: PathScenario) -> str:
    found = chosen.found
    if not found.targets:
        return ""
    target = found.targets[0]
    path = found.paths[target]
    hops = found.hops.set_index(["from", "to"])["quantity"]
    weakest = min(float(hops[(a, b)]) for a, b in itertools.pairwise(path))
    share = weakest / chosen.initial_shock if chosen.initial_shock > 0 else 0.0
    loss = float(chosen.impacts.set_index("country").at[target, "demand_loss"])
    unit = study.unit_text
    via = f" through {listing([study.label(c) for c in path[1:-1]])}" if len(path) > 2 else ""
    return (
        f"When {study.label(chosen.source)} cuts its {chosen.year} exports by "
        f"{chosen.shock:.0%}, {study.label(target)} loses the most "
        f"({format_value(loss)} {unit}); the heaviest stored chain to it runs "
        f"{' → '.join(path)}{via}, its weakest hop carrying {format_value(weakest)} {unit} "
        f"({share:.1%} of the initial shock). [{study.short_parameters()}]"
    )


def _study_comparison(study: StoredStudy) -> str:
    """Why the ranking differs from the cobalt study's, for the cobalt groups; '' otherwise."""
    if study.group.production_commodity != "cobalt":
        return ""
    ref = COBALT_STUDY
    table, context = study.source_tables[study.shocks[0]]
    text = (
        f"{ref['citation'][0].upper()}{ref['citation'][1:]} reports for the DRC "
        f"{ref['failed']:,} failed countries, an average failure rate of {ref['rate']:.2f} "
        f"(= {ref['failed']:,} / ({ref['years']} years × {ref['countries']} countries), "
        f"{ref['first_year']}–{ref['last_year']}, HS {' + '.join(ref['hs_codes'])} in tonnes). "
    )
    top = table.iloc[0]
    drc = table[table["source"] == DRC]
    here = f"At the same {study.shocks[0]:.0%} cut, this report ranks {study.label(top['source'])} "
    here += f"first ({top['failure_rate']:.3f})"
    if drc.empty:
        here += " and the DRC has no stored run"
    elif str(top["source"]) != DRC:
        row = drc.iloc[0]
        here += f" and the DRC {ordinal(int(row['rank']))} ({row['failure_rate']:.3f})"
    reasons = []
    if tuple(study.group.hs_codes) != ref["hs_codes"]:
        reasons.append(
            f"it covers HS {' + '.join(study.group.hs_codes)} ({study.group.name.lower()}), "
            f"not HS {' + '.join(ref['hs_codes'])} ({ref['goods']}): other goods, with other "
            f"exporters and buyers"
        )
    if study.unit != ref["unit"]:
        reasons.append(
            f"its flows are measured in value ({study.unit_text}), not tonnes, which weighs "
            f"each link by its price"
        )
    if (context["first_year"], context["last_year"]) != (ref["first_year"], ref["last_year"]):
        reasons.append(
            f"it covers {study.years_text(context)} ({context['years']} years, "
            f"{context['panel_countries']} countries)"
        )
    if study.coverage.is_partial:
        reasons.append(
            f"its {year_ranges(study.coverage.partial)} flows hold each country's top partners only"
        )
    if reasons:
        here += ". The numbers differ because " + "; ".join(reasons)
    return text + here + "."


def findings_section(study: StoredStudy, scenarios: Sequence[PathScenario]) -> Section:
    items: dict[str, str] = {}
    for shock in study.shocks:
        items[f"Top risk sources, {shock:.0%} cut"] = _sources_sentence(study, shock)
    latest = _latest_year_sentence(study, study.shocks[0])
    if latest:
        items["Latest year"] = latest
    items["Uncertainty bands"] = sensitivity_text(study)
    shock = study.shocks[0]
    if exposed := _exposed_sentence(study, shock):
        items[f"Most exposed countries, {shock:.0%} cut"] = exposed
    if hubs := _hubs_sentence(study, shock):
        items[f"Transit hubs, {shock:.0%} cut"] = hubs
    for chosen in scenarios:
        if sentence := _path_sentence(study, chosen):
            items[f"Critical path from {chosen.source}, {chosen.year}"] = sentence
    items.update(policy_findings(study))
    notes = [text for text in (study.coverage.note(), _study_comparison(study)) if text]
    blocks = [NoteBlock(items=items)]
    if notes:
        blocks.append(NoteBlock(title="Read with care", paragraphs=notes))
    return Section(
        "findings",
        "Key findings",
        f"Generated from the stored sweep {study.run_ids[0]} of {study.group.name} "
        f"(HS {', '.join(study.group.hs_codes)}), {study.years_text()}, in {study.unit_text}. "
        f"Parameters: {study.parameter_text()}; failure rule: {study.failure_rule()}.",
        blocks,
    )
