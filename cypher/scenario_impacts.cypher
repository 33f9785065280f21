// Who one scenario hurts: every country it hit, with its demand loss (in the scenario's unit),
// its share of the initial shock, relative loss (loss / internal demand; null where demand
// <= 0), gross hits received, failure and the round it was first hit (0 = by the shock
// itself). Rounded for reading (shares to 4 decimals).
//
// @param scenario: string          Scenario id (see find_scenarios)
// @param limit: integer[1..] = 20  rows returned, largest loss first
//
// :params {scenario: 'sc_35bec6c4ce1f085e8eaf', limit: 20}
MATCH (s:Scenario {id: $scenario})-[:HIT]->(h:Impact)-[:OF]->(c:Country)
WHERE NOT h.source
WITH s, c, h, coalesce(h.demand_loss_t, h.demand_loss_usd) AS loss,
     coalesce(s.initial_shock_t, s.initial_shock_usd) AS shock,
     CASE s.unit WHEN 't' THEN 3 ELSE 0 END AS digits
RETURN c.iso3 AS country, c.name AS name, round(loss, digits) AS demand_loss,
       round(loss / shock, 4) AS share_of_shock, round(h.relative_loss, 4) AS relative_loss,
       round(coalesce(h.gross_hit_t, h.gross_hit_usd), digits) AS gross_hit,
       h.failed AS failed, h.first_round AS first_round, s.unit AS unit
ORDER BY loss DESC, country
LIMIT toInteger($limit)
