// Critical paths, drawn: the same paths as critical_paths (same parameters), returned as paths
// so Neo4j Browser's graph view draws them: each (:Impact) node is one country in this scenario
// (its iso3, loss and failure), each TRANSMITS arrow a hop with the loss it carried
// (tonnes or value_usd, and share of the initial shock). Only this scenario's elements are
// drawn (Browser may also connect two drawn countries by a TRANSMITS of the same scenario).
//
// @param scenario: string              Scenario id (see find_scenarios)
// @param target: string                ISO3 code of the country the paths end at
// @param max_hops: integer = 4         longest path, in hops (1 to 6)
// @param min_share: float = 0.01       smallest hop kept, as a share of the initial shock
// @param limit: integer = 10           paths returned
//
// :params {scenario: 'sc_35bec6c4ce1f085e8eaf', target: 'CHN', max_hops: 4, min_share: 0.01, limit: 10}
MATCH (s:Scenario {id: $scenario})-[:HIT]->(start:Impact {source: true})
MATCH p = (start) ((:Impact)-[t:TRANSMITS WHERE t.share >= $min_share]->(:Impact)){1,6}
          (:Impact {iso3: $target})
WHERE length(p) <= toInteger($max_hops)
  AND size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) |
                                   CASE WHEN n IN seen THEN seen ELSE seen + n END))
WITH p, reduce(low = 1.0, r IN relationships(p) | CASE WHEN r.share < low THEN r.share ELSE low END)
       AS bottleneck_share
RETURN p
ORDER BY bottleneck_share DESC, length(p)
LIMIT toInteger($limit)
