// Re-export share of trade per country, for a commodity group and year: who passes the mineral
// through rather than using or producing it (the study names South Africa and Malaysia).
// Trade is summed over the group's HS codes (the TRADES whose hs starts with one of the
// (:Commodity).hs_codes). With I = imports and E = exports:
//   throughput         = min(I, E): the most that can have passed through;
//   pass_through       = min(I, E) / max(I, E): 1 for a pure transit country, 0 for a pure
//                        exporter or importer;
//   reexport_share_max = min(I, E) / E: the largest share of exports imports could supply;
//   reexport_share_min = max(E - P, 0) / E with P the year's production of the group's
//                        production commodity: exports beyond own production must come from
//                        imports (ignoring stocks). Null without a PRODUCED record or in USD.
// Countries that export, largest throughput first. Tonnes are the reported ones (flows without
// tonnes count as 0 here; the simulator imputes them from value).
//
// @param commodity: string                            commodity group id
// @param year: integer[1900..2100]                    trade year
// @param measure: 'tonnes'|'metal_t'|'value_usd' = 'tonnes'  which TRADES quantity to sum
// @param limit: integer[1..] = 20                     rows returned
//
// :params {commodity: 'cobalt_oxides', year: 2024, measure: 'tonnes', limit: 20}
MATCH (m:Commodity {id: $commodity})
MATCH (c:Country)-[t:TRADES {year: toInteger($year)}]-(other:Country)
WHERE c <> other AND any(prefix IN m.hs_codes WHERE t.hs STARTS WITH prefix)
WITH m, c,
     sum(CASE WHEN startNode(t) = c THEN coalesce(t[$measure], 0.0) ELSE 0.0 END) AS exports,
     sum(CASE WHEN endNode(t) = c THEN coalesce(t[$measure], 0.0) ELSE 0.0 END) AS imports
WHERE exports > 0
OPTIONAL MATCH (c)-[p:PRODUCED {year: toInteger($year)}]->(:Commodity {id: m.production_commodity})
WITH c, exports, imports,
     CASE WHEN $measure = 'tonnes' THEN head(collect(p.tonnes)) END AS production
WITH c, exports, imports, production,
     CASE WHEN imports < exports THEN imports ELSE exports END AS throughput
RETURN c.iso3 AS country, c.name AS name, round(imports, 3) AS imports,
       round(exports, 3) AS exports, round(production, 3) AS production,
       round(throughput, 3) AS throughput,
       round(throughput / CASE WHEN imports > exports THEN imports ELSE exports END, 3)
         AS pass_through,
       round(throughput / exports, 3) AS reexport_share_max,
       round(CASE WHEN production IS NULL THEN null
                  WHEN exports > production THEN (exports - production) / exports
                  ELSE 0.0 END, 3) AS reexport_share_min,
       CASE $measure WHEN 'tonnes' THEN 't' WHEN 'metal_t' THEN 't_metal' ELSE 'USD' END AS unit
ORDER BY throughput DESC, exports DESC, country
LIMIT toInteger($limit)
