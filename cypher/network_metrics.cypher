// Network measures before and after stored scenarios, side by side (the study's New Caledonia
// 2014, China 2019 and United States 2023 comparisons), as written by `critmin metrics`: one row
// per scenario and measure. A measure's name carries its unit where it has one
// (total_weight_t, total_weight_usd); the others are counts, shares or indices. Rounded to 4
// decimals for reading.
//
// @param commodity: string            commodity group id
// @param year: integer[1900..2100] = null         scenario year; null = any
// @param source: string = null        ISO3 code among the shocked sources; null = any
//
// :params {commodity: 'cobalt_oxides', year: 2024, source: 'COD'}
MATCH (s:Scenario {commodity: $commodity})
WHERE s.metrics_computed_at IS NOT NULL AND (toInteger($year) IS NULL OR s.year = toInteger($year))
  AND ($source IS NULL OR $source IN s.sources)
UNWIND [k IN keys(s) WHERE k STARTS WITH 'metrics_after_'] AS key
WITH s, substring(key, size('metrics_after_')) AS measure
WITH s, measure, s['metrics_before_' + measure] AS before, s['metrics_after_' + measure] AS after
RETURN s.year AS year, s.sources AS sources, s.shock AS shock, measure,
       CASE WHEN before IS :: INTEGER | FLOAT THEN round(before, 4) ELSE before END AS before,
       CASE WHEN after IS :: INTEGER | FLOAT THEN round(after, 4) ELSE after END AS after,
       s.id AS scenario
ORDER BY year, sources, measure, shock DESC
