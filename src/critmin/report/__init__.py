"""The HTML report of a commodity's stored scenarios: tables, yearly curves, maps, networks.

``build_report(store, commodity, out_dir)`` writes one self-contained HTML file (figures
embedded) and the figures as PNG files beside it; :mod:`critmin.report.figures` draws each
figure from plain DataFrames, with no database.
"""

from critmin.report.build import build_report
from critmin.report.rerun import ScenarioChoice

__all__ = ["ScenarioChoice", "build_report"]
