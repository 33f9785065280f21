// Whose disruption hurts one country most: for a chosen country, each source's total and mean
// demand loss over a sweep, how often the country failed, and the source's share of all the
// loss the country suffered in the sweep. mean_loss = total_loss / the source's runs.
// Read from the sweep's stored summary: run_id, or the study.
// Single-source, untargeted runs; losses in the sweep's unit (column unit), rounded for reading.
// The study is the run stored with is_study = true (every exporter shocked alone, untargeted,
// no stockpiles, default parameters), the latest complete one: `critmin results` and the
// report read the same run.
//
// @param commodity: string                        commodity group id
// @param country: string                          ISO3 code of the exposed country
// @param shock: float[0..1]                       share of exports cut
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    one sweep (see sweeps); null = the study
// @param limit: integer[1..] = 10                 rows returned
//
// :params {commodity: 'cobalt_oxides', country: 'CHN', shock: 1.0, mode: 'export', run_id: null, limit: 10}
MATCH (r:Run {commodity: $commodity})
WHERE r.status = 'complete' AND r.mode = $mode AND toFloat($shock) IN r.fractions
  AND CASE WHEN $run_id IS NULL THEN r.is_study = true ELSE r.id = $run_id END
WITH r ORDER BY r.finished_at DESC, r.id LIMIT 1
MATCH (x:SweepExposure {run_id: r.id, country: $country})
WHERE x.shock = toFloat($shock)
WITH r, x, CASE WHEN r.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN x.rank AS rank, x.source AS source, x.source_name AS name, x.runs AS runs,
       x.times_failed AS times_failed,
       round(coalesce(x.total_loss_t, x.total_loss_t_metal, x.total_loss_usd), digits) AS total_loss,
       round(coalesce(x.mean_loss_t, x.mean_loss_t_metal, x.mean_loss_usd), digits) AS mean_loss,
       round(x.share_of_country_loss, 3) AS share_of_country_loss, r.unit AS unit,
       r.id AS run_id
ORDER BY rank, source
LIMIT toInteger($limit)
