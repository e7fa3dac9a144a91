/**
 * Every fast-check property in the node project runs from one fixed seed, so a run is repeatable: CI
 * on any day and any machine draws the same cases, and a failure comes back with the same
 * counterexample (fast-check prints its seed and path). A property that names its own seed keeps it.
 * `FC_SEED=<n> npm test` draws other cases, for hunting.
 */
import fc from "fast-check";

const seed = Number(process.env.FC_SEED ?? 20_261_204);
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, not ${JSON.stringify(process.env.FC_SEED)}`);
fc.configureGlobal({ seed });
