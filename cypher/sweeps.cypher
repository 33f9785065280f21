// The stored sweeps ((:Run) nodes), newest first: the command that made each, its kind (study =
// every source; selection, coalition, embargo, policy), whether it is the study the
// sweep-level queries read (is_study), status (complete; running while its writer holds the
// run's lease; abandoned when it still says running but that lease has lapsed: its writer was
// killed; interrupted when it stopped: such a sweep's scenarios may be stored, its tables are
// not, and the sweep-level queries never read it), commodity, unit, years, shock sizes,
// parameters, how many scenarios it stored, and whether it is stale (a later load changed the
// flows or production of a commodity and year it used: re-run its command).
//
// @param commodity: string = null     commodity group id; null = every commodity
// @param limit: integer[1..] = 50     rows returned
//
// :params {commodity: 'cobalt_oxides', limit: 50}
MATCH (r:Run)
WHERE $commodity IS NULL OR r.commodity = $commodity
// The writer renews its lease (a CritminLock named 'run:' + the run id) every 10 s; one not
// renewed for 60 s (STALE_AFTER of critmin.store.locks) belongs to a process that is gone.
OPTIONAL MATCH (lease:CritminLock {name: 'run:' + r.id})
WITH r, r.status = 'running' AND (lease IS NULL OR timestamp() - lease.renewed_at > 60000)
        AS gone
RETURN r.id AS run_id, r.commodity AS commodity, r.kind AS kind,
       coalesce(r.is_study, false) AS is_study,
       CASE WHEN gone THEN 'abandoned' ELSE r.status END AS status,
       coalesce(r.stale, false) AS stale, r.stale_years AS stale_years,
       r.unit AS unit, r.years AS years, r.fractions AS shocks,
       r.n_scenarios_planned AS scenarios_planned, r.n_scenarios AS scenarios_stored,
       r.parameters AS parameters, r.command AS command, r.created_at AS started_at,
       r.finished_at AS finished_at
ORDER BY started_at DESC, run_id
LIMIT toInteger($limit)
