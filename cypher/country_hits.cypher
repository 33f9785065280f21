// Every scenario that hit one country, starting from its Country node: the scenario's sources,
// year and shock, what the country lost and whether it failed, largest loss first. Only the
// scenarios of complete sweeps of the commodity (run_id, or every complete sweep). Losses in
// each scenario's unit (column unit), rounded for reading.
//
// @param country: string                          ISO3 code of the country hit
// @param commodity: string                        commodity group id
// @param shock: float[0..1] = null                share of exports cut; null = any
// @param run_id: string = null                    one sweep (see sweeps); null = any complete
// @param limit: integer[1..] = 25                 rows returned
//
// :params {country: 'ZAF', commodity: 'cobalt_oxides', shock: 1.0, run_id: null, limit: 25}
MATCH (c:Country {iso3: $country})<-[:OF]-(h:Impact)<-[:HIT]-(s:Scenario {commodity: $commodity})
WHERE NOT h.source AND ($shock IS NULL OR s.shock = toFloat($shock))
  AND EXISTS {
    MATCH (r:Run)-[:INCLUDES]->(s)
    WHERE r.status = 'complete' AND ($run_id IS NULL OR r.id = $run_id)
  }
WITH c, h, s, coalesce(h.demand_loss_t, h.demand_loss_usd) AS loss,
     CASE s.unit WHEN 't' THEN 3 ELSE 0 END AS digits
RETURN c.iso3 AS country, s.sources AS sources, s.year AS year, s.shock AS shock,
       round(loss, digits) AS demand_loss,
       round(coalesce(h.gross_hit_t, h.gross_hit_usd), digits) AS gross_hit,
       h.failed AS failed, h.first_round AS first_round, s.unit AS unit, s.id AS scenario
ORDER BY loss DESC, year DESC, scenario
LIMIT toInteger($limit)
