/**
 * A worker thread of `runManySeeds` and `testManySeeds` (many-seeds.ts): imports the built library
 * (`dist/driver/run.js`), loads and compiles the program (or the test files) once, says `ready`, then
 * runs `main` (or every selected test) for every seed it receives and posts each result back as
 * data.
 */
import { parentPort, workerData } from "node:worker_threads";
import { prepareFile, prepareTests } from "./run.js";
import { seedRun, serializeError, type WorkerInit, type WorkerReply } from "./many-seeds.js";

const port = parentPort!;
const init = workerData as WorkerInit;
/**
 * Posts a reply. A test run's coverage counts (Float64Arrays, fresh per seed and not used here
 * again) are transferred, not copied; the main thread sums them over the seeds.
 */
const post = (msg: WorkerReply) => {
  const run = msg.type === "result" && "lineHits" in msg.run ? msg.run : undefined;
  port.postMessage(msg, run ? [...run.lineHits, ...run.unsafeHits].map((h) => h.buffer as ArrayBuffer) : []);
};

try {
  let runSeed: (seed: number) => WorkerReply & { type: "result" };
  if (init.kind === "test") {
    const tests = await prepareTests(init.path, init.options);
    runSeed = (seed) => ({ type: "result", seed, run: tests.runSeed(seed) });
  } else {
    const { options } = init;
    // runManySeeds type-checked the program before starting the workers.
    const prepared = await prepareFile(init.file, { cwd: options.cwd, typecheck: false });
    runSeed = (seed) => ({ type: "result", seed, run: seedRun(prepared.run({ ...options, seed })) });
  }
  port.on("message", (seed: number) => {
    try {
      post(runSeed(seed));
    } catch (e) {
      post({ type: "error", seed, error: serializeError(e) });
    }
  });
  post({ type: "ready" });
} catch (e) {
  post({ type: "error", error: serializeError(e) });
}
