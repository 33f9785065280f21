// Most exposed countries: average demand loss per country over a sweep (the study's Figures
// 4-5). Two averages, labelled: mean_loss_all_runs divides a country's total loss by every run
// of the sweep at that shock size (zeros included, as a map of expected loss);
// mean_loss_when_hit divides it by the runs in which it lost anything. Read from the sweep's
// stored summary: run_id, or the study. Losses in the sweep's
// unit (column unit: t or USD), rounded for reading (tonnes to 3 decimals, USD to whole dollars).
// The study is the run stored with is_study = true (every exporter shocked alone, untargeted,
// no stockpiles, default parameters), the latest complete one: `critmin results` and the
// report read the same run.
//
// @param commodity: string                        commodity group id
// @param shock: float[0..1]                       share of exports cut (1.0 and 0.5 in the study)
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    one sweep (see sweeps); null = the study
// @param limit: integer[1..] = 20                 rows returned
//
// :params {commodity: 'cobalt_oxides', shock: 1.0, mode: 'export', run_id: null, limit: 20}
MATCH (r:Run {commodity: $commodity})
WHERE r.status = 'complete' AND r.mode = $mode AND toFloat($shock) IN r.fractions
  AND CASE WHEN $run_id IS NULL THEN r.is_study = true ELSE r.id = $run_id END
WITH r ORDER BY r.finished_at DESC, r.id LIMIT 1
MATCH (x:SweepCountry {run_id: r.id, shock: toFloat($shock)})
WHERE x.runs_hit > 0
WITH r, x, CASE WHEN r.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN x.rank AS rank, x.country AS country, x.country_name AS name,
       round(coalesce(x.mean_loss_all_runs_t, x.mean_loss_all_runs_t_metal, x.mean_loss_all_runs_usd), digits)
         AS mean_loss_all_runs,
       round(coalesce(x.mean_loss_when_hit_t, x.mean_loss_when_hit_t_metal, x.mean_loss_when_hit_usd), digits)
         AS mean_loss_when_hit,
       x.runs_hit AS runs_hit, x.runs AS n_runs, x.times_failed AS times_failed, r.unit AS unit,
       r.id AS run_id
ORDER BY rank, country
LIMIT toInteger($limit)
