/**
 * The packed package, as a user gets it: `npm pack` of the built `dist/` (no scripts run, so it
 * packs exactly what `npm run build` left — `npm test` builds first), unpacked as
 * `node_modules/kmiri` of a fresh temporary project whose other dependencies are symlinks into
 * this repository's `node_modules` (no network). From that project:
 *
 * - the tarball holds no source maps, and holds the API reference (docs/api) and the examples,
 *   which run from the project (`node node_modules/kmiri/examples/as-a-library.mjs`); the README's
 *   "Use it in your project", with a real `npm install` of the tarball, is test/package-install.test.ts;
 * - plain `node` imports the engine-free entry points `kmiri/concurrency` and
 *   `kmiri/borrowtracker` and drives them by hand (the child prints JSON; the assertions are here),
 *   and uses `kmiri`'s `Memory` without a Machine, with a `RaceDetector` behind its race hook;
 * - the repository's `tsc` type-checks the packed `.d.ts` files with `lib: ["es2022"]` (no DOM)
 *   and `skipLibCheck: false`: the engine-free entry points (`kmiri/rt`, `kmiri/concurrency`,
 *   `kmiri/borrowtracker`) with no ambient types at all, and the whole package with Node's types
 *   only, since `kmiri` itself names Node globals (`AbortSignal` in `runManySeeds`/`testPath`
 *   options, `Console` in `Machine`).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The repository's compiler, as `npm run build` runs it (`tsc -p …`, TypeScript 7's native `tsc` behind a Node launcher). */
const TSC = join(ROOT, "node_modules", ".bin", "tsc");
/** What the temporary project links from this repository's node_modules: kmiri's dependencies (and the platform binary `typescript` runs). */
const LINKED = ["acorn", "kleur", "source-map", "typescript", "@typescript"];

let tmp = "";
/** The temporary project: `node_modules/kmiri` is the unpacked tarball. */
let project = "";
/** The paths in the tarball, relative to the package root. */
let packedFiles: string[] = [];

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  return r;
}

