"""One module per report section; each returns an :class:`~critmin.report.html.Section`."""
