/**
 * Property tests run with one fixed seed, so CI is reproducible and a red run can be replayed.
 * `LAYERLAB_FC_SEED=random` (or another number) and `LAYERLAB_FC_RUNS` explore further; every
 * counterexample found that way becomes a named test case beside its property.
 */
import fc from "fast-check";

const seed = process.env.LAYERLAB_FC_SEED;
const runs = process.env.LAYERLAB_FC_RUNS;
fc.configureGlobal({
  ...(seed === "random" ? {} : { seed: seed ? Number(seed) : 20261203 }),
  ...(runs ? { numRuns: Number(runs) } : {}),
});
