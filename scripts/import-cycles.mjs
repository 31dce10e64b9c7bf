#!/usr/bin/env node
// Checks that the import graph of src/ has no cycle. An edge is an import that is evaluated:
// `import type` / `export type` (and imports whose every name is `type X`) are erased by the
// compiler and order nothing, so they are not edges (dependency-cruiser's and madge's usual
// rule) — a module may name the type of its caller's object, as memory's access functions name
// `Memory`. Prints every cycle (one strongly connected component a line, with one cycle through
// it) and exits 1 when there is any. Cycles confined to one shim runtime (the classes of
// `kmiri/rt` refer to each other: a `Ptr` makes a `Ref`, a `Ref` gives back a `Ptr`) are allowed:
// see ALLOWED_DIRS.
// Usage: node scripts/import-cycles.mjs [ROOT=src] [--json]
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

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
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

function imports(file) {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    if (typeOnly(m[1] ?? m[2])) continue;
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
    if (hit) out.push(hit);
  }
  return out;
}

const all = files(root);
const graph = new Map(all.map((f) => [f, imports(f)]));

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

if (json) console.log(JSON.stringify({ files: all.length, cycles: found }, null, 2));
else if (found.length === 0) console.log(`import graph of ${path.relative(process.cwd(), root) || "."}: ${all.length} files, no cycle`);
else {
  console.log(`import graph of ${path.relative(process.cwd(), root) || "."}: ${found.length} cycle(s)`);
  for (const c of found) console.log(`  ${c.cycle.join(" -> ")}${c.files.length > c.cycle.length - 1 ? `  (component of ${c.files.length} files: ${c.files.join(", ")})` : ""}`);
}
process.exitCode = found.length === 0 ? 0 : 1;
