/** The engine options of a command line (shared by every command that runs programs). */
import type { CommonFlags } from "./args.js";
import type { EngineRunOptions } from "./engine.js";
import type { CliIO } from "./io.js";

/**
 * The engine options for a command line's flags; flags that were not given are left out, so the
 * engine's defaults apply.
 * @param flags - the parsed flags.
 * @param io - for the working directory.
 */
export function engineOptions(flags: CommonFlags, io: Pick<CliIO, "cwd">): EngineRunOptions {
  const options: EngineRunOptions = { cwd: io.cwd };
  if (flags.seed !== undefined) options.seed = flags.seed;
  if (flags.preemptionRate !== undefined) options.preemptionRate = flags.preemptionRate;
  if (flags.pct !== undefined) options.pct = flags.pct;
  if (flags.pctSteps !== undefined) options.pctSteps = flags.pctSteps;
  if (flags.replay !== undefined) options.replay = flags.replay;
  if (flags.maxSteps !== undefined) options.maxSteps = flags.maxSteps;
  if (flags.timeoutMs !== undefined) options.timeoutMs = flags.timeoutMs;
  if (flags.maxThreads !== undefined) options.maxThreads = flags.maxThreads;
  if (flags.memoryLimit !== undefined) options.memoryLimit = flags.memoryLimit;
  if (flags.ignoreLeaks) options.ignoreLeaks = true;
  if (flags.strictProvenance) options.strictProvenance = true;
  if (flags.noWeakMemory) options.weakMemory = false;
  if (flags.noRaceCheck) options.dataRaceDetector = false;
  if (flags.borrowModel !== undefined) options.borrowModel = flags.borrowModel;
  if (flags.trackTags !== undefined) options.trackTags = flags.trackTags;
  if (flags.tagGc !== undefined) options.tagGc = flags.tagGc;
  if (flags.native) options.native = true;
  if (flags.noTypecheck) options.typecheck = false;
  if (flags.cpus !== undefined || flags.ram !== undefined || flags.hostile) {
    options.mirch = {};
    if (flags.cpus !== undefined) options.mirch.cpus = flags.cpus;
    if (flags.ram !== undefined) options.mirch.ramBytes = flags.ram;
    if (flags.hostile) options.mirch.hostile = true;
  }
  return options;
}
