"""Policy scenarios written as TOML files: read, validate, run, store, and the stock needed.

:mod:`critmin.policy.files` reads a file into a :class:`PolicyScenario` (and its
:class:`~critmin.study.Study`); :mod:`critmin.policy.run` runs it on the sweep's path, and
:mod:`critmin.policy.chain` down a supply chain's stages when the file names a chain.

A scenario file names one policy question: a set of shocks that happen together (single
sources, coalitions, targeted cuts, partial-year bans), the stockpiles countries hold, the
cascade parameters and the failure rule. :func:`read_scenario` reads and checks a file without
touching a database (every error names the file, the key and the value);
:func:`run_policy` runs it on the stored networks of its years, stores it as a Run of kind
``policy`` under the scenario's name (re-running replaces it) and answers, per exposed
country, the loss, the stock drawn and the stock that would have avoided failure.

The format (the README's "Policy scenarios" has an example)::

    name = "drc-cobalt-ban-2025"   # required: the stored name (a-z, 0-9, '-', '_')
    title = "..."                  # optional one-line title
    description = "..."            # required: what happened and how it is modelled
    commodity = "cobalt_oxides"    # a commodity group id, or a supply chain's (chains.csv):
                                   # then each shock hits its stage (critmin.policy.chain)
    years = "latest"               # "latest", a year, or a list of years
    failure_rule = "share-1pct"    # optional: a name of FAILURE_PRESETS (default any-loss)
    preset = "physical"            # optional: a model preset (default physical; or paper)
    measure = "metal"              # optional: auto, tonnes, usd or metal

    [fallback]                     # optional: what to run while the file's own HS codes are
    commodity = "cobalt_oxides"    # not stored (measure optional); every output says FALLBACK
    note = "..."                   # with the note and the command that loads the real basis
    load = "critmin load trades BACI_HS02_V202601.zip --format baci --hs 8105"

    [[sources]]                    # citations, at least one: title and url required,
    title = "..."                  # publisher, date and note optional
    url = "https://..."

    [[shocks]]                     # one per shocked source ...
    source = "COD"
    months = 4                     # ... with exactly one of: fraction (in (0, 1]), months
    targets = ["CHN"]              # (a full stop for that many months: months / 12), or
                                   # phases = [{months = 4, cut = 1.0}, {months = 3, cut = 0.5}]
                                   # (sum of months x cut / 12); targets optional; mode =
                                   # "production" cuts the source's own output instead;
                                   # stage = 1: the chain stage it hits (default 0)

    [[coalitions]]                 # sources cutting together by the same share
    members = ["COD", "ZMB"]
    fraction = 1.0                 # or months / phases; targets optional

    [stockpiles]                   # optional: ISO3 = quantity in the network's unit, or
    JPN = "60days"                 # "<n>months" / "<n>days" of the country's internal demand

    [parameters]                   # optional: any cascade parameter (alpha, absorb, ...)
    alpha = 0.8

Every shock and every coalition member is cut at once, in one cascade per year.
"""

from critmin.policy.files import (
    DEFAULT_FAILURE_RULE,
    DEFAULT_PRESET,
    Fallback,
    PolicyScenario,
    ScenarioFileError,
    ShockSpec,
    list_scenarios,
    read_scenario,
)
from critmin.policy.run import PolicyOutcome, StockNeededError, run_policy, stock_needed_table

__all__ = [
    "DEFAULT_FAILURE_RULE",
    "DEFAULT_PRESET",
    "Fallback",
    "PolicyOutcome",
    "PolicyScenario",
    "ScenarioFileError",
    "ShockSpec",
    "StockNeededError",
    "list_scenarios",
    "read_scenario",
    "run_policy",
    "stock_needed_table",
]
