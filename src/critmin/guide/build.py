"""The analyst's guide for Neo4j Browser, written from the Cypher library and the store's values.

Browser plays a remote guide (``:guide URL``) as slides: each ``<slide>`` element of the page is
one, and a ``<pre class="runnable">`` block in it runs in Browser when its play icon is clicked
(clicking the text copies it into the editor instead). Browser drops ``<script>`` elements and
``on*`` attributes from a remote guide.

One slide per file of the library, in the order of the README's analyst questions (files no
question names follow, by name), each with its header's text and two blocks: the ``:params``
line, with this store's study, scenario and country, and the query. A new ``.cypher`` file gets
its slide without any change here. A store without a stored study gets a guide that says which
command to run first.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from critmin.analysis.queries import Query, cypher_literal, load_library
from critmin.store.graph import GraphStore
from critmin.store.guide_reads import GuideFacts, StoreContents, guide_facts, store_contents

__all__ = [
    "QUESTIONS",
    "GuideSlide",
    "browser_values",
    "guide_html",
    "guide_slides",
    "slide_params",
    "write_guide",
]

#: The README's analyst questions, in its order: the library files each one uses, and how the
#: guide asks it. Files not named here get a slide titled by their header's first sentence.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("sweeps", "What is stored: which sweeps, and did they finish?"),
    ("find_scenarios", "Which scenarios are stored, and under which ids?"),
    ("top_risk_sources", "Whose export cut fails the most countries?"),
    ("source_failed_by_year", "How many countries does one source's cut fail, year by year?"),
    ("critical_paths_graph", "Along which paths does the loss reach a country? (drawn)"),
    ("critical_paths", "The same paths as a table, loss on each hop"),
    ("scenario_impacts", "Whom does this one scenario hurt?"),
    ("transit_hubs", "Which transit countries carry the shock?"),
    ("reexport_share", "Who passes the mineral through rather than using it?"),
    ("country_hits", "One country across scenarios: which cuts hit it, and how hard?"),
    ("exposure_by_source", "Whose cuts cause one country's losses?"),
    ("most_exposed_countries", "Who is hurt most, on average over the sweep?"),
    ("shock_100_vs_50", "A complete cut against a half cut: how much of the damage does half do?"),
    ("import_dependence", "Who hangs on few suppliers?"),
    ("single_supplier_bottlenecks", "Which importers depend on one supplier?"),
    ("scenario_changes", "What did the scenario do to each trade link?"),
    ("scenario_network_change", "What did the scenario do to the network as a whole?"),
    ("network_metrics", "Network measures before and after, as `critmin metrics` stored them"),
)

SLOW_FIRST_ANSWER = (
    "The first run of a query on a server that has just started includes planning it: a few "
    "seconds for the path queries (critical_paths plans six branches), then milliseconds. "
    "`critmin neo4j start` plans every query of this guide in the background right after the "
    "start; on a server critmin did not start (docker compose, your own), each query's first "
    "answer is slow once."
)


@dataclass(frozen=True)
class GuideSlide:
    """One slide: a library query with this store's parameter values."""

    name: str  # the library file's name (cypher/NAME.cypher)
    title: str
    description: str
    params: dict[str, Any]  # every parameter of the query, as the guide sets it
    params_line: str  # ':params {...}'
    body: str  # the query as Browser runs it


def slide_params(query: Query, facts: GuideFacts) -> dict[str, Any]:
    """Every parameter of ``query``: this store's value where one is known by the parameter's
    name (study, scenario, source, year, country...), else the header's example.

    A value the parameter would refuse (a choice it does not offer) falls back to the example.
    """
    known = facts.values()
    params: dict[str, Any] = {}
    for parameter in query.parameters:
        value = known.get(parameter.name, query.example.get(parameter.name))
        if parameter.choices and value not in parameter.choices:
            value = query.example.get(parameter.name)
        params[parameter.name] = value
    return params


def browser_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as Neo4j Browser sends them: every number a float (``limit: 10`` is 10.0)."""

    def one(value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, list | tuple):
            return [one(v) for v in value]
        return value

    return {name: one(value) for name, value in params.items()}


def _order(library: Mapping[str, Query]) -> list[tuple[Query, str]]:
    asked = dict(QUESTIONS)
    named = [(library[name], title) for name, title in QUESTIONS if name in library]
    rest = [(library[name], library[name].summary) for name in sorted(library) if name not in asked]
    return named + rest


def guide_slides(library: Mapping[str, Query], facts: GuideFacts) -> list[GuideSlide]:
    """One slide per library file, the README's questions first."""
    slides = []
    for query, title in _order(library):
        params = slide_params(query, facts)
        slides.append(
            GuideSlide(
                name=query.name,
                title=title,
                description=query.description,
                params=params,
                params_line=f":params {cypher_literal(params)}",
                body=query.body,
            )
        )
    return slides


