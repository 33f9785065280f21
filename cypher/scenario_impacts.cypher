// Who one scenario hurts: every impacted country's demand loss (in the scenario's unit), its
// share of the initial shock, relative loss (loss / internal demand; null where demand <= 0),
// gross hits received, failure and the round it was first hit (0 = by the shock itself).
//
// @param scenario: string          Scenario id (see find_scenarios)
// @param limit: integer = 20       rows returned, largest loss first
//
// :params {scenario: 'sc_0123456789abcdef0123', limit: 20}
MATCH (s:Scenario {id: $scenario})-[i:IMPACTS]->(c:Country)
WITH s, c, i, coalesce(i.demand_loss_t, i.demand_loss_usd) AS loss
RETURN c.iso3 AS country, c.name AS name, loss AS demand_loss,
       loss / coalesce(s.initial_shock_t, s.initial_shock_usd) AS share_of_shock,
       i.relative_loss AS relative_loss, coalesce(i.gross_hit_t, i.gross_hit_usd) AS gross_hit,
       i.failed AS failed, i.first_round AS first_round, s.unit AS unit
ORDER BY demand_loss DESC, country
LIMIT $limit
