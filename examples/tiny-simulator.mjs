// A tiny multi-CPU simulator that uses kmiri's memory model and race detector as a library, as
// another simulator project would: its own toy ISA, its own CPUs and its own scheduler — no
// kmiri Machine. Run with `node examples/tiny-simulator.mjs [--json] [--seed N]` after
// `npm install` (or `npm run build`); the test is test/examples/tiny-simulator.test.ts.
//
// The seam (src/interp/memory/seam.ts) is three small objects handed to `new Memory(...)`:
//   host  — who is acting (the current CPU), where (its PC: the *site*), and `report`, which
//           turns a finding into this simulator's own error (GuestFault) carrying the guest PC;
//   races — a RaceHook (active/allocated/freed/read/write/atomic) adapting kmiri/concurrency's
//           RaceDetector: thread id = CPU number, site = guest PC;
//   guest memory — every guest access goes through the Memory with the allocation as provenance,
//           so kmiri checks liveness, bounds, alignment and initialisation: a plain one is
//           `memory.load` / `memory.store`, an atomic one `memory.atomicLoad` / `atomicStore` /
//           `atomicRmw` (and `compareExchange`) with its ordering, which the memory passes on to
//           the RaceHook's `atomic`.
import { pathToFileURL } from "node:url";
import { Memory, layouts } from "kmiri";
import { RaceDetector, describeRace } from "kmiri/concurrency";

// A guest word: kmiri's `u32` layout (size 4, align 4) for plain accesses, and `AtomicU32` (the
// same bytes, as Rust's `AtomicU32` has) for atomic ones — the memory is untyped, so a plain and
// an atomic access may meet at one address, and it is the race detector that judges them.
const { u32, AtomicU32 } = layouts;

// ── The toy ISA ──────────────────────────────────────────────────────────────────────────────
// Eight 32-bit registers r0..r7 per CPU. Like a Miri (or CHERI) pointer, a register remembers the
// allocation an address came from — its provenance — and a load or store passes it to kmiri.
//   li rd, imm|symbol     rd = imm, or the address of a boot-time data symbol (with its provenance)
//   addi rd, rs, imm      rd = rs + imm (keeps the provenance: pointer arithmetic, unchecked)
//   ld rd, [rs+off]       plain 32-bit load         st rs, [rd+off]   plain 32-bit store
//   ld.acq / ld.rlx       atomic load (Acquire / Relaxed)
//   st.rel / st.rlx       atomic store (Release / Relaxed)
//   amoadd rd, [rs], imm  atomic fetch-add (Relaxed: atomic, but orders nothing): rd = old value
//   beqz / bnez rs, label branch if rs is zero / non-zero
//   alloc rd, size        rd = a fresh zeroed heap block     free rs   frees the block at rs
//   halt
/** The ordering of each atomic mnemonic, in Rust's words (what `memory.atomic*` takes). */
const ORDERING = {
  "ld.acq": "Acquire",
  "ld.rlx": "Relaxed",
  "st.rel": "Release",
  "st.rlx": "Relaxed",
  amoadd: "Relaxed",
};

/** Assembles `source`: one instruction per line, `label:` prefixes, `;` comments. PC = index. */
function assemble(source) {
  const code = [];
  const labels = {};
  source.split("\n").forEach((text, i) => {
    let rest = text.replace(/;.*/, "").trim();
    const label = /^(\w+):\s*/.exec(rest);
    if (label) [labels[label[1]], rest] = [code.length, rest.slice(label[0].length)];
    if (rest === "") return;
    const [op, ...args] = rest.split(/[\s,[\]+]+/).filter(Boolean);
    code.push({ op, args, line: i + 1 });
  });
  return { code, labels };
}

/** The simulator's own error: a finding of kmiri's, with where the guest was. */
export class GuestFault extends Error {
  constructor(finding) {
    super(`${finding.kind} on ${finding.cpu} at pc ${finding.pc}: ${finding.message}`);
    this.finding = finding;
  }
}

// ── The race detector behind the memory's RaceHook ──────────────────────────────────────────
/**
 * kmiri's Memory calls this hook for every access that passed its own checks (and only while
 * `active`: more than one CPU runs): `read`/`write` for a plain `load`/`store`, `atomic` for an
 * atomic one. The adapter asks the RaceDetector, as the current CPU at its PC.
 */
