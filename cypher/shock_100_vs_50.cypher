// A complete against a half export cut of the same source and year, side by side: each hit
// country's demand loss, relative loss and failure under 100% and 50%, with each scenario's
// failed count and initial shock (repeated on every row), in the scenarios' unit (column unit),
// rounded for reading. ratio_50_to_100 above 0.5 means the half cut does more than half the
// damage. The two scenarios are paired only when every cascade parameter is equal; untargeted
// runs only.
// Countries the scenario hit off its stored cascade (no stored hop reaches them and they did
// not fail) have no Impact node: their outcomes are the Scenario's minor_* lists, read here too.
//
// @param commodity: string                        commodity group id
// @param source: string                           ISO3 code of the shocked exporter
// @param year: integer[1900..2100]                scenario year
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    restrict to one sweep; null = any
//
// :params {commodity: 'cobalt_oxides', source: 'COD', year: 2024, mode: 'export', run_id: null}
MATCH (full:Scenario {commodity: $commodity, year: toInteger($year), shock: 1.0})
WHERE full.sources = [$source] AND size(full.targets) = 0 AND full.mode = $mode
  AND ($run_id IS NULL OR EXISTS { (:Run {id: $run_id})-[:INCLUDES]->(full) })
MATCH (half:Scenario {commodity: $commodity, year: toInteger($year), shock: 0.5})
WHERE half.sources = [$source] AND size(half.targets) = 0 AND half.mode = $mode
  AND half.unit = full.unit
  AND ($run_id IS NULL OR EXISTS { (:Run {id: $run_id})-[:INCLUDES]->(half) })
  AND all(k IN ['alpha', 'absorb', 'supplier_cap', 'eps_pass', 'tol', 'max_rounds', 'fail_abs',
                'fail_rel'] WHERE coalesce(half[k] = full[k], half[k] IS NULL AND full[k] IS NULL))
CALL (full, half) {
  UNWIND [[full, 'a'], [half, 'b']] AS pick
  WITH pick[0] AS s, pick[1] AS side
  CALL (s) {
    MATCH (s)-[:HIT]->(h:Impact)-[:OF]->(c:Country) WHERE NOT h.source
    RETURN c, coalesce(h.demand_loss_t, h.demand_loss_t_metal, h.demand_loss_usd) AS loss,
           h.relative_loss AS relative, h.failed AS failed
    UNION ALL
    WITH s, coalesce(s.minor_iso3, []) AS codes
    UNWIND range(0, size(codes) - 1) AS i
    MATCH (c:Country {iso3: codes[i]})
    WITH s, c, i, s.minor_relative_loss[i] AS relative
    RETURN c, coalesce(s.minor_demand_loss_t, s.minor_demand_loss_t_metal, s.minor_demand_loss_usd)[i] AS loss,
           CASE WHEN relative = relative THEN relative END AS relative, s.minor_failed[i] AS failed
  }
  RETURN c, side, loss, relative, failed
}
WITH full, half, c,
     collect(CASE side WHEN 'a' THEN loss END)[0] AS a_loss,
     collect(CASE side WHEN 'b' THEN loss END)[0] AS b_loss,
     collect(CASE side WHEN 'a' THEN relative END)[0] AS a_relative,
     collect(CASE side WHEN 'b' THEN relative END)[0] AS b_relative,
     collect(CASE side WHEN 'a' THEN failed END)[0] AS a_failed,
     collect(CASE side WHEN 'b' THEN failed END)[0] AS b_failed,
     CASE WHEN full.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
WITH full, half, c, digits, a_relative, b_relative, a_failed, b_failed,
     coalesce(a_loss, 0.0) AS loss_100, coalesce(b_loss, 0.0) AS loss_50
RETURN c.iso3 AS country, c.name AS name, round(loss_100, digits) AS loss_100,
       round(loss_50, digits) AS loss_50,
       CASE WHEN loss_100 > 0 THEN round(loss_50 / loss_100, 3) END AS ratio_50_to_100,
       round(a_relative, 4) AS relative_loss_100, round(b_relative, 4) AS relative_loss_50,
       coalesce(a_failed, false) AS failed_100, coalesce(b_failed, false) AS failed_50,
       full.n_failed AS n_failed_100, half.n_failed AS n_failed_50,
       round(coalesce(full.initial_shock_t, full.initial_shock_t_metal, full.initial_shock_usd), digits) AS initial_shock_100,
       round(coalesce(half.initial_shock_t, half.initial_shock_t_metal, half.initial_shock_usd), digits) AS initial_shock_50,
       full.unit AS unit
ORDER BY loss_100 DESC, loss_50 DESC, country
