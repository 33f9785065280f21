// Top risk sources: exporters ranked by the number of countries their export cut makes fail,
// summed over the years of a sweep (the study's Table 1 at shock 1.0, Table 2 at 0.5).
// Read from the sweep's stored summary (written when the sweep completed; sweeps that did not
// finish are never read): run_id, or else the study of the commodity that swept that shock
// size. Single-source, untargeted runs only.
// rank: ties share a rank (1, 2, 2, 4). failure_rate = total_failed / (years x n_panel):
// years swept, n_panel = countries in the sweep's panel, as the study defines it. Counts carry
// no unit.
// The study is the run stored with is_study = true (every exporter shocked alone, untargeted,
// no stockpiles, default parameters), the latest complete one: `critmin results` and the
// report read the same run.
//
// @param commodity: string                        commodity group id, as in (:Commodity {id})
// @param shock: float[0..1]                       share of exports cut (1.0 and 0.5 in the study)
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    one sweep (see sweeps); null = the study
// @param limit: integer[1..] = 10                 rows returned
//
// :params {commodity: 'cobalt_oxides', shock: 1.0, mode: 'export', run_id: null, limit: 10}
MATCH (r:Run {commodity: $commodity})
WHERE r.status = 'complete' AND r.mode = $mode AND toFloat($shock) IN r.fractions
  AND CASE WHEN $run_id IS NULL THEN r.is_study = true ELSE r.id = $run_id END
WITH r ORDER BY r.finished_at DESC, r.id LIMIT 1
MATCH (x:SweepSource {run_id: r.id, shock: toFloat($shock)})
RETURN x.rank AS rank, x.source AS source, x.source_name AS name,
       x.total_failed AS total_failed, round(x.failure_rate, 3) AS failure_rate,
       x.years_active AS years_active, r.n_years AS years, r.n_panel AS n_panel, r.id AS run_id
ORDER BY rank, source
LIMIT toInteger($limit)