class RaceAdapter {
  constructor(sim) {
    this.sim = sim;
    this.detector = new RaceDetector(); // CPU0 is the detector's thread 0
  }
  get active() {
    return this.detector.active;
  }
  /** Race state of memory allocated before the CPUs started: it happens before all of them. */
  state(a) {
    return (a.race ??= this.detector.allocate(a.size, 0, -1, { id: a.id, static: true }));
  }
  allocated(a) {
    a.race = this.detector.allocate(a.size, this.sim.cpu.id, this.sim.cpu.pc, { id: a.id });
  }
  freed(a) {
    if (a.race) this.check(this.detector.deallocate(a.race, this.sim.cpu.id, this.sim.cpu.pc), a);
  }
  /** A plain read (`memory.load`). */
  read(a, off, size) {
    this.check(this.detector.read(this.state(a), off, size, this.sim.cpu.id, this.sim.cpu.pc), a);
  }
  /** A plain write (`memory.store`). */
  write(a, off, size) {
    this.check(this.detector.write(this.state(a), off, size, this.sim.cpu.id, this.sim.cpu.pc), a);
  }
  /**
   * An atomic access (`memory.atomicLoad` / `atomicStore` / `atomicRmw` / `compareExchange`) of
   * `kind` "load", "store" or "rmw" with Rust's `ordering`: the detector's atomic operation, which
   * does not race with other atomics of its size and, through the ordering, makes happens-before
   * edges (a release store, an acquire load). One call per access — a read-modify-write is one
   * "rmw", not a read and a write — and a compare-exchange arrives as what it did: an "rmw" with
   * its success ordering, or a "load" with its failure ordering. Without this method, the memory
   * would call `read`/`write` instead, and atomics would race like plain accesses.
   */
  atomic(a, off, size, kind, ordering) {
    const [d, s, t, pc] = [this.detector, this.state(a), this.sim.cpu.id, this.sim.cpu.pc];
    this.check(
      kind === "load" ? d.atomicLoad(s, off, size, ordering, t, pc)
        : kind === "store" ? d.atomicStore(s, off, size, ordering, t, pc)
          : d.atomicRmw(s, off, size, ordering, t, pc),
      a,
    );
  }
  /** A race becomes a report in Miri's words; the earlier access's PC goes in a help line. */
  check(race, a) {
    if (race === null) return;
    const d = describeRace(race, { thread: (t) => `cpu${t}`, alloc: a.id });
    const help = d.help.map((h) => ({ message: h.message, location: h.site === undefined ? undefined : this.sim.siteLocation(h.site) }));
    this.sim.host.report("data-race", d.message, { title: d.title, label: d.label, help });
  }
}

// ── The simulator ───────────────────────────────────────────────────────────────────────────
/**
 * Runs `program` ({ name, source, entries: [label per CPU], data: { symbol: bytes } }) until
 * every CPU halts or kmiri reports. A seeded random scheduler picks the CPU that runs the next
 * instruction. Returns { findings, steps, registers } (findings: kmiri's first report, if any).
 */
export function runProgram(program, { seed = 1, maxSteps = 10_000 } = {}) {
  const { code, labels } = assemble(program.source);
  const sim = {
    cpu: null,
    siteLocation: (pc) => ({ file: `${program.name}.s`, line: code[pc]?.line ?? 0, column: 1 }),
  };
  sim.host = {
    currentSite: () => sim.cpu.pc,
    siteLocation: sim.siteLocation,
    actor: () => ({ kind: "thread", id: sim.cpu.id, name: `cpu${sim.cpu.id}` }),
    report(kind, message, options = {}) {
      const where = (loc) => ({ at: `${loc.file}:${loc.line}`, pc: code.findIndex((c) => c.line === loc.line) });
      const help = (options.help ?? []).filter((h) => h.location).map((h) => ({ message: h.message, ...where(h.location) }));
      throw new GuestFault({ kind, message, cpu: `cpu${sim.cpu.id}`, ...where(sim.siteLocation(sim.cpu.pc)), help });
    },
  };
  const races = new RaceAdapter(sim);
  const memory = new Memory({ host: sim.host, races });

  // Boot: the loader allocates the data symbols (zeroed) while only CPU0 exists, then starts the
  // other CPUs — a spawn edge each, so the boot writes happen before everything they do.
  const symbols = {};
  for (const [name, bytes] of Object.entries(program.data ?? {})) symbols[name] = memory.allocate(bytes, 4, "heap", -1, true);
  const cpus = program.entries.map((entry, id) => ({ id, pc: labels[entry], halted: false, regs: Array.from({ length: 8 }, () => ({ v: 0, p: null })) }));
  for (const cpu of cpus.slice(1)) races.detector.spawn(0, cpu.id);

  let rng = seed >>> 0; // the scheduler's own PRNG (a 32-bit LCG), so a seed decides the schedule
  const random = () => (rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0) / 2 ** 32;

  let steps = 0;
  const findings = [];
  try {
    for (let running = cpus; (running = cpus.filter((c) => !c.halted)).length > 0; steps++) {
      if (steps === maxSteps) throw new Error(`${program.name}: no halt after ${maxSteps} steps`);
      sim.cpu = running[Math.floor(random() * running.length)];
      step(sim.cpu);
    }
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    findings.push(e.finding);
  }
  return { findings, steps, registers: cpus.map((c) => c.regs.map((r) => r.v)) };

  /** Executes one instruction of `cpu`. */
  function step(cpu) {
    const { op, args } = code[cpu.pc];
    const r = (i) => cpu.regs[Number(args[i].slice(1))];
    const imm = (i) => Number(args[i] ?? 0);
    const set = (i, v, p = null) => (cpu.regs[Number(args[i].slice(1))] = { v: v >>> 0, p });
    let next = cpu.pc + 1;
    switch (op) {
      case "li": {
        const sym = symbols[args[1]];
        set(0, sym ? sym.base : imm(1), sym ?? null);
        break;
      }
      case "addi": set(0, r(1).v + imm(2), r(1).p); break;
      // Plain accesses: the race hook's `read` / `write`.
      case "ld":
        set(0, memory.load(r(1).v + imm(2), r(1).p, u32));
        break;
      case "st":
        memory.store(r(1).v + imm(2), r(1).p, u32, r(0).v);
        break;
      // Atomic accesses: the same checks as a plain access (live, in bounds, aligned,
      // initialised), then the race hook's `atomic` with the instruction's ordering.
      case "ld.acq": case "ld.rlx":
        set(0, memory.atomicLoad(r(1).v + imm(2), r(1).p, AtomicU32, ORDERING[op]));
        break;
      case "st.rel": case "st.rlx":
        memory.atomicStore(r(1).v + imm(2), r(1).p, AtomicU32, r(0).v, ORDERING[op]);
        break;
      case "amoadd": // one indivisible access: stores old + imm, returns old (`fetch_add`)
        set(0, memory.atomicRmw(r(1).v, r(1).p, AtomicU32, (old) => (old + imm(2)) >>> 0, ORDERING[op]));
        break;
      case "beqz": if (r(0).v === 0) next = labels[args[1]]; break;
      case "bnez": if (r(0).v !== 0) next = labels[args[1]]; break;
      case "alloc": {
        const block = memory.allocate(imm(1), 4, "heap", cpu.pc, true);
        set(0, block.base, block);
        break;
      }
      case "free": {
        // kmiri checks it is a live heap block's base (double-free, bad-dealloc …), then frees it.
        const { v, p } = r(0);
        memory.deallocate(memory.checkDealloc(v, p, p?.size ?? 0, p?.align ?? 4), cpu.pc);
        break;
      }
      case "halt":
        cpu.halted = true;
        races.detector.terminate(cpu.id);
        return;
      default:
        throw new Error(`${program.name}.s:${code[cpu.pc].line}: unknown instruction ${op}`);
    }
    cpu.pc = next;
  }
}

