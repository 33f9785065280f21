// Critical paths, drawn: the same paths as critical_paths (same parameters), returned as paths
// so Neo4j Browser's graph view draws them: each (:Impact) node is one country in this scenario
// (its iso3, loss and failure), each TRANSMITS arrow a hop with the loss it carried
// (tonnes or value_usd, and share of the initial shock). Only this scenario's elements are
// drawn (Browser may also connect two drawn countries by a TRANSMITS of the same scenario).
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
WITH p,
     reduce(low = 1.0, r IN relationships(p) | CASE WHEN r.share < low THEN r.share ELSE low END)
       AS bottleneck_share
RETURN p
ORDER BY bottleneck_share DESC, length(p), [n IN nodes(p) | n.iso3]
LIMIT toInteger($limit)