function failure(what: string, r: SpawnSyncReturns<string>): string {
  return `${what} exited with ${r.status}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Runs an ES module in the temporary project with plain node; returns what it printed, parsed as JSON. */
function nodeJson(source: string): any {
  const r = run(process.execPath, ["--input-type=module", "-e", source], project);
  if (r.status !== 0) throw new Error(failure("node --input-type=module -e", r));
  return JSON.parse(r.stdout);
}

/** Type-checks `source` in the temporary project with no DOM library; returns tsc's result and the files it read. */
function typeCheck(name: string, types: string[], source: string): { r: SpawnSyncReturns<string>; files: string[] } {
  const dir = join(project, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "check.ts"), source);
  const tsconfig = {
    compilerOptions: {
      target: "es2022",
      lib: ["es2022"],
      types,
      module: "nodenext",
      moduleResolution: "nodenext",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: ["check.ts"],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const r = run(process.execPath, [TSC, "-p", dir, "--listFiles"], project);
  const files = r.stdout.split(/\r?\n/).filter((l) => /\.d\.[cm]?ts$|\.ts$/.test(l) && !/error TS\d+/.test(l));
  return { r, files };
}

beforeAll(() => {
  const required = ["dist/index.d.ts", "dist/shims/rt.d.ts", "dist/concurrency/index.js", "dist/concurrency/index.d.ts", "dist/borrowtracker/index.js"];
  const missing = required.filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length > 0) {
    throw new Error(`the package test packs the built dist/, but ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing: run \`npm run build\` first (\`npm test\` does)`);
  }
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "kmiri-pack-")));

  // `--ignore-scripts`: `prepare` would rebuild dist/; the test packs what the build left.
  const npmCli = process.env.npm_execpath;
  const npmArgs = ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp];
  const packed = npmCli && /\.[cm]?js$/.test(npmCli) ? run(process.execPath, [npmCli, ...npmArgs], ROOT) : run("npm", npmArgs, ROOT);
  if (packed.status !== 0) throw new Error(failure("npm pack", packed));
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")))[0] as { filename: string; files: { path: string }[] };
  packedFiles = info.files.map((f) => f.path);

  project = join(tmp, "project");
  const pkgDir = join(project, "node_modules", "kmiri");
  mkdirSync(pkgDir, { recursive: true });
  const untar = run("tar", ["-xzf", join(tmp, info.filename), "-C", pkgDir, "--strip-components=1"], tmp);
  if (untar.status !== 0) throw new Error(failure("tar", untar));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "kmiri-package-test", private: true, type: "module" }));

  for (const dep of [...LINKED, "@types/node"]) {
    const from = join(ROOT, "node_modules", dep);
    if (!existsSync(from)) continue; // `@typescript`: only where typescript ships a platform package
    const to = join(project, "node_modules", dep);
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(from, to, "junction");
  }
}, 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the packed package", () => {
  test("ships every file its exports map names", () => {
    const pkg = JSON.parse(readFileSync(join(project, "node_modules", "kmiri", "package.json"), "utf8"));
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining([".", "./rt", "./mirch", "./borrowtracker", "./concurrency"]));
    const targets: string[] = [];
    for (const entry of Object.values(pkg.exports) as (string | Record<string, string>)[]) {
      targets.push(...(typeof entry === "string" ? [entry] : Object.values(entry)));
    }
    const missing = targets.map((t) => t.replace(/^\.\//, "")).filter((t) => !packedFiles.includes(t));
    expect(missing, "exports targets missing from the tarball").toEqual([]);
    expect(packedFiles.some((f) => f.startsWith("src/") || f.startsWith("test/")), "sources or tests in the tarball").toBe(false);
  });

  test("ships no source maps (they would point at src/, which is not shipped), and needs none", () => {
    expect(packedFiles.filter((f) => f.endsWith(".map")), "source maps in the tarball").toEqual([]);
    // The built modules still name their maps (`//# sourceMappingURL=`): Node reads a map only with
    // --enable-source-maps, and kmiri reads none of its own at run time (its source maps are the
    // programs' .ts → .js, made by the loader).
    expect(packedFiles.filter((f) => f.startsWith("dist/") && f.endsWith(".js")).length).toBeGreaterThan(50);
  });

  test("ships the API reference, linked from the README, and the examples", () => {
    expect(packedFiles).toEqual(expect.arrayContaining(["README.md", "docs/api/README.md", "docs/api/rt.md", "docs/api/mirch.md"]));
    expect(packedFiles).toEqual(expect.arrayContaining(["examples/hello.ts", "examples/ktests.ts", "examples/use-after-free.ts", "examples/as-a-library.mjs"]));
    const readme = readFileSync(join(project, "node_modules", "kmiri", "README.md"), "utf8");
    for (const link of readme.matchAll(/\]\((docs\/[^)#\s]+)/g)) expect(packedFiles, `README links ${link[1]}`).toContain(link[1]);
  });

  test("the shipped examples run from a consumer project (kmiri/rt resolves; as-a-library.mjs finds its program beside it)", () => {
    const r = run(process.execPath, [join(project, "node_modules", "kmiri", "examples", "as-a-library.mjs")], project);
    expect(r.stdout, failure("node examples/as-a-library.mjs", r)).toMatch(/^use-after-free at node_modules\/kmiri\/examples\/use-after-free\.ts:15:15 on thread main/m);
    expect(r.status).toBe(1);
  });

  test("ships its licence, and says what it is for", () => {
    expect(packedFiles).toContain("LICENSE");
    expect(readFileSync(join(project, "node_modules", "kmiri", "LICENSE"), "utf8")).toMatch(/^MIT License/);
    const pkg = JSON.parse(readFileSync(join(project, "node_modules", "kmiri", "package.json"), "utf8"));
    expect(pkg.license).toBe("MIT");
    expect(pkg.keywords).toEqual(expect.arrayContaining(["miri", "undefined-behavior", "kernel"]));
  });

  test("kmiri/concurrency: an unsynchronised write and read race; release/acquire or a join orders them", () => {
    const out = nodeJson(`
      import { RaceDetector, describeRace } from "kmiri/concurrency";
      const names = { thread: (t) => (t === 0 ? "main" : "cpu" + t), alloc: 1 };

      // Two threads, nothing but the spawn edge between them.
      const d = new RaceDetector();
      const x = d.allocate(4, 0, 100);                   // main allocates x (site 100)
      const cpu1 = d.spawn(0);                           // main spawns cpu1: the allocation happens before it
      const write = d.write(x, 0, 4, cpu1, 101);         // cpu1 writes x
      const race = d.read(x, 0, 4, 0, 102);              // main reads x: nothing orders it after the write
      const described = race && describeRace(race, names);

      // The same, with a release store and an acquire load of a flag between the write and the read.
      const d2 = new RaceDetector();
      const y = d2.allocate(4, 0, 200);
      const flag = d2.allocate(4, 0, 201);
      const cpu1b = d2.spawn(0);
      const acquired = [
        d2.write(y, 0, 4, cpu1b, 202),
        d2.atomicStore(flag, 0, 4, "Release", cpu1b, 203),
        d2.atomicLoad(flag, 0, 4, "Acquire", 0, 204),
        d2.read(y, 0, 4, 0, 205),
      ];

      // The same, with the reader joining the writer.
      const d3 = new RaceDetector();
      const z = d3.allocate(4, 0, 300);
      const cpu1c = d3.spawn(0);
      const w3 = d3.write(z, 0, 4, cpu1c, 301);
      d3.terminate(cpu1c);
      d3.join(0, cpu1c);
      const joined = [w3, d3.read(z, 0, 4, 0, 302), d3.active];

      console.log(JSON.stringify({ cpu1, write, race, described, acquired, joined }));
    `);
    expect(out.cpu1).toBe(1);
    expect(out.write).toBeNull();
    expect(out.race).toMatchObject({ kind1: "non-atomic write", thread1: 1, site1: 101, kind2: "non-atomic read", thread2: 0, site2: 102, offset: 0, size: 4 });
    expect(out.described.kind).toBe("data-race");
    expect(out.described.message).toBe(
      "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `main` at alloc1[0x0]",
    );
    expect(out.described.help[0]).toEqual({ message: "and (1) occurred earlier here", site: 101 });
    expect(out.acquired).toEqual([null, null, null, null]);
    expect(out.joined).toEqual([null, null, false]);
  });

  test("kmiri/borrowtracker: a write through the parent invalidates a unique child; using the child is a finding", () => {
    const out = nodeJson(`
      import { StackedBorrows, isFinding } from "kmiri/borrowtracker";
      const sb = new StackedBorrows();
      const root = sb.newAllocation(1, 4, "stack", 400);   // let mut x = 0;       (site 400)
      const child = sb.retag(1, root, 0, 4, "unique", 401); // let r = &mut x;      (site 401)
      const parentWrite = sb.access(1, root, 0, 4, "write", 402); // x = 1;         (site 402): pops r
      const finding = sb.access(1, child, 0, 4, "read", 403);     // *r            (site 403)
      console.log(JSON.stringify({ root, child, childIsFinding: isFinding(child), parentWrite, finding }));
    `);
    expect(out.childIsFinding).toBe(false);
    expect(typeof out.child).toBe("number");
    expect(out.child).not.toBe(out.root);
    expect(out.parentWrite).toBeNull();
    const f = out.finding;
    expect(f).not.toBeNull();
    expect(f.kind).toBe("stacked-borrows");
    expect(f.title).toBe("Undefined Behavior");
    expect(f.message).toBe(
      `attempting a read access using <${out.child}> at alloc1[0x0], but that tag does not exist in the borrow stack for this location`,
    );
    const help = f.help.map((h: { message: string }) => h.message);
    expect(help.some((m: string) => m.includes("Stacked Borrows rules it violated are still experimental"))).toBe(true);
    expect(f.help).toContainEqual({ message: `<${out.child}> was created by a Unique retag at offsets [0x0..0x4]`, site: 401 });
    expect(f.help).toContainEqual({ message: `<${out.child}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 402 });
  });

  test("kmiri's Memory without a Machine: checked loads and stores, use after free, out of bounds; a RaceDetector as its race hook", () => {
    // Layouts come from the root's `layouts` namespace (the same objects `kmiri/rt` exports).
    const out = nodeJson(`
      import { Memory, UBStop, layouts } from "kmiri";
      import * as rt from "kmiri/rt";
      const { u32, u64, struct } = layouts;
      import { RaceDetector, describeRace } from "kmiri/concurrency";

      /** Runs f; the report of the UBStop it throws (anything else is rethrown), or null. */
      const reportOf = (f) => {
        try { f(); return null; } catch (e) {
          if (!(e instanceof UBStop)) throw e;
          return { kind: e.report.kind, message: e.report.message, help: e.report.help.map((h) => h.message) };
        }
      };

      // A Memory with the default seam: no Machine, no sites; a finding throws a UBStop.
      const mem = new Memory();
      const Pair = struct("Pair", { x: u32, y: u64 });        // 4 bytes, 4 of padding, 8 bytes
      const a = mem.allocate(Pair.size, Pair.align, "heap", -1);
      mem.store(a.base, a, Pair, { x: 7, y: 2n ** 40n });
      mem.store(a.base, a, u32, 8);                            // the field x alone, through a u32
      const pair = mem.load(a.base, a, Pair);
      const loaded = { pair: { x: pair.x, y: String(pair.y) }, x: mem.load(a.base, a, u32), size: Pair.size };
      const outOfBounds = reportOf(() => mem.store(a.base + Pair.size, a, u32, 1));
      const uninitPadding = reportOf(() => mem.load(a.base + 4, a, u32));
      mem.deallocate(mem.checkDealloc(a.base, a, Pair.size, Pair.align), -1);
      const useAfterFree = reportOf(() => mem.load(a.base, a, u32));
      const doubleFree = reportOf(() => mem.checkDealloc(a.base, a, Pair.size, Pair.align));

      // The race detector as the memory's race hook: "threads" are the detector's, the site a number.
      const det = new RaceDetector();
      const names = (t) => (t === 0 ? "main" : "cpu" + t);
      let thread = 0;
      let site = 0;
      const state = (al) => (al.race ??= det.allocate(al.size, 0, -1, { id: al.id, static: true }));
      const raced = (r, al) => {
        if (r === null) return;
        const d = describeRace(r, { thread: names, alloc: al.id });
        shared.host.report("data-race", d.message, { help: d.help.map((h) => ({ message: h.message })) });
      };
      const races = {
        get active() { return det.active; },
        allocated(al) { al.race = det.allocate(al.size, thread, site, { id: al.id }); },
        freed(al) { if (al.race) raced(det.deallocate(al.race, thread, site), al); },
        read(al, off, size) { raced(det.read(state(al), off, size, thread, site), al); },
        write(al, off, size) { raced(det.write(state(al), off, size, thread, site), al); },
      };
      const shared = new Memory({ races });
      const x = shared.allocate(4, 4, "heap", -1, true);       // before any second thread: no hook call
      const cpu1 = det.spawn(0);
      [thread, site] = [cpu1, 11];
      shared.store(x.base, x, u32, 1);                         // cpu1 writes x
      const z = shared.allocate(4, 4, "heap", 12, true);       // cpu1 allocates z (the hook's "allocated")
      [thread, site] = [0, 13];
      const readRace = reportOf(() => shared.load(x.base, x, u32));   // main reads x: unordered
      const writeRace = reportOf(() => shared.store(z.base, z, u32, 5)); // main writes z: unordered
      det.terminate(cpu1);
      det.join(0, cpu1);                                       // main joins cpu1: now ordered
      const afterJoin = { x: shared.load(x.base, x, u32), active: det.active };

      const sameLayouts = rt.u32 === u32 && rt.struct === struct;
      console.log(JSON.stringify({ sameLayouts, loaded, outOfBounds, uninitPadding, useAfterFree, doubleFree, x: x.id, z: z.id, readRace, writeRace, afterJoin }));
    `);
    const ubHelp = [
      "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior",
      "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information",
    ];
    expect(out.sameLayouts).toBe(true);
    // What was stored is loaded back, as a struct and as its first field.
    expect(out.loaded).toEqual({ pair: { x: 8, y: String(2n ** 40n) }, x: 8, size: 16 });
    expect(out.outOfBounds).toEqual({
      kind: "out-of-bounds",
      message: "memory access failed: attempting to access 4 bytes, but got alloc1+0x10 which is at or beyond the end of the allocation of size 16 bytes",
      help: [...ubHelp, "alloc1 was allocated here:"],
    });
    expect(out.uninitPadding).toMatchObject({ kind: "uninit", message: expect.stringContaining("alloc1[0x4..0x8], but memory is uninitialized") });
    expect(out.useAfterFree).toEqual({
      kind: "use-after-free",
      message: "memory access failed: alloc1 has been freed, so this pointer is dangling",
      help: [...ubHelp, "alloc1 was allocated here:", "alloc1 was deallocated here:"],
    });
    expect(out.doubleFree).toMatchObject({ kind: "double-free" });
    // Through the race hook: an unordered read of cpu1's write, and an unordered write to memory
    // cpu1 allocated while two threads ran (the hook's `allocated`), are data races …
    expect([out.x, out.z]).toEqual([1, 2]);
    expect(out.readRace).toEqual({
      kind: "data-race",
      message: "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `main` at alloc1[0x0]",
      help: ["and (1) occurred earlier here", ...ubHelp],
    });
    expect(out.writeRace).toMatchObject({
      kind: "data-race",
      message: "Data race detected between (1) creating a new allocation on thread `cpu1` and (2) non-atomic write on thread `main` at alloc2[0x0]",
    });
    // … and once main has joined cpu1 the same read is ordered: it loads cpu1's value, and the detector goes quiet.
    expect(out.afterJoin).toEqual({ x: 1, active: false });
  });
});

describe("the packed .d.ts files type-check without the DOM library", () => {
  const packedDeclarations = (files: string[]) => files.filter((f) => f.includes("/node_modules/kmiri/dist/"));
  const noDom = (files: string[]) => files.filter((f) => /lib\.dom\b/i.test(f));

  test("kmiri/rt, kmiri/concurrency and kmiri/borrowtracker with no ambient types at all (types: [])", () => {
    const { r, files } = typeCheck("check-engine-free", [], `
      import { spawn, type JoinHandle } from "kmiri/rt";
      import { RaceDetector, describeRace, LockOrderChecker, PctPolicy, RecordingPolicy, Xoshiro128, deriveSeed, type DataRace } from "kmiri/concurrency";
      import { StackedBorrows, isFinding, type Finding } from "kmiri/borrowtracker";

      const start: () => JoinHandle<number> = () => spawn(() => 1);
      const d = new RaceDetector();
      const x = d.allocate(4, 0, 1);
      const t = d.spawn(0);
      d.write(x, 0, 4, t, 2);
      const race: DataRace | null = d.read(x, 0, 4, 0, 3);
      const message: string | undefined = race ? describeRace(race, { thread: String }).message : undefined;
      const lo = new LockOrderChecker();
      lo.acquire(0, 0x100, lo.classFor("a"), 4);
      const policy = new RecordingPolicy(new PctPolicy(new Xoshiro128(deriveSeed(1, "schedule")), { depth: 2, steps: 10 }));
      const replay: string = policy.replayString(1);

      const sb = new StackedBorrows();
      const root = sb.newAllocation(1, 4, "heap", 5);
      const tag = sb.retag(1, root, 0, 4, "unique", 6);
      const finding: Finding | null = isFinding(tag) ? tag : sb.access(1, tag, 0, 4, "read", 7);
      export const used = [start, message, replay, finding];
    `);
    expect(r.status, failure("tsc", r)).toBe(0);
    expect(packedDeclarations(files)).toEqual(expect.arrayContaining([expect.stringMatching(/\/dist\/concurrency\/index\.d\.ts$/), expect.stringMatching(/\/dist\/borrowtracker\/index\.d\.ts$/)]));
    expect(noDom(files)).toEqual([]);
  });

  test("kmiri and every entry point with no ambient types at all (types: [])", () => {
    // The package's declarations name no global of Node or the DOM (the driver's signal is an
    // AbortSignalLike, the program's console a ProgramConsole).
    const { r, files } = typeCheck("check-all", [], `
      import * as kmiri from "kmiri";
      import * as rt from "kmiri/rt";
      import * as concurrency from "kmiri/concurrency";
      import * as borrowtracker from "kmiri/borrowtracker";
      import { runFile, createMachine, Memory, StackedBorrows } from "kmiri";
      export const used = [kmiri, rt, concurrency, borrowtracker, runFile, createMachine, Memory, StackedBorrows];
    `);
    expect(r.status, failure("tsc", r)).toBe(0);
    expect(packedDeclarations(files)).toEqual(expect.arrayContaining([expect.stringMatching(/\/dist\/index\.d\.ts$/), expect.stringMatching(/\/dist\/shims\/rt\.d\.ts$/)]));
    expect(noDom(files)).toEqual([]);
  });
});