// ── The guest programs ──────────────────────────────────────────────────────────────────────
export const PROGRAMS = {
  clean: {
    name: "clean", entries: ["cpu0", "cpu1"], data: { counter: 4, done: 4 },
    about: "both CPUs fetch-add a counter; cpu0 waits for cpu1's release store, then reads it",
    source: `
cpu0:   li     r1, counter
        amoadd r2, [r1], 1
        li     r3, done
wait:   ld.acq r4, [r3]        ; pairs with cpu1's release store of 1 ...
        beqz   r4, wait
        ld     r5, [r1]        ; ... so this plain read comes after cpu1's amoadd
        halt
cpu1:   li     r1, counter
        amoadd r2, [r1], 1
        li     r3, done
        li     r4, 1
        st.rel r4, [r3]        ; with st.rlx, cpu0's plain read would race
        halt`,
  },
  racy: {
    name: "racy", entries: ["inc", "inc"], data: { counter: 4 },
    about: "both CPUs increment the counter with a plain load, add and store",
    source: `
inc:    li   r1, counter
        ld   r2, [r1]
        addi r2, r2, 1
        st   r2, [r1]
        halt`,
  },
  "use-after-free": {
    name: "use-after-free", entries: ["cpu0", "cpu1"],
    about: "cpu0 frees a buffer, then reads it through the stale pointer",
    source: `
cpu0:   alloc r1, 16
        li    r2, 42
        st    r2, [r1+8]
        free  r1
        ld    r3, [r1+8]       ; r1 still points at the freed block
        halt
cpu1:   halt`,
  },
  "out-of-bounds": {
    name: "out-of-bounds", entries: ["cpu0", "cpu1"],
    about: "an off-by-one loop stores five words into a four-word block",
    source: `
cpu0:   alloc r1, 16           ; room for 4 words ...
        li    r2, 5            ; ... but the loop stores 5
loop:   st    r2, [r1]
        addi  r1, r1, 4
        addi  r2, r2, -1
        bnez  r2, loop
        halt
cpu1:   halt`,
  },
};

/** One finding as a line (plus its help lines that point at guest code). */
export function formatFinding(f) {
  return [`${f.kind} on ${f.cpu} at pc ${f.pc} (${f.at}): ${f.message}`, ...f.help.map((h) => `    ${h.message.replace(/:$/, "")}: ${h.at} (pc ${h.pc})`)].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seedAt = process.argv.indexOf("--seed");
  const seed = seedAt > 0 ? Number(process.argv[seedAt + 1]) : 1;
  const results = Object.entries(PROGRAMS).map(([name, program]) => ({ name, ...runProgram(program, { seed }) }));
  if (process.argv.includes("--json")) console.log(JSON.stringify(results, null, 2));
  else {
    for (const { name, findings, steps, registers } of results) {
      console.log(`== ${name}: ${PROGRAMS[name].about} (${steps} steps, seed ${seed})`);
      if (findings.length === 0) console.log(`no findings; cpu0's r5 = ${registers[0][5]}`);
      for (const f of findings) console.log(formatFinding(f));
    }
  }
}
