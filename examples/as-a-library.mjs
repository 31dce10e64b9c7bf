// kmiri as a library: a checked machine in one call (`createMachine`), a program run from a file
// and one given as source text, the findings read as data. Run with `node examples/as-a-library.mjs`
// after `npm install`. (examples/tiny-simulator.mjs uses kmiri's memory model and race detector
// without the Machine, from a simulator's own CPU loop.)
import { fileURLToPath } from "node:url";
import { createMachine } from "kmiri";

const kmiri = createMachine({ seed: 1 });

function show(result) {
  for (const ub of result.ub) {
    const where = `${ub.location.file}:${ub.location.line}:${ub.location.column}`;
    console.log(`${ub.kind} at ${where} on thread ${ub.thread}: ${ub.message}`);
    for (const h of ub.help.filter((h) => h.location)) console.log(`  ${h.message} ${h.location.file}:${h.location.line}`);
  }
  if (result.ub.length === 0) console.log(`clean; output: ${JSON.stringify(result.output)}`);
}

// A program file (the example beside this one, wherever this file is run from).
const fromFile = await kmiri.run(fileURLToPath(new URL("./use-after-free.ts", import.meta.url)));
show(fromFile);

// A program given as text: a `&mut` used after a write through its parent (Stacked Borrows).
show(
  await kmiri.run({
    fileName: "aliasing.ts",
    source: `import { Box, u32 } from "kmiri/rt";
export function main(): void {
  const b = Box.new(u32, 1);
  const parent = b.as_mut();
  const child = parent.reborrow_mut();
  parent.write(2);
  console.log(child.read());
  b.drop();
}
`,
  }),
);
process.exitCode = fromFile.exitCode;
