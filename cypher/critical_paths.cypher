// Critical paths: the heaviest chains along which one scenario's loss reached a chosen country,
// from the scenario's shocked source(s) over its TRANSMITS, with the loss on each hop and the
// path's bottleneck (its smallest hop), heaviest bottleneck first.
// Each scenario's cascade is its own small subgraph of (:Impact) nodes, one per country it hit,
// so the search reads only this scenario, however many others are stored.
// Loss moves both ways along trade: forward when an exporter cuts a link, and backward (against
// the trade direction) when an importer asks its supplier for more, so a hop A->B means "A passed
// loss to B", not "A ships to B". Paths visit each country once. Hops below min_share of the
// initial shock are skipped; TRANSMITS below the sweep's keep_share (1% by default) were never
// stored. Losses in the scenario's unit (column unit), rounded for reading. To see the paths
// drawn, run critical_paths_graph with the same parameters.
//
// @param scenario: string              Scenario id (see find_scenarios)
// @param target: string                ISO3 code of the country the paths end at
// @param max_hops: integer[1..6] = 4   longest path, in hops (1 to 6)
// @param min_share: float[0..1] = 0.01 smallest hop kept, as a share of the initial shock
// @param limit: integer[1..] = 10      paths returned
//
// :params {scenario: 'sc_b3b9ed68a859634ad209', target: 'CHN', max_hops: 4, min_share: 0.01, limit: 10}
MATCH (s:Scenario {id: $scenario})-[:HIT]->(start:Impact {source: true})
MATCH (s)-[:HIT]->(end:Impact {iso3: $target})
WHERE end <> start
// One branch per path length (a length must be a literal in Cypher), each written out hop by
// hop between the two ends, so the search drops a hop below min_share, and a country already on
// the path, as soon as it reaches them instead of listing every walk first.
CALL (start, end) {
  WITH * WHERE toInteger($max_hops) >= 1
  MATCH p = (start)-[r1:TRANSMITS]->(end)
  WHERE r1.share >= $min_share
  RETURN p
  UNION ALL
  WITH * WHERE toInteger($max_hops) >= 2
  MATCH p = (start)-[r1:TRANSMITS]->(n1:Impact)-[r2:TRANSMITS]->(end)
  WHERE r1.share >= $min_share AND r2.share >= $min_share AND NOT n1 IN [start, end]
  RETURN p
  UNION ALL
  WITH * WHERE toInteger($max_hops) >= 3
  MATCH p = (start)-[r1:TRANSMITS]->(n1:Impact)-[r2:TRANSMITS]->(n2:Impact)-[r3:TRANSMITS]->(end)
  WHERE r1.share >= $min_share AND r2.share >= $min_share AND r3.share >= $min_share
    AND NOT n1 IN [start, end] AND NOT n2 IN [start, end, n1]
  RETURN p
  UNION ALL
  WITH * WHERE toInteger($max_hops) >= 4
  MATCH p = (start)-[r1:TRANSMITS]->(n1:Impact)-[r2:TRANSMITS]->(n2:Impact)
            -[r3:TRANSMITS]->(n3:Impact)-[r4:TRANSMITS]->(end)
  WHERE r1.share >= $min_share AND r2.share >= $min_share AND r3.share >= $min_share
    AND r4.share >= $min_share AND NOT n1 IN [start, end] AND NOT n2 IN [start, end, n1]
    AND NOT n3 IN [start, end, n1, n2]
  RETURN p
  UNION ALL
  WITH * WHERE toInteger($max_hops) >= 5
  MATCH p = (start)-[r1:TRANSMITS]->(n1:Impact)-[r2:TRANSMITS]->(n2:Impact)
            -[r3:TRANSMITS]->(n3:Impact)-[r4:TRANSMITS]->(n4:Impact)-[r5:TRANSMITS]->(end)
  WHERE r1.share >= $min_share AND r2.share >= $min_share AND r3.share >= $min_share
    AND r4.share >= $min_share AND r5.share >= $min_share AND NOT n1 IN [start, end]
    AND NOT n2 IN [start, end, n1] AND NOT n3 IN [start, end, n1, n2]
    AND NOT n4 IN [start, end, n1, n2, n3]
  RETURN p
  UNION ALL
  WITH * WHERE toInteger($max_hops) >= 6
  MATCH p = (start)-[r1:TRANSMITS]->(n1:Impact)-[r2:TRANSMITS]->(n2:Impact)
            -[r3:TRANSMITS]->(n3:Impact)-[r4:TRANSMITS]->(n4:Impact)-[r5:TRANSMITS]->(n5:Impact)
            -[r6:TRANSMITS]->(end)
  WHERE r1.share >= $min_share AND r2.share >= $min_share AND r3.share >= $min_share
    AND r4.share >= $min_share AND r5.share >= $min_share AND r6.share >= $min_share
    AND NOT n1 IN [start, end] AND NOT n2 IN [start, end, n1] AND NOT n3 IN [start, end, n1, n2]
    AND NOT n4 IN [start, end, n1, n2, n3] AND NOT n5 IN [start, end, n1, n2, n3, n4]
  RETURN p
}
WITH s, p, [r IN relationships(p) | coalesce(r.tonnes, r.metal_t, r.value_usd)] AS hops,
     [r IN relationships(p) | r.share] AS shares,
     CASE WHEN s.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
WITH s, p, hops, digits,
     reduce(low = shares[0], q IN shares | CASE WHEN q < low THEN q ELSE low END)
       AS bottleneck_share,
     reduce(low = hops[0], q IN hops | CASE WHEN q < low THEN q ELSE low END) AS weakest
RETURN [n IN nodes(p) | n.iso3] AS path, length(p) AS n_hops,
       [q IN hops | round(q, digits)] AS hop_losses,
       [r IN relationships(p) | r.first_round] AS first_rounds,
       round(weakest, digits) AS bottleneck, round(bottleneck_share, 4) AS bottleneck_share,
       s.unit AS unit
ORDER BY weakest DESC, n_hops, path
LIMIT toInteger($limit)
