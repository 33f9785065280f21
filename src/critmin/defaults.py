"""The defaults and limits a run is made with, each decided here once.

Every layer reads them from here (the simulator's sweep, the pipeline, scenario files, the
CLI's help), so two commands never disagree on what "the default" is. This module imports
nothing of critmin.

>>> DEFAULT_SHOCKS
(1.0, 0.5)
"""

from __future__ import annotations

#: The shock sizes of the study: every exporter cut completely, then by half (Tables 1 and 2).
DEFAULT_SHOCKS: tuple[float, ...] = (1.0, 0.5)

#: TRANSMITS edges kept per run: those carrying at least 1% of its initial shock. At 0.1%, the
#: 2020 and 2024 HS 282200 sweeps kept 309 edges a run, at 1% 119: the critical paths are the
#: same and the write-back is 2.5 times smaller.
KEEP_SHARE = 0.01

#: The most scenarios one run may plan without ``--allow-large``: the study of HS 282200 over
#: 23 years at two shock sizes is about 7,000; 200,000 stored scenarios (about 100 million
#: entities) take hours to write and tens of GB of store.
MAX_SCENARIOS = 200_000

#: The longest stockpile, in months of a country's demand. Ten years is more than any reserve
#: policy holds (national stockpiles of critical minerals target 60 days to a year); a number
#: above it is a typing error, and 1e308 months would overflow to infinity in the cascade.
MAX_STOCKPILE_MONTHS = 120.0

#: The years a run or a scenario file may name, before the data's own years are known: wide
#: enough for any trade series, narrow enough that a typo (2002-20024) cannot allocate a
#: billion years.
FIRST_YEAR, LAST_YEAR = 1900, 2100
