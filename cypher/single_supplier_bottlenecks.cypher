// Single-supplier bottlenecks: importers that take at least `threshold` of a commodity group's
// imports in a year from one supplier, with what that supplier itself imports (a supplier that
// imports a lot may only pass on someone else's output: the dependence runs further upstream).
// Trade summed over the group's HS codes; tonnes are the reported ones. Largest importers first.
//
// @param commodity: string                            commodity group id
// @param year: integer[1900..2100]                    trade year
// @param threshold: float[0..1] = 0.8                 smallest share of imports from one supplier
// @param measure: 'tonnes'|'value_usd' = 'tonnes'     which TRADES quantity to sum
// @param limit: integer[1..] = 20                     rows returned
//
// :params {commodity: 'cobalt_oxides', year: 2024, threshold: 0.8, measure: 'tonnes', limit: 20}
MATCH (m:Commodity {id: $commodity})
MATCH (e:Country)-[t:TRADES {year: toInteger($year)}]->(i:Country)
WHERE e <> i AND any(prefix IN m.hs_codes WHERE t.hs STARTS WITH prefix)
WITH m, i, e, sum(coalesce(t[$measure], 0.0)) AS w
WHERE w > 0
WITH m, i, sum(w) AS imports, collect({supplier: e, w: w}) AS suppliers
UNWIND suppliers AS s
WITH m, i, imports, size(suppliers) AS n_suppliers, s.supplier AS supplier, s.w AS from_supplier
WHERE from_supplier / imports >= $threshold
CALL (m, supplier) {
  OPTIONAL MATCH (x:Country)-[u:TRADES {year: toInteger($year)}]->(supplier)
  WHERE x <> supplier AND any(prefix IN m.hs_codes WHERE u.hs STARTS WITH prefix)
  RETURN sum(coalesce(u[$measure], 0.0)) AS supplier_imports
}
RETURN i.iso3 AS importer, i.name AS name, supplier.iso3 AS supplier,
       supplier.name AS supplier_name, round(from_supplier / imports, 3) AS share,
       round(from_supplier, 3) AS from_supplier, round(imports, 3) AS imports, n_suppliers,
       round(supplier_imports, 3) AS supplier_imports,
       CASE $measure WHEN 'tonnes' THEN 't' ELSE 'USD' END AS unit
ORDER BY imports DESC, importer
LIMIT toInteger($limit)
