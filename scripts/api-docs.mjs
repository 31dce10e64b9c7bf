#!/usr/bin/env node
// The API reference of `kmiri/rt` and `kmiri/mirch` (docs/api/rt.md, docs/api/mirch.md), generated
// from the built declaration files: `npm run build`, then `node scripts/api-docs.mjs` writes them,
// `node scripts/api-docs.mjs --check` exits 1 when they are out of date (test/docs/api-reference.test.ts
// checks the same, and that every runtime export has its entry).
//
// How: TypeScript 7's compiler has no stable JS API, so this reads the emitted `.d.ts` text. tsc
// emits one top-level statement per declaration, each after its own TSDoc comment; the reader
// splits a file into statements (brackets, strings and comments counted), follows the entry
// point's `export * from` / `export { … } from` / `import { … }` chains to the declaring file, and
// prints each exported name once: its comment as prose, its declaration (overloads together;
// private members dropped) as a `ts` block. Sections follow the declaring file (SECTIONS below).
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");

/** A section's test: declared in one of `files` (relative to dist/, without `.d.ts`), or named by `names`. */
const inFile = (...files) => (item) => files.includes(item.where);
const named = (re) => (item) => re.test(item.name);

/** The sections of each reference, in the order printed: [test, title, introduction]; an export goes to the first that takes it. */
const SECTIONS = {
  rt: [
    [inFile("interp/memory/layouts", "shims/native/index"), "Layouts", "A layout is a Rust type's size, alignment and encoding; every memory operation takes one."],
    [inFile("shims/native/memory"), "Raw pointers, allocation and `Box`", "Raw pointers (`*mut T`) carry their provenance; `alloc`/`dealloc` are Rust's global allocator; `Box<T>` owns one heap value."],
    [inFile("shims/native/refs"), "References", "`&T` and `&mut T`: made from a pointer or a `Box`, checked (non-null, aligned, in bounds, live) and retagged under Stacked Borrows when made."],
    [inFile("shims/native/statics"), "Statics", "`static` and `static mut` items."],
    [inFile("shims/native/locals"), "Locals", "Stack slots that die when the function that made them returns."],
    [inFile("shims/native/atomics"), "Fences and lock annotations", "Fences, and the lockdep annotations a lock built from atomics calls."],
    [inFile("shims/atomic-values"), "Atomic values", "The types of the atomic operations on a reference to an atomic layout."],
    [inFile("shims/native/threads"), "Threads", "Threads are scheduled by the Machine from the run's seed (on Mirch a thread is a CPU)."],
    [inFile("shims/native/panic"), "Panics", "Rust's panics and assertions; a panic ends the program (or the test) with exit status 1."],
    [inFile("shims/native/tests"), "Tests", "`kmiri test` runs each `ktest` on a fresh Machine."],
  ],
  mirch: [
    [named(/^([A-Z0-9_]+|PteFlags|PageType|PageState|MemoryRegion)$/), "Constants and types", "The address layout (48-bit, OSTD's x86-64 layout without sign extension), the page-table format and the boot memory map."],
    [named(/^(memory_regions|alloc_pages|dealloc_pages|retype_pages|page_state|paddr_to_vaddr|phys_ptr)$/), "Physical memory", "Physical pages are free, reserved, MMIO, untyped (shared with devices and users: volatile and atomic accesses only) or typed (plain Rust accesses)."],
    [named(/(fallible|volatile|^PageFault$|page_fault)/), "Copies and user memory", "Copies between kernel and user memory (OSTD's `VmReader`/`VmWriter`): fallible ones report a user page fault instead of stopping."],
    [named(/^(pte_|activate_page_table|current_page_table|boot_page_table|page_walk)/), "Page tables and CR3", "Page-table entries are 8-byte words in `page-table` pages; `activate_page_table` is the CR3 write, checked like a TLB fill."],
    [named(/^tlb_/), "TLB", "One TLB per CPU; a translation served by a stale entry whose page was freed or retyped is a `stale-tlb` report."],
    [named(/(iommu|dma)/i), "IOMMU and DMA", "Device addresses are mapped by the IOMMU; streaming DMA buffers are owned by the CPU or the device, handed over by the `dma_sync_*` calls."],
    [named(/(cpu|irq|interrupt|inter_processor|^IrqLine$|^CpuLocal$)/), "CPUs, interrupts and CPU-local data", "A thread is a CPU; interrupts and inter-processor calls run as frames on their CPU at preemption points."],
    [named(/^(io_mem_|port_|io_port_)/), "MMIO and I/O ports", "Device registers: MMIO windows claimed with `io_mem_claim`, port ranges with `io_port_claim`."],
    [() => true, "Devices", "Device models attached to the machine, and the two that ship (the console and virtio-blk)."],
  ],
};

