// Import dependence: each importer's supplier concentration for a commodity group and year.
// hhi = sum of squared import shares over suppliers (1 = a single supplier, 1/n for n equal
// ones), top_supplier and its share, top3_share, and the number of suppliers. Rounded for
// reading (volumes to 3 decimals, shares to 3). Trade summed over
// the group's HS codes; tonnes are the reported ones. Largest importers first.
//
// @param commodity: string                            commodity group id
// @param year: integer[1900..2100]                    trade year
// @param measure: 'tonnes'|'metal_t'|'value_usd' = 'tonnes'  which TRADES quantity to sum
// @param limit: integer[1..] = 20                     rows returned
//
// :params {commodity: 'cobalt_oxides', year: 2024, measure: 'tonnes', limit: 20}
MATCH (m:Commodity {id: $commodity})
MATCH (e:Country)-[t:TRADES {year: toInteger($year)}]->(i:Country)
WHERE e <> i AND any(prefix IN m.hs_codes WHERE t.hs STARTS WITH prefix)
WITH i, e, sum(coalesce(t[$measure], 0.0)) AS w
WHERE w > 0
ORDER BY w DESC, e.iso3
WITH i, sum(w) AS imports, collect({supplier: e.iso3, w: w}) AS ranked
RETURN i.iso3 AS importer, i.name AS name, round(imports, 3) AS imports,
       size(ranked) AS n_suppliers,
       round(reduce(h = 0.0, s IN ranked | h + (s.w / imports) ^ 2), 3) AS hhi,
       ranked[0].supplier AS top_supplier, round(ranked[0].w / imports, 3) AS top_share,
       round(reduce(x = 0.0, s IN ranked[0..3] | x + s.w) / imports, 3) AS top3_share,
       CASE $measure WHEN 'tonnes' THEN 't' WHEN 'metal_t' THEN 't_metal' ELSE 'USD' END AS unit
ORDER BY imports DESC, importer
LIMIT toInteger($limit)
