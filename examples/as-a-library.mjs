// kmiri as a library, as another simulator would use it: run a program on the checked Machine
// and read the findings as data. Run with `node examples/as-a-library.mjs` after `npm install`.
import { runFile } from "kmiri";

const result = await runFile("examples/use-after-free.ts", { seed: 1 });
for (const ub of result.ub) {
  const where = `${ub.location.file}:${ub.location.line}:${ub.location.column}`;
  console.log(`${ub.kind} at ${where} on thread ${ub.thread}: ${ub.message}`);
  for (const h of ub.help.filter((h) => h.location)) console.log(`  ${h.message} ${h.location.file}:${h.location.line}`);
}
process.exitCode = result.exitCode;
