// One source's failed countries year by year, for every shock size of a sweep (the study's
// Figures 2-3: a curve per source and shock). Single-source, untargeted runs of one sweep:
// run_id, or the study of the commodity.
// failure_rate here is the year's own: n_failed / (countries in that year's network - 1).
// initial_shock is the loss created in round 0, in the scenario's unit (column unit).
// The study is the run stored with is_study = true (every exporter shocked alone, untargeted,
// no stockpiles, default parameters), the latest complete one: `critmin results` and the
// report read the same run.
//
// @param commodity: string                        commodity group id
// @param source: string                           ISO3 code of the shocked exporter
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    one sweep (see sweeps); null = the study
//
// :params {commodity: 'cobalt_oxides', source: 'COD', mode: 'export', run_id: null}
MATCH (r:Run {commodity: $commodity})
WHERE r.status = 'complete' AND r.mode = $mode
  AND CASE WHEN $run_id IS NULL THEN r.is_study = true ELSE r.id = $run_id END
WITH r ORDER BY r.finished_at DESC, r.id LIMIT 1
MATCH (r)-[:INCLUDES]->(s:Scenario)
WHERE s.sources = [$source]
WITH r, s, CASE WHEN s.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN s.year AS year, s.shock AS shock, s.n_failed AS n_failed, s.n_countries AS n_countries,
       round(s.failure_rate, 3) AS failure_rate,
       round(coalesce(s.initial_shock_t, s.initial_shock_t_metal, s.initial_shock_usd), digits) AS initial_shock,
       s.unit AS unit, s.id AS scenario, r.id AS run_id
ORDER BY shock DESC, year
