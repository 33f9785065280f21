// A complete against a half export cut of the same source and year, side by side: each hit
// country's demand loss, relative loss and failure under 100% and 50%, with each scenario's
// failed count and initial shock (repeated on every row), in the scenarios' unit.
// ratio_50_to_100 above 0.5 means the half cut does more than half the damage. The two
// scenarios are paired only when every cascade parameter is equal; untargeted runs only.
//
// @param commodity: string                        commodity group id
// @param source: string                           ISO3 code of the shocked exporter
// @param year: integer                            scenario year
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    restrict to one sweep; null = any
//
// :params {commodity: 'cobalt', source: 'CHN', year: 2019, mode: 'export', run_id: null}
MATCH (full:Scenario {commodity: $commodity, year: $year, mode: $mode, shock: 1.0})
WHERE full.sources = [$source] AND size(full.targets) = 0
  AND ($run_id IS NULL OR full.run_id = $run_id)
MATCH (half:Scenario {commodity: $commodity, year: $year, mode: $mode, shock: 0.5})
WHERE half.sources = [$source] AND size(half.targets) = 0 AND half.unit = full.unit
  AND ($run_id IS NULL OR half.run_id = $run_id)
  AND all(k IN ['alpha', 'absorb', 'supplier_cap', 'eps_pass', 'tol', 'max_rounds', 'fail_abs',
                'fail_rel'] WHERE coalesce(half[k] = full[k], half[k] IS NULL AND full[k] IS NULL))
MATCH (c:Country)
WHERE EXISTS { (full)-[:IMPACTS]->(c) } OR EXISTS { (half)-[:IMPACTS]->(c) }
OPTIONAL MATCH (full)-[a:IMPACTS]->(c)
OPTIONAL MATCH (half)-[b:IMPACTS]->(c)
WITH full, half, c, coalesce(a.demand_loss_t, a.demand_loss_usd, 0.0) AS loss_100,
     coalesce(b.demand_loss_t, b.demand_loss_usd, 0.0) AS loss_50, a, b
RETURN c.iso3 AS country, c.name AS name, loss_100, loss_50,
       CASE WHEN loss_100 > 0 THEN loss_50 / loss_100 END AS ratio_50_to_100,
       a.relative_loss AS relative_loss_100, b.relative_loss AS relative_loss_50,
       coalesce(a.failed, false) AS failed_100, coalesce(b.failed, false) AS failed_50,
       full.n_failed AS n_failed_100, half.n_failed AS n_failed_50,
       coalesce(full.initial_shock_t, full.initial_shock_usd) AS initial_shock_100,
       coalesce(half.initial_shock_t, half.initial_shock_usd) AS initial_shock_50,
       full.unit AS unit
ORDER BY loss_100 DESC, loss_50 DESC, country
