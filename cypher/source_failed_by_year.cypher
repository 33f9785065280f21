// One source's failed countries year by year, for every stored shock size (the study's
// Figures 2-3: a curve per source and shock). Single-source, untargeted runs only.
// failure_rate here is the year's own: n_failed / (countries in that year's network - 1).
// initial_shock is the loss created in round 0, in the scenario's unit.
//
// @param commodity: string                        commodity group id
// @param source: string                           ISO3 code of the shocked exporter
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    one sweep (a (:Run) id); null = all scenarios
//
// :params {commodity: 'cobalt', source: 'COD', mode: 'export', run_id: null}
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.sources = [$source] AND size(s.targets) = 0
  AND ($run_id IS NULL OR s.run_id = $run_id)
RETURN s.year AS year, s.shock AS shock, s.n_failed AS n_failed, s.n_countries AS n_countries,
       s.failure_rate AS failure_rate,
       coalesce(s.initial_shock_t, s.initial_shock_usd) AS initial_shock, s.unit AS unit,
       s.id AS scenario
ORDER BY shock DESC, year
