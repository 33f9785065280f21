// Every scenario that hit one country, starting from its Country node: the scenario's sources,
// year and shock, what the country lost and whether it failed, largest loss first. Only the
// scenarios of complete sweeps of the commodity (run_id, or every complete sweep). Losses in
// each scenario's unit (column unit), rounded for reading.
// Countries the scenario hit off its stored cascade (no stored hop reaches them and they did
// not fail) have no Impact node: their outcomes are the Scenario's minor_* lists, read here too.
//
// @param country: string                          ISO3 code of the country hit
// @param commodity: string                        commodity group id
// @param shock: float[0..1] = null                share of exports cut; null = any
// @param run_id: string = null                    one sweep (see sweeps); null = any complete
// @param limit: integer[1..] = 25                 rows returned
//
// :params {country: 'ZAF', commodity: 'cobalt_oxides', shock: 1.0, run_id: null, limit: 25}
MATCH (c:Country {iso3: $country})
CALL (c) {
  MATCH (c)<-[:OF]-(h:Impact)<-[:HIT]-(s:Scenario {commodity: $commodity})
  WHERE NOT h.source
  RETURN s, coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd) AS loss,
         coalesce(h.gross_hit_t, h.gross_hit_t_metal, h.gross_hit_usd) AS gross, h.failed AS failed,
         h.first_round AS first_round
  UNION ALL
  MATCH (s:Scenario {commodity: $commodity})
  WHERE c.iso3 IN s.minor_iso3
  WITH s, [i IN range(0, size(s.minor_iso3) - 1) WHERE s.minor_iso3[i] = c.iso3][0] AS i
  WITH s, i, s.minor_first_round[i] AS first_round
  RETURN s, coalesce(s.minor_demand_loss_t, s.minor_demand_loss_t_metal, s.minor_demand_loss_usd)[i] AS loss,
         coalesce(s.minor_gross_hit_t, s.minor_gross_hit_t_metal, s.minor_gross_hit_usd)[i] AS gross,
         s.minor_failed[i] AS failed, CASE WHEN first_round >= 0 THEN first_round END AS first_round
}
WITH c, s, loss, gross, failed, first_round
WHERE ($shock IS NULL OR s.shock = toFloat($shock))
  AND EXISTS {
    MATCH (r:Run)-[:INCLUDES]->(s)
    WHERE r.status = 'complete' AND ($run_id IS NULL OR r.id = $run_id)
  }
WITH c, s, loss, gross, failed, first_round, CASE WHEN s.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN c.iso3 AS country, s.sources AS sources, s.year AS year, s.shock AS shock,
       round(loss, digits) AS demand_loss, round(gross, digits) AS gross_hit,
       failed, first_round, s.unit AS unit, s.id AS scenario
ORDER BY loss DESC, year DESC, scenario
LIMIT toInteger($limit)
