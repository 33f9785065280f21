// Most exposed countries: average demand loss per country over a sweep (the study's Figures
// 4-5). Two averages, labelled: mean_loss_all_runs divides a country's total loss by every run
// of the selection (zeros included, as a map of expected loss); mean_loss_when_hit divides it by
// the runs in which it lost anything. Single-source, untargeted runs; losses in the scenarios'
// unit (rows never mix units).
//
// @param commodity: string                        commodity group id
// @param shock: float                             share of exports cut (1.0 and 0.5 in the study)
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param years: list<integer> = null              years to include; null = every stored year
// @param run_id: string = null                    one sweep (a (:Run) id); null = all scenarios
// @param limit: integer = 20                      rows returned
//
// :params {commodity: 'cobalt', shock: 1.0, mode: 'export', years: null, run_id: null, limit: 20}
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
WITH s.unit AS unit, collect(s) AS runs
UNWIND runs AS s
MATCH (s)-[i:IMPACTS]->(c:Country)
WITH unit, size(runs) AS n_runs, c, coalesce(i.demand_loss_t, i.demand_loss_usd) AS loss,
     i.failed AS failed
WITH unit, n_runs, c, sum(loss) AS total_loss,
     sum(CASE WHEN loss > 0 THEN 1 ELSE 0 END) AS runs_hit,
     sum(CASE WHEN failed THEN 1 ELSE 0 END) AS times_failed
WHERE runs_hit > 0
RETURN c.iso3 AS country, c.name AS name, total_loss / n_runs AS mean_loss_all_runs,
       total_loss / runs_hit AS mean_loss_when_hit, runs_hit, n_runs, times_failed,
       total_loss, unit
ORDER BY mean_loss_all_runs DESC, country
LIMIT $limit