const INTROS = {
  rt: `# \`kmiri/rt\` API reference

\`kmiri/rt\` is the runtime kernel code is written against: Rust's raw pointers, \`Box\`, references,
layouts (Rust types), atomics, threads, panics and tests, with Rust's names. A program imports it
as \`import { alloc, u32, ktest } from "kmiri/rt"\`. Run by \`kmiri run\` or \`kmiri test\`, the module is
replaced by the checked runtime of the Machine (every access checked, as Miri checks Rust); imported
by plain Node (or run with \`--native\`), it is the native runtime below — the same names, no checks.

A function or method marked **UNSAFE** must be called inside an \`unsafe:\` block or an \`"unsafe";\`
function, as in Rust; kmiri reports a call outside one. How the checks work, what each report means
and the CLI are in the [README](../../README.md) (*Writing programs*, *Stacked Borrows*, *Data races,
atomics and locks*). The Mirch pseudo-architecture is [\`kmiri/mirch\`](mirch.md).

This file is generated from the package's declaration files (\`dist/shims/rt.d.ts\` and the files it
re-exports) by \`node scripts/api-docs.mjs\`; do not edit it by hand.`,
  mirch: `# \`kmiri/mirch\` API reference

\`kmiri/mirch\` is Mirch, the pseudo-architecture kernel code runs on under kmiri, as \`arch/x86\` is for
Asterinas OSTD: physical RAM and page states, 4-level page tables, CR3, a TLB per CPU, inter-processor
calls and interrupts, an IOMMU and DMA, MMIO and I/O ports, and device models. Pointers come from
[\`kmiri/rt\`](rt.md) (\`Ptr\`, layouts). A program that imports \`kmiri/mirch\` runs on a Mirch machine
(\`--cpus N\`, \`--ram SIZE\`, \`--hostile\`; library: \`createMachine({ mirch: { … } })\`). Checked, every
shim checks the page-state, page-table, TLB, DMA and MMIO rules (the README's *Mirch: the
pseudo-architecture* lists them); imported by plain Node (or run with \`--native\`), the shims below run
with no checks.

A shim marked **UNSAFE** must be called inside an \`unsafe:\` block or an \`"unsafe";\` function.

This file is generated from the package's declaration files (\`dist/shims/mirch.d.ts\` and the files
it re-exports) by \`node scripts/api-docs.mjs\`; do not edit it by hand.`,
};

// ── Reading a .d.ts ───────────────────────────────────────────────────────────────────────────

/**
 * Splits declaration text into top-level statements, each with the TSDoc comment right before it.
 * A statement ends at a `;` outside brackets, or at the `}` closing a class, interface, namespace
 * or enum body.
 */
