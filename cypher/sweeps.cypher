// The stored sweeps ((:Run) nodes), newest first: the command that made each, its kind (study =
// every source; selection, coalition, embargo, policy), whether it is the study the
// sweep-level queries read (is_study), status (complete; running while it writes;
// interrupted when it stopped: such a sweep's scenarios may be stored, its tables are not, and
// the sweep-level queries never read it), commodity, unit, years, shock sizes, parameters, and
// how many scenarios it stored.
//
// @param commodity: string = null     commodity group id; null = every commodity
// @param limit: integer[1..] = 50     rows returned
//
// :params {commodity: 'cobalt_oxides', limit: 50}
MATCH (r:Run)
WHERE $commodity IS NULL OR r.commodity = $commodity
RETURN r.id AS run_id, r.commodity AS commodity, r.kind AS kind,
       coalesce(r.is_study, false) AS is_study, r.status AS status,
       r.unit AS unit, r.years AS years, r.fractions AS shocks,
       r.n_scenarios_planned AS scenarios_planned, r.n_scenarios AS scenarios_stored,
       r.parameters AS parameters, r.command AS command, r.created_at AS started_at,
       r.finished_at AS finished_at
ORDER BY started_at DESC, run_id
LIMIT toInteger($limit)
