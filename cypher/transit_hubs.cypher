// Transit hubs: countries that pass on most of the loss they receive, over all runs of a sweep
// (the study's South Africa and Malaysia). Per country, summed over the runs in which it is not
// the source: received = gross hits, absorbed = demand loss, passed_on = received - absorbed,
// exactly the loss it transmitted onwards (unlike summing TRANSMITS, not reduced by the edges
// keep_share left unstored); share_passed_on = passed_on / received. Ordered by the volume
// passed on (hub_rank; ties share a rank): a hub has both a large volume and a high share.
// Read from the sweep's stored summary: run_id, or the study.
// Volumes in the sweep's unit (column unit), rounded for reading.
// The study is the run stored with is_study = true (every exporter shocked alone, untargeted,
// no stockpiles, default parameters), the latest complete one: `critmin results` and the
// report read the same run.
//
// @param commodity: string                        commodity group id
// @param shock: float[0..1]                       share of exports cut
// @param mode: 'export'|'production' = 'export'   what the shock cut
// @param run_id: string = null                    one sweep (see sweeps); null = the study
// @param limit: integer[1..] = 10                 rows returned
//
// :params {commodity: 'cobalt_oxides', shock: 1.0, mode: 'export', run_id: null, limit: 10}
MATCH (r:Run {commodity: $commodity})
WHERE r.status = 'complete' AND r.mode = $mode AND toFloat($shock) IN r.fractions
  AND CASE WHEN $run_id IS NULL THEN r.is_study = true ELSE r.id = $run_id END
WITH r ORDER BY r.finished_at DESC, r.id LIMIT 1
MATCH (x:SweepCountry {run_id: r.id, shock: toFloat($shock)})
WHERE x.scenarios_hit > 0
WITH r, x, CASE WHEN r.unit IN ['t', 't_metal'] THEN 3 ELSE 0 END AS digits
RETURN x.hub_rank AS hub_rank, x.country AS country, x.country_name AS name,
       x.scenarios_hit AS scenarios_hit,
       round(coalesce(x.received_t, x.received_t_metal, x.received_usd), digits) AS total_received,
       round(coalesce(x.passed_on_t, x.passed_on_t_metal, x.passed_on_usd), digits) AS total_passed_on,
       round(coalesce(x.absorbed_t, x.absorbed_t_metal, x.absorbed_usd), digits) AS total_absorbed,
       round(x.share_passed_on, 3) AS share_passed_on, r.unit AS unit, r.id AS run_id
ORDER BY hub_rank, country
LIMIT toInteger($limit)
