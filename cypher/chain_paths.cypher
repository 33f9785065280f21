// Chain paths: when a miner stops, who loses metal at the chain's last stage, and through which
// refiners the cut travelled. Each path starts at the source's stage-0 Impact, follows that
// stage's TRANSMITS to a country whose loss of ore starved its own output (STARVES, the stage
// link), then the next stage's TRANSMITS, down to a country that lost metal at the last stage.
// Paths are ranked by their bottleneck (their smallest hop, in t contained metal), heaviest
// first. The scenario is the latest stored one of the chain, year, source and shock (sources
// shocked at stage 0) of a complete sweep (critmin simulate --chain). A hop A->B passes loss
// from A to B (forward when an exporter cuts, backward when an importer asks its supplier for
// more); a STARVES hop keeps the country and moves one stage down, with the output it cut.
// Countries may repeat only across stages. Hops below min_share of their stage's initial shock
// are skipped. estimated_stages lists the stages whose output P^k is an estimate.
//
// @param chain: string                 supply chain id (chains.csv; the demo's is cobalt_demo)
// @param year: integer                 scenario year
// @param source: string                ISO3 code of the miner (a source at stage 0)
// @param shock: float[0..1] = 1.0      share of its output or exports cut
// @param loser: string = null          ISO3 code of one final loser; null = every one
// @param max_hops: integer[1..6] = 4   longest path, in hops, stage links included (1 to 6)
// @param min_share: float[0..1] = 0.01 smallest hop kept, as a share of its stage's initial shock
// @param limit: integer[1..] = 10      paths returned
//
// :params {chain: 'cobalt_demo', year: 2024, source: 'COD', shock: 1.0, loser: null, max_hops: 4, min_share: 0.01, limit: 10}
MATCH (s:Scenario {commodity: $chain, year: toInteger($year), shock: toFloat($shock)})
WHERE s.chain = $chain AND s.source_stage = 0 AND s.sources = [$source]
  AND EXISTS {
    MATCH (r:Run)-[:INCLUDES]->(s)
    WHERE r.status = 'complete' AND coalesce(r.kind, '') <> 'policy'
  }
WITH s ORDER BY s.created_at DESC LIMIT 1
WITH s, s.stages[size(s.stages) - 1] AS last
MATCH (s)-[:HIT]->(start:Impact {source: true, stage: 0})
MATCH p = (start)(()-[h:TRANSMITS|STARVES]->() WHERE h.share >= $min_share)
          {1, 6}(end:Impact {stage: last})
WHERE length(p) <= toInteger($max_hops) AND ($loser IS NULL OR end.iso3 = $loser)
  // a loser keeps a loss, and at least min_share of its stage's initial shock
  AND coalesce(end.demand_loss_t_metal, end.demand_loss_t, end.demand_loss_usd) > 0
  AND coalesce(end.demand_loss_t_metal, end.demand_loss_t, end.demand_loss_usd)
      >= $min_share * s.stage_initial_shock_t_metal[size(s.stages) - 1]
  // each Impact (a country at one stage) once
  AND all(i IN range(1, length(p)) WHERE NOT nodes(p)[i] IN nodes(p)[0..i])
WITH s, p, end, [r IN relationships(p) | coalesce(r.metal_t, r.cut_t_metal, r.tonnes, r.cut_t,
                                                   r.value_usd, r.cut_usd)] AS hops
WITH s, p, end, hops,
     reduce(low = hops[0], q IN hops | CASE WHEN q < low THEN q ELSE low END) AS weakest
RETURN end.iso3 AS loser, end.stage AS stage,
       round(coalesce(end.demand_loss_t_metal, end.demand_loss_t, end.demand_loss_usd), 3)
         AS loser_loss,
       [r IN relationships(p) WHERE type(r) = 'STARVES' | startNode(r).iso3] AS refiners,
       [n IN nodes(p) | n.iso3 + ':' + toString(n.stage)] AS path,
       [q IN hops | round(q, 3)] AS hop_losses, round(weakest, 3) AS bottleneck,
       s.unit AS unit, s.preset AS preset, s.estimated_stages AS estimated_stages,
       s.id AS scenario
ORDER BY weakest DESC, length(p), path
LIMIT toInteger($limit)