export function statements(text) {
  const out = [];
  let i = 0;
  let doc = null;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i])) i++;
    if (i >= n) break;
    if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2) + 2;
      const comment = text.slice(i, end);
      doc = comment.startsWith("/**") ? comment : doc;
      i = end;
      continue;
    }
    if (text.startsWith("//", i)) {
      i = text.indexOf("\n", i) < 0 ? n : text.indexOf("\n", i);
      continue;
    }
    const start = i;
    const block = /^(export\s+)?(declare\s+)?(abstract\s+)?(class|interface|namespace|enum|module)\b/.test(text.slice(i, i + 60));
    let depth = 0;
    while (i < n) {
      const c = text[i];
      if (c === '"' || c === "'" || c === "`") {
        i++;
        while (i < n && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
        i++;
        continue;
      }
      if (text.startsWith("/*", i)) {
        i = text.indexOf("*/", i + 2) + 2;
        continue;
      }
      if (text.startsWith("//", i)) {
        i = text.indexOf("\n", i);
        continue;
      }
      if (c === "{" || c === "(" || c === "[") depth++;
      else if (c === "}" || c === ")" || c === "]") {
        depth--;
        if (depth === 0 && c === "}" && block) {
          i++;
          break;
        }
      } else if (c === ";" && depth === 0) {
        i++;
        break;
      }
      i++;
    }
    out.push({ doc, text: text.slice(start, i).trim() });
    doc = null;
  }
  return out;
}

/** The names of `{ a, type b, c as d }`: [local, exported] pairs. */
function specifiers(list) {
  return list
    .split(",")
    .map((s) => s.trim().replace(/^type\s+/, ""))
    .filter((s) => s.length > 0)
    .map((s) => {
      const m = /^(\S+)\s+as\s+(\S+)$/.exec(s);
      return m ? [m[1], m[2]] : [s, s];
    });
}

const DECLARATION = /^(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(const|let|var|function|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/;

/** One parsed .d.ts: its local declarations by name, its imports, its exports. */
function parseModule(file, cache) {
  if (cache.has(file)) return cache.get(file);
  const mod = { file, locals: new Map(), imports: new Map(), exports: new Map(), stars: [] };
  cache.set(file, mod);
  const text = readFileSync(file, "utf8");
  const target = (spec) => resolve(dirname(file), spec.replace(/\.js$/, ".d.ts"));
  for (const st of statements(text)) {
    const t = st.text;
    let m;
    if ((m = /^export\s+\*\s+from\s+["']([^"']+)["']/.exec(t))) {
      mod.stars.push(target(m[1]));
    } else if ((m = /^export\s+(?:type\s+)?\{([^}]*)\}\s+from\s+["']([^"']+)["']/.exec(t))) {
      for (const [local, exported] of specifiers(m[1])) mod.exports.set(exported, { from: target(m[2]), name: local });
    } else if ((m = /^export\s+(?:type\s+)?\{([^}]*)\}\s*;?$/.exec(t))) {
      for (const [local, exported] of specifiers(m[1])) mod.exports.set(exported, { local });
    } else if ((m = /^import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+["']([^"']+)["']/.exec(t))) {
      for (const [imported, local] of specifiers(m[1])) mod.imports.set(local, { from: target(m[2]), name: imported });
    } else if ((m = DECLARATION.exec(t))) {
      const name = m[2];
      if (!mod.locals.has(name)) mod.locals.set(name, []);
      mod.locals.get(name).push(st);
      if (/^export\s/.test(t)) mod.exports.set(name, { local: name });
    }
  }
  return mod;
}

