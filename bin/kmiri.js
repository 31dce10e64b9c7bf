#!/usr/bin/env node
// The `kmiri` command: a shim over the built CLI (`npm run build` writes dist/).
//
// Defence in depth (README, "Isolation"): the CLI runs in a child Node process started with
// `--disallow-code-generation-from-strings` (no `eval` or `Function("...")` in any realm of the
// process, kmiri's included) and `--frozen-intrinsics` (kmiri's built-ins cannot be changed), so
// that a program that found a way out of its own realm still could neither compile code nor
// change what kmiri runs. The run's own time limit stops a program at its loop ticks and, through
// V8's watchdog, anywhere else (a catastrophic regular expression); for `kmiri run --timeout S`
// this process also kills the child that outlives the limit by 5 s, the last resort for an
// operation V8 does not interrupt (one huge BigInt computation).
// KMIRI_UNHARDENED=1 runs the CLI in this process (for debugging kmiri).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const HARDENING = ["--disallow-code-generation-from-strings", "--frozen-intrinsics", "--no-warnings"];

if (process.env.KMIRI_UNHARDENED !== "1" && !process.execArgv.includes(HARDENING[0])) {
  const args = process.argv.slice(2);
  const limit = backstop(args);
  const r = spawnSync(process.execPath, [...HARDENING, fileURLToPath(import.meta.url), ...args], {
    stdio: "inherit",
    timeout: limit,
    killSignal: "SIGKILL",
  });
  if (r.error?.code === "ETIMEDOUT") {
    process.stderr.write(
      `error: resource exhaustion: the program ran ${limit / 1000} s, past \`--timeout\`, in code where kmiri cannot stop it ` +
        "(one long built-in operation: a regular expression, a BigInt computation, a blocking wait); kmiri killed it\n",
    );
    process.exit(1);
  }
  if (r.error) {
    process.stderr.write(`error: internal error in kmiri: could not start the CLI process: ${r.error.message}\n`);
    process.exit(2);
  }
  process.exit(r.status ?? 1);
} else {
  import("../dist/cli/main.js").then(
    (cli) => cli.runCli(),
    (error) => {
      const notBuilt = error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("main.js");
      process.stderr.write(
        notBuilt
          ? "error: kmiri is not built: run `npm run build` in its package first\n"
          : `error: internal error in kmiri: ${error?.message ?? error}\n`,
      );
      process.exit(2);
    },
  );
}

/**
 * Milliseconds after which the CLI process is killed: for `kmiri run FILE --timeout S` (one run),
 * the limit plus 5 s (the run's own limit stops it first wherever it can, with a report and
 * a location); otherwise none.
 */
function backstop(args) {
  if (args[0] !== "run" || args.includes("--many-seeds")) return undefined;
  const i = args.findIndex((a) => a === "--timeout" || a.startsWith("--timeout="));
  if (i < 0) return undefined;
  const s = Number(args[i].includes("=") ? args[i].split("=")[1] : args[i + 1]);
  return Number.isFinite(s) && s > 0 ? Math.round(s * 1000 + 5_000) : undefined;
}