def _paragraphs(text: str) -> str:
    """A header's text as HTML paragraphs (blank lines part them; lines within one join)."""
    parts = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return "\n".join(f"<p>{_code_spans(html.escape(p))}</p>" for p in parts)


def _code_spans(escaped: str) -> str:
    """`text` in backquotes as <code> (the text is already escaped)."""
    pieces = escaped.split("`")
    if len(pieces) % 2 == 0:  # an odd number of backquotes: leave the text as it is
        return escaped
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def _runnable(text: str) -> str:
    return f'<pre class="pre-scrollable code runnable">{html.escape(text)}</pre>'


def _intro(facts: GuideFacts, contents: StoreContents, n_slides: int) -> str:
    years = f"{facts.years[0]}-{facts.years[-1]}" if len(facts.years) > 1 else str(facts.year)
    unit = "tonnes" if facts.unit == "t" else "USD"
    return "\n".join(
        [
            "<h3>critmin: the study on this store</h3>",
            f"<p>This store holds {contents.countries:,} countries, {contents.trades:,} trade "
            f"flows and {contents.scenarios:,} scenarios. The slides use the study of "
            f"<b>{html.escape(facts.commodity)}</b> ({years}, in {unit}, run "
            f"<code>{html.escape(facts.run_id)}</code>) and, where a query asks for one "
            f"scenario, the {facts.shock:.0%} export cut of <b>{html.escape(facts.source_name)}"
            f"</b> ({html.escape(facts.source)}) in {facts.year}: scenario "
            f"<code>{html.escape(facts.scenario)}</code>, {facts.n_failed} countries failed; "
            f"the country asked about is {html.escape(facts.country_name)} "
            f"({html.escape(facts.country)}), the one that scenario hurt most.</p>",
            f"<p>{n_slides} questions follow, one per query of the library (<code>cypher/"
            "</code>). On each slide, click the play icon of the <code>:params</code> block, "
            "then the one of the query: the answer opens in the stream. Clicking a block's "
            "text copies it into the editor instead, to change a value first.</p>",
            f"<p>{_code_spans(html.escape(SLOW_FIRST_ANSWER))}</p>",
            "<p>The same queries on the command line: <code>critmin query NAME -p key=value"
            "</code>; <code>critmin query --list</code> lists them.</p>",
        ]
    )


def _slide(number: int, total: int, slide: GuideSlide) -> str:
    return "\n".join(
        [
            '<slide class="row-fluid">',
            f"<h3>{number}/{total}. {_code_spans(html.escape(slide.title))}</h3>",
            _paragraphs(slide.description),
            _runnable(slide.params_line),
            _runnable(slide.body),
            f"<p><small>cypher/{html.escape(slide.name)}.cypher; from the command line: "
            f"<code>critmin query {html.escape(slide.name)}</code></small></p>",
            "</slide>",
        ]
    )


def _first_steps(contents: StoreContents) -> str:
    if contents.trades == 0:
        what = "holds no trade flows yet"
        advice = (
            "Load data and run a study first: <code>critmin demo</code> loads the bundled "
            "sample and sweeps it; with your own data, <code>critmin load trades FILES</code> "
            "then <code>critmin simulate --commodity ID --years FIRST-LAST</code>."
        )
    else:
        what = (
            f"holds {contents.trades:,} trade flows and {contents.scenarios:,} scenarios, "
            "but no complete study (a sweep of every source)"
        )
        advice = (
            "Run a study first: <code>critmin simulate --commodity ID --years FIRST-LAST</code> "
            "sweeps every exporting country at 100% and 50% cuts (<code>critmin demo</code> "
            "does it on the bundled sample)."
        )
    return "\n".join(
        [
            '<slide class="row-fluid">',
            "<h3>critmin: run a study first</h3>",
            f"<p>This store {what}, so the library's questions have nothing to answer yet. "
            f"{advice} Then play this guide again: its slides fill in with your study's run, "
            "scenarios and countries.</p>",
            "</slide>",
        ]
    )


def guide_html(
    library: Mapping[str, Query], facts: GuideFacts | None, contents: StoreContents
) -> str:
    """The guide page: an introduction and one slide per query, or the first step to take."""
    if facts is None:
        slides = [_first_steps(contents)]
    else:
        queries = guide_slides(library, facts)
        slides = [
            f'<slide class="row-fluid">\n{_intro(facts, contents, len(queries))}\n</slide>',
            *(_slide(i, len(queries), s) for i, s in enumerate(queries, start=1)),
        ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8"><title>critmin: supply-risk questions</title></head>',
            "<body>",
            '<article class="guide">',
            '<carousel class="deck container-fluid">',
            *slides,
            "</carousel>",
            "</article>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_guide(
    store: GraphStore, library: Mapping[str, Query] | None = None, commodity: str | None = None
) -> str:
    """The guide page for ``store`` as it is now (the library defaults to the installed one)."""
    return guide_html(
        load_library() if library is None else library,
        guide_facts(store, commodity),
        store_contents(store),
    )