/** Where `name`, exported by `file`, is declared: { file, statements }. */
function resolveExport(file, name, cache, seen = new Set()) {
  const key = `${file}#${name}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const mod = parseModule(file, cache);
  const e = mod.exports.get(name);
  if (e?.from) return resolveExport(e.from, e.name, cache, seen);
  if (e?.local) return resolveLocal(mod, e.local, cache, seen);
  for (const star of mod.stars) {
    const r = resolveExport(star, name, cache, seen);
    if (r) return r;
  }
  return undefined;
}

function resolveLocal(mod, name, cache, seen) {
  if (mod.locals.has(name)) return { file: mod.file, statements: mod.locals.get(name) };
  const imp = mod.imports.get(name);
  return imp ? resolveExport(imp.from, imp.name, cache, seen) : undefined;
}

/** Every name `file` exports (following `export *`), in declaration order. */
export function exportedNames(file, cache = new Map(), seen = new Set()) {
  if (seen.has(file)) return [];
  seen.add(file);
  const mod = parseModule(file, cache);
  const names = [...mod.exports.keys()];
  for (const star of mod.stars) for (const n of exportedNames(star, cache, seen)) if (!names.includes(n)) names.push(n);
  return names;
}

// ── Rendering ─────────────────────────────────────────────────────────────────────────────────

/** A TSDoc comment as Markdown prose: the `*` margins removed, `@param`/`@returns` as a list. */
function prose(doc) {
  if (!doc) return "";
  const lines = doc
    .replace(/^\/\*\*\s?/, "")
    .replace(/\s*\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""));
  const body = [];
  const tags = [];
  for (const l of lines) {
    if (/^@/.test(l)) tags.push([l]);
    else if (tags.length > 0) tags[tags.length - 1].push(l);
    else body.push(l);
  }
  let text = body.join("\n").trim().replace(/\{@link\s+([^}\s|]+)(?:\s*\|?\s*([^}]*))?\}/g, (_, target, label) => `\`${label || target}\``);
  const items = [];
  const examples = [];
  for (const [first, ...rest] of tags) {
    const m = /^@(\w+)\s*(.*)$/.exec(first);
    if (m[1] === "example") {
      const code = [m[2], ...rest].join("\n").trim();
      examples.push(code.startsWith("```") ? code : `\`\`\`ts\n${code}\n\`\`\``);
      continue;
    }
    const line = [m[2], ...rest.map((l) => l.trim())].filter((l) => l !== "").join(" ");
    if (m[1] === "param" || m[1] === "typeParam") {
      const p = /^(\S+)\s*(?:-\s*)?(.*)$/.exec(line);
      items.push(`- \`${p[1]}\`${m[1] === "typeParam" ? " (type parameter)" : ""}: ${p[2]}`);
    } else items.push(`- ${m[1] === "returns" ? "Returns" : m[1] === "throws" ? "Throws" : `@${m[1]}`} ${line}`);
  }
  if (items.length > 0) text += `${text ? "\n\n" : ""}${items.join("\n")}`;
  for (const e of examples) text += `${text ? "\n\n" : ""}Example:\n\n${e}`;
  return text;
}

/** The declaration as shown: `export declare` dropped, private and `@internal` one-line members removed. */
function declarationText(st) {
  const lines = st.text.replace(/^export\s+/, "").replace(/^declare\s+/, "").split("\n");
  const shown = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s+(private\s|#private;)/.test(lines[i])) continue;
    if (/^\s+\/\*\*\s*@internal\b.*\*\/$/.test(lines[i]) && /;$/.test(lines[i + 1] ?? "")) {
      i++;
      continue;
    }
    shown.push(lines[i]);
  }
  return shown.join("\n");
}

function kindOf(st) {
  const m = DECLARATION.exec(st.text);
  return m ? m[1] : "export";
}

/**
 * The calls the checked runtime reports outside an unsafe region (rustc's E0133): the names its
 * shims pass to `unsafeCallOutsideUnsafe` / `needsUnsafe` in src/shims/checked/ — `alloc`,
 * `Ptr::read`, `iommu.map`.
 */
export function unsafeCalls() {
  const dir = join(ROOT, "src", "shims", "checked");
  const names = new Set();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    for (const m of readFileSync(join(dir, f), "utf8").matchAll(/(?:unsafeCallOutsideUnsafe|needsUnsafe)\("([^"]+)"/g)) names.add(m[1]);
  }
  return [...names].sort();
}

