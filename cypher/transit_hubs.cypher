// Transit hubs: countries that pass on most of the loss they receive, over all scenarios of a
// sweep (the study's South Africa and Malaysia). Per country, summed over the scenarios in which
// it is not a source: received = gross hits (IMPACTS.gross_hit), absorbed = demand loss, and
// passed on = received - absorbed, which is exactly the loss it transmitted onwards (every unit a
// country receives is either passed on or absorbed; unlike summing TRANSMITS, this is not
// reduced by the edges keep_share left unstored). share_passed_on = passed on / received.
// Ordered by the volume passed on; a hub has both a large volume and a high share.
//
// @param commodity: string                        commodity group id
// @param shock: float                             share of exports cut
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param years: list<integer> = null              years to include; null = every stored year
// @param run_id: string = null                    one sweep (a (:Run) id); null = all scenarios
// @param limit: integer = 10                      rows returned
//
// :params {commodity: 'cobalt', shock: 1.0, mode: 'export', years: null, run_id: null, limit: 10}
MATCH (s:Scenario {commodity: $commodity, mode: $mode})-[i:IMPACTS]->(c:Country)
WHERE s.shock = $shock AND size(s.sources) = 1 AND size(s.targets) = 0
  AND ($years IS NULL OR s.year IN $years) AND ($run_id IS NULL OR s.run_id = $run_id)
  AND NOT c.iso3 IN s.sources
WITH s.unit AS unit, c, coalesce(i.gross_hit_t, i.gross_hit_usd) AS received,
     coalesce(i.demand_loss_t, i.demand_loss_usd) AS absorbed
WHERE received > 0
WITH unit, c, count(*) AS scenarios_hit, sum(received) AS received, sum(absorbed) AS absorbed
RETURN c.iso3 AS country, c.name AS name, scenarios_hit, received AS total_received,
       received - absorbed AS total_passed_on, absorbed AS total_absorbed,
       (received - absorbed) / received AS share_passed_on, unit
ORDER BY total_passed_on DESC, country
LIMIT $limit
