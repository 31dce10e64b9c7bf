/**
 * The Machine's source of randomness: xoshiro128** seeded through splitmix32. One implementation
 * serves the engine and the scheduling policies (src/concurrency/scheduler.ts, which keeps
 * the library free of engine imports); every choice of a run is drawn from streams derived from
 * its seed, so a seed replays a run exactly.
 */
export { Xoshiro128 as Prng } from "../concurrency/scheduler.js";
