// Who one scenario hurts: every country it hit, with its demand loss (in the scenario's unit),
// its share of the initial shock, relative loss (loss / internal demand; null where demand
// <= 0), gross hits received, failure and the round it was first hit (0 = by the shock
// itself). Rounded for reading (shares to 4 decimals).
// Countries the scenario hit off its stored cascade (no stored hop reaches them and they did
// not fail) have no Impact node: their outcomes are the Scenario's minor_* lists, read here too.
//
// @param scenario: string          Scenario id (see find_scenarios)
// @param limit: integer[1..] = 20  rows returned, largest loss first
//
// :params {scenario: 'sc_b3b9ed68a859634ad209', limit: 20}
MATCH (s:Scenario {id: $scenario})
CALL (s) {
  MATCH (s)-[:HIT]->(h:Impact)-[:OF]->(c:Country)
  WHERE NOT h.source
  RETURN c, coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd) AS loss, h.relative_loss AS relative,
         coalesce(h.gross_hit_t, h.gross_hit_t_metal, h.gross_hit_usd) AS gross, h.failed AS failed,
         h.first_round AS first_round
  UNION ALL
  WITH s, coalesce(s.minor_iso3, []) AS codes
  UNWIND range(0, size(codes) - 1) AS i
  MATCH (c:Country {iso3: codes[i]})
  WITH s, c, i, s.minor_relative_loss[i] AS relative, s.minor_first_round[i] AS first_round
  RETURN c, coalesce(s.minor_demand_loss_t, s.minor_demand_loss_t_metal, s.minor_demand_loss_usd)[i] AS loss,
         CASE WHEN relative = relative THEN relative END AS relative,
         coalesce(s.minor_gross_hit_t, s.minor_gross_hit_t_metal, s.minor_gross_hit_usd)[i] AS gross,
         s.minor_failed[i] AS failed, CASE WHEN first_round >= 0 THEN first_round END AS first_round
}
WITH s, c, loss, relative, gross, failed, first_round,
     coalesce(s.initial_shock_t, s.initial_shock_t_metal, s.initial_shock_usd) AS shock,
     CASE WHEN s.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN c.iso3 AS country, c.name AS name, round(loss, digits) AS demand_loss,
       round(loss / shock, 4) AS share_of_shock, round(relative, 4) AS relative_loss,
       round(gross, digits) AS gross_hit, failed, first_round, s.unit AS unit
ORDER BY loss DESC, country
LIMIT toInteger($limit)
