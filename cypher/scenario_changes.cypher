// What one scenario did to each trade link of its commodity group and year (the study's
// Figures 6-8): weight before, the loss passed along the link, the extra exports asked of it,
// the weight after, and whether the link was cut, thinned, grown or left unchanged.
// The final flows are not stored, so the weight after is derived from the scenario's TRANSMITS.
// A link e->i changes by cuts (e passes loss to i: counted in TRANSMITS e->i) and by requests
// for more imports (i passes loss to e: counted in TRANSMITS i->e), and the cascade never creates
// a link. So where i does not also export to e, TRANSMITS e->i is exactly the cuts, TRANSMITS
// i->e exactly the extra exports, and after = before - loss_along + extra_asked. Where both
// directions trade, each TRANSMITS mixes the two links: only max(before - loss_along, 0) <= after
// <= before + extra_asked is known, weight_after is null and the status is 'ambiguous'.
// For exact final flows rerun the scenario: `critmin metrics --scenario ID`.
// Caveats: TRANSMITS below the sweep's keep_share of the initial shock were not stored, so a
// link's derived weight can be off by up to twice that (a small residue may then show a cut
// link as thinned); weights sum the reported TRADES (flows without tonnes count 0 here, the
// simulator imputes them). Scenario-wide totals: scenario_network_change. Weights are
// rounded to 3 decimals for reading.
//
// @param scenario: string          Scenario id (see find_scenarios)
// @param limit: integer[1..] = 100      rows returned, largest loss of weight first
//
// :params {scenario: 'sc_b3b9ed68a859634ad209', limit: 100}
MATCH (s:Scenario {id: $scenario})
MATCH (m:Commodity {id: s.commodity})
WITH s, m, CASE s.unit WHEN 't' THEN 'tonnes' WHEN 't_metal' THEN 'metal_t' ELSE 'value_usd' END AS measure
// Each link's weight, and the scenario's TRANSMITS (from its own Impact nodes) both ways.
CALL (s, m, measure) {
  MATCH (e:Country)-[t:TRADES {year: s.year}]->(i:Country)
  WHERE e <> i AND any(prefix IN m.hs_codes WHERE t.hs STARTS WITH prefix)
  RETURN e, i, coalesce(t[measure], 0.0) AS weight, 0.0 AS cut, 0.0 AS grown
  UNION ALL
  MATCH (s)-[:HIT]->(from:Impact)-[f:TRANSMITS]->(to:Impact),
        (from)-[:OF]->(e:Country), (to)-[:OF]->(i:Country)
  RETURN e, i, 0.0 AS weight, coalesce(f.tonnes, f.metal_t, f.value_usd) AS cut, 0.0 AS grown
  UNION ALL
  MATCH (s)-[:HIT]->(from:Impact)-[b:TRANSMITS]->(to:Impact),
        (from)-[:OF]->(i:Country), (to)-[:OF]->(e:Country)
  RETURN e, i, 0.0 AS weight, 0.0 AS cut, coalesce(b.tonnes, b.metal_t, b.value_usd) AS grown
}
WITH s, m, measure, e, i, sum(weight) AS before, sum(cut) AS along, sum(grown) AS asked
WHERE before > 0
WITH s, e, i, before, along, asked,
     EXISTS { MATCH (i)-[r:TRADES {year: s.year}]->(e)
              WHERE any(prefix IN m.hs_codes WHERE r.hs STARTS WITH prefix) AND r[measure] > 0 }
       AS reciprocal
WITH s, e, i, before, along, asked,
     CASE WHEN reciprocal THEN null
          WHEN before - along + asked > 0 THEN before - along + asked ELSE 0.0 END AS after,
     CASE WHEN before > along THEN before - along ELSE 0.0 END AS lowest
RETURN e.iso3 AS exporter, i.iso3 AS importer, round(before, 3) AS weight_before,
       round(along, 3) AS loss_along, round(asked, 3) AS extra_asked,
       round(after, 3) AS weight_after, round(coalesce(after, lowest), 3) AS weight_after_min,
       round(coalesce(after, before + asked), 3) AS weight_after_max,
       CASE WHEN along = 0 AND asked = 0 THEN 'unchanged'
            WHEN after IS NULL THEN 'ambiguous'
            WHEN after <= 1e-9 * before THEN 'cut'
            WHEN after < before * (1 - 1e-9) THEN 'thinned'
            WHEN after > before * (1 + 1e-9) THEN 'grown'
            ELSE 'unchanged' END AS status,
       s.unit AS unit
ORDER BY before - coalesce(after, lowest) DESC, exporter, importer
LIMIT toInteger($limit)
