// The stored sweeps ((:Run) nodes): the command that made each, its commodity, unit, years,
// shock sizes and parameters, and how many of its scenarios are still its own (a later run of
// the same scenario definition takes the scenario over). Newest first.
//
// @param commodity: string = null     commodity group id; null = every commodity
//
// :params {commodity: null}
MATCH (r:Run)
WHERE $commodity IS NULL OR r.commodity = $commodity
OPTIONAL MATCH (s:Scenario {run_id: r.id})
RETURN r.id AS run_id, r.commodity AS commodity, r.unit AS unit, r.years AS years,
       r.fractions AS shocks, r.n_scenarios AS n_scenarios, count(s) AS scenarios_current,
       r.parameters AS parameters, r.command AS command, r.created_at AS created_at
ORDER BY created_at DESC, run_id
