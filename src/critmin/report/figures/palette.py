"""One colour per country across every figure of a report.

matplotlib's colour cycle colours lines by their order in a chart, so a country that is third in
one chart and fifth in the next changed colour between them. A report builds one
:class:`Palette` from the countries it names, most important first, and every figure takes its
colours from it; a country the palette has no colour for is drawn in :data:`OTHERS` grey, which
is also the colour of every "others" line or bar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["COLOURS", "MAX_LINES", "OTHERS", "Palette"]

#: Distinct, print-safe colours, no grey (grey means "others"). The first ten are matplotlib's
#: tab10 without its grey; the rest are darker tones that stay apart from them.
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#8c6d31",
    "#7b4173",
    "#637939",
    "#843c39",
    "#3f3f3f",
    "#e7969c",
)
OTHERS = "#a6a6a6"
#: Most country lines (or bars) a chart draws before the rest become one "others" entry.
MAX_LINES = 8


@dataclass(frozen=True)
class Palette:
    """Colours by ISO3 code, fixed for one report.

    Examples
    --------
    >>> palette = Palette.for_countries(["COD", "CHN", "COD", "BEL"])
    >>> palette.colour("COD"), palette.colour("CHN"), palette.colour("XXX") == OTHERS
    ('#1f77b4', '#ff7f0e', True)
    >>> len(Palette.for_countries(f"C{i:02d}" for i in range(40)).colours) == len(COLOURS)
    True
    """

    colours: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_countries(cls, codes: Iterable[str]) -> Palette:
        """The first :data:`COLOURS` distinct codes get a colour each, in order."""
        colours: dict[str, str] = {}
        for code in codes:
            if code not in colours and len(colours) < len(COLOURS):
                colours[code] = COLOURS[len(colours)]
        return cls(colours)

    def colour(self, code: str) -> str:
        return self.colours.get(code, OTHERS)

    def has(self, code: str) -> bool:
        return code in self.colours
