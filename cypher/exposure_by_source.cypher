// Whose disruption hurts one country most: for a chosen country, each source's total and
// mean demand loss over a sweep, how often the country failed, and the source's share of all
// the loss the country suffered in the selection. mean_loss = total_loss / the source's runs.
// Single-source, untargeted runs; losses in the scenarios' unit.
//
// @param commodity: string                        commodity group id
// @param country: string                          ISO3 code of the exposed country
// @param shock: float                             share of exports cut
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param years: list<integer> = null              years to include; null = every stored year
// @param run_id: string = null                    one sweep (a (:Run) id); null = all scenarios
// @param limit: integer = 10                      rows returned
//
// :params {commodity: 'cobalt', country: 'CHN', shock: 1.0, mode: 'export', years: null, run_id: null, limit: 10}
MATCH (s:Scenario {commodity: $commodity, mode: $mode})
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
  AND s.sources[0] <> $country
OPTIONAL MATCH (s)-[i:IMPACTS]->(:Country {iso3: $country})
WITH s.unit AS unit, s.sources[0] AS source, count(s) AS runs,
     sum(coalesce(i.demand_loss_t, i.demand_loss_usd, 0.0)) AS total_loss,
     sum(CASE WHEN i.failed THEN 1 ELSE 0 END) AS times_failed
WHERE total_loss > 0
WITH unit, collect({source: source, runs: runs, loss: total_loss, failed: times_failed}) AS rows,
     sum(total_loss) AS country_loss
UNWIND rows AS row
OPTIONAL MATCH (c:Country {iso3: row.source})
RETURN row.source AS source, c.name AS name, row.runs AS runs, row.failed AS times_failed,
       row.loss AS total_loss, row.loss / row.runs AS mean_loss,
       row.loss / country_loss AS share_of_country_loss, unit
ORDER BY total_loss DESC, source
LIMIT $limit