/** The Markdown reference of one entry point (`rt` or `mirch`). */
export function renderReference(entry) {
  const cache = new Map();
  const entryFile = join(DIST, "shims", `${entry}.d.ts`);
  const sections = SECTIONS[entry].map(([takes, title, intro]) => ({ takes, title, intro, items: [] }));
  const unplaced = [];
  for (const name of exportedNames(entryFile, cache)) {
    const r = resolveExport(entryFile, name, cache);
    if (!r) throw new Error(`api-docs: cannot find the declaration of \`${name}\`, exported by kmiri/${entry}`);
    const item = { name, statements: r.statements, where: relative(DIST, r.file).replace(/\\/g, "/").replace(/\.d\.ts$/, "") };
    const section = sections.find((s) => s.takes(item));
    if (section) section.items.push(item);
    else unplaced.push(name);
  }
  if (unplaced.length > 0) throw new Error(`api-docs: no section of kmiri/${entry} takes ${unplaced.join(", ")}: add one to SECTIONS`);

  // GitHub's heading anchors, in document order (a later heading with the same anchor gets `-1`, `-2` …).
  const anchors = new Map();
  for (const s of sections) {
    for (const it of s.items) {
      const base = it.name.toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
      const n = anchors.get(base) ?? 0;
      anchors.set(base, n + 1);
      it.anchor = n === 0 ? base : `${base}-${n}`;
    }
  }

  // The UNSAFE calls of this entry point: `f`, or `Class::method` / `object.method` of an export.
  const exported = new Set(sections.flatMap((s) => s.items.map((it) => it.name)));
  const unsafe = unsafeCalls().filter((c) => exported.has(c.split(/::|\./)[0]));
  const unsafeOf = (name) => unsafe.filter((c) => c.split(/::|\./)[0] === name && c !== name).map((c) => c.split(/::|\./)[1]);

  const parts = [INTROS[entry], "", "## Contents", ""];
  for (const s of sections) {
    if (s.items.length > 0) parts.push(`- **${s.title}**: ${s.items.map((it) => `[\`${it.name}\`](#${it.anchor})`).join(", ")}`);
  }
  parts.push(
    "",
    "## Unsafe calls",
    "",
    "Checked (under `kmiri run` / `kmiri test`), a call of one of these outside an `unsafe:` block or an",
    "`\"unsafe\";` function stops the run with rustc's error E0133 (`call to unsafe function … requires",
    "unsafe block`, kind `unsafe-outside-unsafe`); natively nothing is checked:",
    "",
    unsafe.map((c) => `\`${c}\``).join(", ") + ".",
  );
  if (entry === "rt") parts.push("", "Using a `static_(…, { mut: true })` (`as_ref`, `as_mut`, `read`, `write`) outside an unsafe region is E0133 too (`use of mutable static is unsafe and requires unsafe block`).");
  for (const s of sections) {
    if (s.items.length === 0) continue;
    parts.push("", `## ${s.title}`, "");
    if (s.intro) parts.push(s.intro, "");
    for (const it of s.items) {
      const kinds = [...new Set(it.statements.map(kindOf))];
      const methods = unsafeOf(it.name);
      const marks = [kinds.join(", "), ...(unsafe.includes(it.name) ? ["UNSAFE"] : []), ...(methods.length > 0 ? [`UNSAFE: ${methods.map((m) => `\`${m}\``).join(", ")}`] : [])];
      parts.push(`### \`${it.name}\``, "", `*${marks.join(" — ")}*`, "");
      const docs = it.statements.map((st) => prose(st.doc)).filter((d) => d !== "");
      for (const d of [...new Set(docs)]) parts.push(d, "");
      parts.push("```ts", it.statements.map(declarationText).join("\n"), "```", "");
    }
  }
  return `${parts.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

export const OUTPUTS = { rt: "docs/api/rt.md", mirch: "docs/api/mirch.md" };

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [entry, out] of Object.entries(OUTPUTS)) {
    const text = renderReference(entry);
    const path = join(ROOT, out);
    let old = "";
    try {
      old = readFileSync(path, "utf8");
    } catch {}
    if (old === text) continue;
    if (check) {
      console.error(`${out} is out of date: run \`npm run build && node scripts/api-docs.mjs\``);
      stale++;
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote ${out}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
