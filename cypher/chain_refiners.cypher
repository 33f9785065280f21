// Chain refiners: which countries carry a miner's cut down the supply chain. For each country
// whose loss at one stage starved its output at the next (a STARVES stage link), what it lost
// of the stage before (input_lost: ore, or intermediates), how much of its own output the loss
// cut (output_cut: y * L, at most its output), what it passed on downstream (passed_on: its
// TRANSMITS at the lower stage) and what it kept (kept_loss: its own demand loss there), in
// t contained metal. Largest cut first. The scenario is the latest stored one of the chain,
// year, source and shock (sources shocked at stage 0) of a complete sweep (critmin simulate
// --chain). estimated is true where the lower stage's output P^k is an estimate, not data.
//
// @param chain: string                 supply chain id (chains.csv; the demo's is cobalt_demo)
// @param year: integer                 scenario year
// @param source: string                ISO3 code of the miner (a source at stage 0)
// @param shock: float[0..1] = 1.0      share of its output or exports cut
// @param limit: integer[1..] = 20      rows returned
//
// :params {chain: 'cobalt_demo', year: 2024, source: 'COD', shock: 1.0, limit: 20}
MATCH (s:Scenario {commodity: $chain, year: toInteger($year), shock: toFloat($shock)})
WHERE s.chain = $chain AND s.source_stage = 0 AND s.sources = [$source]
  AND EXISTS {
    MATCH (r:Run)-[:INCLUDES]->(s)
    WHERE r.status = 'complete' AND coalesce(r.kind, '') <> 'policy'
  }
WITH s ORDER BY s.created_at DESC LIMIT 1
MATCH (s)-[:HIT]->(up:Impact)-[cut:STARVES]->(down:Impact)-[:OF]->(c:Country)
OPTIONAL MATCH (down)-[t:TRANSMITS]->(:Impact)
WITH s, up, cut, down, c, sum(coalesce(t.metal_t, t.tonnes, t.value_usd)) AS passed
WITH s, up, down, c, passed, coalesce(cut.cut_t_metal, cut.cut_t, cut.cut_usd) AS output_cut
RETURN c.iso3 AS refiner, c.name AS name, up.stage AS from_stage, down.stage AS to_stage,
       coalesce(s.stage_commodities[down.stage], '') AS stage_commodity,
       round(coalesce(up.demand_loss_t_metal, up.demand_loss_t, up.demand_loss_usd), 3)
         AS input_lost,
       round(output_cut, 3) AS output_cut, round(passed, 3) AS passed_on,
       round(coalesce(down.demand_loss_t_metal, down.demand_loss_t, down.demand_loss_usd), 3)
         AS kept_loss,
       coalesce(down.stage IN s.estimated_stages, false) AS estimated,
       s.unit AS unit, s.preset AS preset, s.id AS scenario
ORDER BY output_cut DESC, from_stage, refiner
LIMIT toInteger($limit)
