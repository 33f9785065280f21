// Critical paths: the heaviest chains along which one scenario's loss reached a chosen country,
// from its shocked source(s) over the scenario's TRANSMITS, with the loss on each hop and the
// path's bottleneck (its smallest hop), heaviest bottleneck first.
// Loss moves both ways along trade: forward when an exporter cuts a link, and backward (against
// the trade direction) when an importer asks its supplier for more, so a hop A->B means "A passed
// loss to B", not "A ships to B". Paths visit each country once. Hops below min_share of the
// initial shock are skipped while searching (that keeps long searches fast); TRANSMITS below the
// sweep's keep_share were never stored. max_hops is at most 6 (Cypher needs literal bounds);
// the search grows fast with max_hops and a small min_share (5-6 hops: keep min_share >= 0.01).
//
// @param scenario: string              Scenario id (see find_scenarios)
// @param target: string                ISO3 code of the country the paths end at
// @param max_hops: integer = 4         longest path, in hops (1 to 6)
// @param min_share: float = 0.01       smallest hop kept, as a share of the initial shock
// @param limit: integer = 10           paths returned
//
// :params {scenario: 'sc_0123456789abcdef0123', target: 'CHN', max_hops: 4, min_share: 0.01, limit: 10}
MATCH (s:Scenario {id: $scenario})-[:SHOCKS]->(source:Country)
WITH s, source, coalesce(s.initial_shock_t, s.initial_shock_usd) AS shock
WITH s, source, shock, $min_share * shock AS floor
// One branch per path length: a quantifier must be a literal, and a single {1,6} search
// would explore six hops whatever max_hops says.
CALL (source, floor) {
  WITH * WHERE $max_hops >= 1
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){1}
    (:Country {iso3: $target})
  RETURN p
  UNION ALL
  WITH * WHERE $max_hops >= 2
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){2}
    (:Country {iso3: $target})
  RETURN p
  UNION ALL
  WITH * WHERE $max_hops >= 3
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){3}
    (:Country {iso3: $target})
  RETURN p
  UNION ALL
  WITH * WHERE $max_hops >= 4
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){4}
    (:Country {iso3: $target})
  RETURN p
  UNION ALL
  WITH * WHERE $max_hops >= 5
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){5}
    (:Country {iso3: $target})
  RETURN p
  UNION ALL
  WITH * WHERE $max_hops >= 6
  MATCH p = (source)
    (()-[t:TRANSMITS WHERE t.scenario = $scenario
                      AND coalesce(t.tonnes, t.value_usd) >= floor]->()){6}
    (:Country {iso3: $target})
  RETURN p
}
WITH s, shock, p
WHERE size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) |
                             CASE WHEN n IN seen THEN seen ELSE seen + n END))
WITH s, shock, p, [r IN relationships(p) | coalesce(r.tonnes, r.value_usd)] AS hops
WITH s, shock, p, hops,
     reduce(low = hops[0], q IN hops | CASE WHEN q < low THEN q ELSE low END) AS bottleneck
RETURN [n IN nodes(p) | n.iso3] AS path, length(p) AS n_hops, hops,
       [r IN relationships(p) | r.first_round] AS first_rounds, bottleneck,
       bottleneck / shock AS bottleneck_share, s.unit AS unit
ORDER BY bottleneck DESC, n_hops, path
LIMIT $limit
