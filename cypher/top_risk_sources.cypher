// Top risk sources: exporters ranked by the number of countries their export cut makes fail,
// summed over the years of a sweep (the study's Table 1 at shock 1.0, Table 2 at 0.5).
// Single-source runs only: coalitions and targeted embargoes answer other questions.
// failure_rate = total_failed / (years x n_panel): years = years with scenarios in the selection,
// n_panel = countries in the sweep's whole panel (Scenario.n_panel), as the study defines it.
// Counts carry no unit. Mixing sweeps with different parameters double-counts: pick one run_id.
//
// @param commodity: string                        commodity group id, as in (:Commodity {id})
// @param shock: float                             share of exports cut (1.0 and 0.5 in the study)
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param years: list<integer> = null              years to include; null = every stored year
// @param run_id: string = null                    one sweep (a (:Run) id); null = all scenarios
// @param limit: integer = 10                      rows returned
//
// :params {commodity: 'cobalt', shock: 1.0, mode: 'export', years: null, run_id: null, limit: 10}
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
WITH collect(s) AS runs, count(DISTINCT s.year) AS years, max(s.n_panel) AS n_panel
UNWIND runs AS s
WITH years, n_panel, s.sources[0] AS source, sum(s.n_failed) AS total_failed,
     count(DISTINCT s.year) AS years_active
ORDER BY total_failed DESC, source
// collect keeps the order, so a row's position in the list is its rank
WITH years, n_panel, collect({source: source, failed: total_failed, active: years_active}) AS ranked
UNWIND range(1, size(ranked)) AS rank
WITH rank, ranked[rank - 1] AS row, years, n_panel
OPTIONAL MATCH (c:Country {iso3: row.source})
RETURN rank, row.source AS source, c.name AS name, row.failed AS total_failed,
       toFloat(row.failed) / (years * n_panel) AS failure_rate, row.active AS years_active,
       years, n_panel
ORDER BY rank
LIMIT $limit
