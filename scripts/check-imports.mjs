#!/usr/bin/env node
// Checks the import graph of src/ against the design (DESIGN.md's data flow: cli → driver →
// engine → memory → (seam) → analyses):
//
// 1. No cycle. An edge is an import that is evaluated:
// `import type` / `export type` (and imports whose every name is `type X`) are erased by the
// compiler and order nothing, so they are not edges (dependency-cruiser's and madge's usual
// rule) — a module may name the type of its caller's object, as memory's access functions name
// `Memory`. Prints every cycle (one strongly connected component a line, with one cycle through
// it) and exits 1 when there is any. Cycles confined to one shim runtime (the classes of
// `kmiri/rt` refer to each other: a `Ptr` makes a `Ref`, a `Ref` gives back a `Ptr`) are allowed:
// see ALLOWED_DIRS.
// 2. Layers (LAYERS below): what a folder may import, type-only imports included (naming a type
//    is depending on it): memory imports no analysis, no engine part above it and no shim; the
//    analyses (borrowtracker, concurrency) import nothing of the engine, the shims or the CLI.
// Exits 1 on any finding. `npm test` runs it (test/architecture.test.ts).
// Usage: node scripts/check-imports.mjs [ROOT=src] [--json]
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const json = args.includes("--json");
const root = path.resolve(args.find((a) => !a.startsWith("--")) ?? "src");

/**
 * Folders (relative to ROOT) inside which a cycle is allowed: one shim runtime each, whose
 * classes refer to each other as Rust's do (`*mut T` ↔ `&T` ↔ atomics).
 */
const ALLOWED_DIRS = ["shims/checked/", "shims/native/"];

/**
 * Layering rules: files under `dir` may import (values or types) only files under one of `may`.
 */
const LAYERS = [
  { dir: "interp/memory/", may: ["interp/memory/", "interp/report.ts"], why: "memory reaches analyses, hosts and shims only through its seam" },
  { dir: "borrowtracker/", may: ["borrowtracker/", "data-structures/"], why: "the borrow tracker is engine-free (kmiri/borrowtracker)" },
  { dir: "concurrency/", may: ["concurrency/", "data-structures/"], why: "the concurrency analyses are engine-free (kmiri/concurrency)" },
  { dir: "data-structures/", may: ["data-structures/"], why: "plain data structures" },
  { dir: "mirch/", may: ["mirch/", "data-structures/"], why: "Mirch's parts are engine-free (for simulators with their own CPU loop)" },
  { dir: "interp/report.ts", may: [], why: "the report types sit below every layer" },
  { dir: "shims/manifest.ts", may: [], why: "the guest API manifest is plain data" },
  { dir: "interp/", may: ["interp/", "borrowtracker/", "concurrency/", "data-structures/", "mirch/", "shims/manifest.ts"], why: "the engine does not know the shims (it takes a GuestRuntime), the driver or the CLI" },
  { dir: "driver/", may: ["driver/", "interp/", "shims/", "borrowtracker/", "concurrency/", "data-structures/"], why: "the driver does not know the CLI" },
];

/**
 * Folders (relative to ROOT) that are not kmiri: program code kmiri runs (the OSTD port, whose
 * modules refer to each other as OSTD's Rust modules do). Their imports are not checked.
 */
const PROGRAM_DIRS = ["ostd-under-test"];

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && PROGRAM_DIRS.includes(path.relative(root, p).split(path.sep).join("/"))) continue;
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

// `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`; comments stripped first.
// Group 1 is the clause (to tell type-only imports), group 2 the specifier.
const IMPORT = /(?:\bimport\s+((?:type\s+)?(?:[\w*{}\s,$]+?)\s+from\s+)?|\bexport\s+((?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\}))\s+from\s+|\bimport\s*\(\s*)["']([^"']+)["']/g;

/** True for a clause that imports types only: `type {…}`, or `{ type A, type B }`. */
function typeOnly(clause) {
  if (clause === undefined) return false;
  const c = clause.trim();
  if (c.startsWith("type ") || c.startsWith("type{")) return true;
  const braces = /^\{([^}]*)\}/.exec(c);
  if (!braces || c.slice(braces[0].length).replace(/from\s*$/, "").trim() !== "") return false;
  const names = braces[1].split(",").map((n) => n.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

/** The files `file` imports: `{ target, typeOnly }` for each relative import that resolves. */
function imports(file) {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const types = typeOnly(m[1] ?? m[2]);
    const spec = m[3];
    if (!spec.startsWith(".")) continue;
    let target = path.resolve(path.dirname(file), spec);
    const candidates = [target.replace(/\.js$/, ".ts"), target, target + ".ts", path.join(target, "index.ts")];
    const hit = candidates.find((c) => {
      try {
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
    if (hit) out.push({ target: hit, typeOnly: types });
  }
  return out;
}

const all = files(root);
const edges = new Map(all.map((f) => [f, imports(f)]));
/** Evaluated imports only: the graph cycles are looked for in. */
const graph = new Map([...edges].map(([f, es]) => [f, es.filter((e) => !e.typeOnly).map((e) => e.target)]));

// Tarjan's strongly connected components.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const sccs = [];
function strong(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const c = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(c);
  }
}
for (const f of all) if (!idx.has(f)) strong(f);

/** One cycle through a component: a shortest path back to its first file. */
function cycleIn(comp) {
  const set = new Set(comp);
  const start = comp.slice().sort()[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!set.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = prev.get(x)) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const rel = (f) => path.relative(root, f);
const found = sccs
  .map((c) => ({ files: c.map(rel).sort(), cycle: cycleIn(c).map(rel) }))
  .filter((c) => !ALLOWED_DIRS.some((d) => c.files.every((f) => f.startsWith(d))));

/** Imports that break a layer rule (the first rule whose `dir` matches a file applies). */
const layerViolations = [];
for (const [f, es] of edges) {
  const from = rel(f);
  const rule = LAYERS.find((l) => from.startsWith(l.dir));
  if (rule === undefined) continue;
  for (const e of es) {
    const to = rel(e.target);
    if (!rule.may.some((m) => to.startsWith(m))) layerViolations.push({ from, to, typeOnly: e.typeOnly, rule: rule.why });
  }
}

const where = path.relative(process.cwd(), root) || ".";
if (json) console.log(JSON.stringify({ files: all.length, cycles: found, layerViolations }, null, 2));
else {
  if (found.length === 0) console.log(`import graph of ${where}: ${all.length} files, no cycle`);
  else {
    console.log(`import graph of ${where}: ${found.length} cycle(s)`);
    for (const c of found) console.log(`  ${c.cycle.join(" -> ")}${c.files.length > c.cycle.length - 1 ? `  (component of ${c.files.length} files: ${c.files.join(", ")})` : ""}`);
  }
  if (layerViolations.length === 0) console.log(`layers of ${where}: every import allowed`);
  else {
    console.log(`layers of ${where}: ${layerViolations.length} import(s) break a rule`);
    for (const v of layerViolations) console.log(`  ${v.from} imports ${v.typeOnly ? "types of " : ""}${v.to}: ${v.rule}`);
  }
}
process.exitCode = found.length === 0 && layerViolations.length === 0 ? 0 : 1;
