// Find stored scenarios (and their ids, which the per-scenario queries take) by commodity and,
// optionally, year, source and shock size, with what each one did: failed countries, initial
// shock in the scenario's unit, rounds, and the sweep that last wrote it. A scenario's id is a
// digest of its definition (commodity, year, sources, shock, targets, every parameter), so the
// same scenario has the same id in every database.
//
// @param commodity: string            commodity group id
// @param year: integer[1900..2100] = null         scenario year; null = any
// @param source: string = null        ISO3 code among the shocked sources; null = any
// @param shock: float[0..1] = null    share of exports cut; null = any
// @param limit: integer[1..] = 50     rows returned
//
// :params {commodity: 'cobalt_oxides', year: 2024, source: 'COD', shock: null, limit: 50}
MATCH (s:Scenario {commodity: $commodity})
WHERE ($year IS NULL OR s.year = toInteger($year)) AND ($source IS NULL OR $source IN s.sources)
  AND ($shock IS NULL OR s.shock = toFloat($shock))
WITH s, CASE WHEN s.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN s.id AS scenario, s.year AS year, s.sources AS sources, s.shock AS shock,
       s.targets AS targets, s.mode AS mode, s.n_failed AS n_failed,
       round(s.failure_rate, 3) AS failure_rate,
       round(coalesce(s.initial_shock_t, s.initial_shock_t_metal, s.initial_shock_usd), digits) AS initial_shock,
       s.unit AS unit, s.rounds AS rounds, s.alpha AS alpha, s.run_id AS run_id
ORDER BY year, sources, shock DESC, scenario
LIMIT toInteger($limit)
