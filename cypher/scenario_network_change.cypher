// What one scenario did to its trade network as a whole (the study's Figures 6-8 in numbers):
// links before and how many were cut, thinned, grown, unchanged or ambiguous, and the total trade
// weight before and after, in the scenario's unit. The per-link derivation is the one of
// scenario_changes (read its header): exact where the two countries trade in one direction
// only; where both directions trade only bounds are known, hence weight_after_min/max (equal when
// no changed link is reciprocal). Exact figures: `critmin metrics --scenario ID`.
//
// @param scenario: string          Scenario id (see find_scenarios)
//
// :params {scenario: 'sc_b3b9ed68a859634ad209'}
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
WITH s, before, along, asked,
     CASE WHEN reciprocal THEN null
          WHEN before - along + asked > 0 THEN before - along + asked ELSE 0.0 END AS after,
     CASE WHEN before > along THEN before - along ELSE 0.0 END AS lowest
WITH s, before, after, lowest, asked,
     CASE WHEN along = 0 AND asked = 0 THEN 'unchanged'
          WHEN after IS NULL THEN 'ambiguous'
          WHEN after <= 1e-9 * before THEN 'cut'
          WHEN after < before * (1 - 1e-9) THEN 'thinned'
          WHEN after > before * (1 + 1e-9) THEN 'grown'
          ELSE 'unchanged' END AS status
RETURN s.id AS scenario, s.sources AS sources, s.shock AS shock, s.year AS year,
       count(*) AS links_before,
       sum(CASE status WHEN 'cut' THEN 1 ELSE 0 END) AS links_cut,
       sum(CASE status WHEN 'thinned' THEN 1 ELSE 0 END) AS links_thinned,
       sum(CASE status WHEN 'grown' THEN 1 ELSE 0 END) AS links_grown,
       sum(CASE status WHEN 'unchanged' THEN 1 ELSE 0 END) AS links_unchanged,
       sum(CASE status WHEN 'ambiguous' THEN 1 ELSE 0 END) AS links_ambiguous,
       round(sum(before), 3) AS weight_before,
       round(sum(coalesce(after, lowest)), 3) AS weight_after_min,
       round(sum(coalesce(after, before + asked)), 3) AS weight_after_max,
       s.unit AS unit
