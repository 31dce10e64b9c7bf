/**
 * A worker thread of `runManySeeds` (many-seeds.ts): imports the built library (`dist/index.js`),
 * loads and compiles the program once, says `ready`, then runs `main` for every seed it receives
 * and posts each result back as data.
 */
import { parentPort, workerData } from "node:worker_threads";
import { prepareFile } from "../index.js";
import type { PreparedProgram } from "./run.js";
import { seedRun, serializeError, type WorkerInit, type WorkerReply } from "./many-seeds.js";

const port = parentPort!;
const { file, options } = workerData as WorkerInit;
const post = (msg: WorkerReply) => port.postMessage(msg);

let prepared: PreparedProgram;
try {
  prepared = await prepareFile(file, { cwd: options.cwd });
  port.on("message", (seed: number) => {
    try {
      post({ type: "result", seed, run: seedRun(prepared.run({ ...options, seed })) });
    } catch (e) {
      post({ type: "error", seed, error: serializeError(e) });
    }
  });
  post({ type: "ready" });
} catch (e) {
  post({ type: "error", error: serializeError(e) });
}
