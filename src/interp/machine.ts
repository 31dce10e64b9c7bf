/**
 * The Machine: one run of a compiled program, with one seed.
 *
 * It owns the threads (each a generator of the compiled code plus a stack of call-site ids), the
 * memory, the coverage counters, and the first finding, which stops the run. Compiled code reads
 * and writes its hot fields directly (`s`, `sp`, `b`, `lb`, `u`, `stopped`: see
 * compile/instrument.ts). Its parts by role:
 *
 * - here: module instantiation, the run, spawning, the context switch ({@link Machine.enter}),
 *   stops (findings, panics, exceptions: {@link Machine.settle}), reports, the compiled code's
 *   entry points and the {@link ShimHost} surface;
 * - src/interp/scheduler-loop.ts: the scheduler loop, blocking, spinning and progress, deadlock
 *   detection, and the actors' steps ({@link Machine.scheduler});
 * - src/interp/actors.ts: actors, what runs besides threads (devices, interrupt sources);
 * - src/interp/end-checks.ts: the reports of the end of a run (deadlock, thread, actor and memory
 *   leaks).
 */
import { getHeapStatistics } from "node:v8";
import { types } from "node:util";
import vm from "node:vm";
import type { CompiledProgram, ProgramModule } from "./compile/index.js";
import { FRAME_MARK, SITE_MASK } from "./compile/index.js";
import type { Frame, PanicInfo, ReportOptions, SourceLocation, UBKind, UBReport } from "./report.js";
import { MachineStop, PanicStop, UBStop, UB_HELP } from "./report.js";
import { isCheckedRuntime, type CheckOptions, type GuestRuntime, type ShimHost } from "./shim-host.js";
import type { BorrowTracker } from "../borrowtracker/hooks.js";
import { MachineBorrows, type BorrowModel } from "./borrows.js";
import type { Allocation } from "./memory/allocation.js";
import { STACK_LIMIT, Thread, saveStack, startGenerator } from "./thread.js";
import { MirchMachine, checkMirchOptions, type MirchOptions } from "./mirch/mirch-machine.js";
import type { InterruptController } from "./mirch/interrupts.js";
import { KERNEL_CODE_BASE } from "../mirch/constants.js";
import { evaluateModule, type Namespace } from "./link.js";
import {
  describeError,
  describeThrown,
  isInstance,
  isStackOverflowError,
  programLocationOfError,
  raisedByKmiri,
  stackOf,
} from "./error-location.js";
import { Memory } from "./memory/memory.js";
import type { Party } from "./memory/seam.js";
import {
  PctPolicy,
  RandomPreemption,
  RecordingPolicy,
  type PolicyDescription,
  ReplayPolicy,
  Xoshiro128,
  deriveSeed,
  type SchedulingPolicy,
} from "../concurrency/scheduler.js";
import { RaceDetector } from "../concurrency/data-race.js";
import { LockAnnotations } from "./lock-annotations.js";
import { MachineRaces, StackInterner } from "./races.js";
import { syncHooks } from "./runtime-kit.js";
import { Scheduler } from "./scheduler-loop.js";
import { describeActor, type Actor } from "./actors.js";
import { actorLeakReports, memoryLeakReports, threadLeakReport } from "./end-checks.js";
import { makeProgramConsole, type ProgramConsole } from "./program-console.js";
import { guestRealm } from "./guest-realm.js";

/** Options of one run. */
export interface MachineConfig {
  /** Seeds every choice of the run (default 0). */
  seed?: number;
  /**
   * Probability that a scheduling point (an atomic, spawn, join, output, …) hands the CPU to a
   * thread chosen at random (default 0.1). 0: a thread runs until it blocks or ends.
   */
  preemptionRate?: number;
  /**
   * Schedule with PCT instead of random preemption: bug depth `depth` (≥ 1), change points drawn
   * over `steps` steps (see {@link PctPolicy}). `preemptionRate` is then ignored.
   */
  pct?: { depth: number; steps: number };
  /**
   * Replay a schedule: a replay string of an earlier run ({@link Machine.schedule}). Its seed
   * replaces `seed`; `preemptionRate` and `pct` are ignored. A string that does not fit the
   * program stops the run with an `unsupported` report naming the divergence.
   * @throws SyntaxError (from the constructor) when it is not a replay string.
   */
  replay?: string;
  /**
   * Loop iterations (over all threads) the run may make: the one after them stops it with
   * `resource-exhaustion` (default 500 million). Counted exactly.
   */
  maxSteps?: number;
  /**
   * Milliseconds of wall-clock time the run may take (default: no limit), measured from
   * {@link Machine.run}. Checked at loop iterations (every {@link LOOP_CHUNK}, and at the end of
   * a short chunk) and at scheduling decisions; past it, the run stops with `resource-exhaustion`
   * where the program is. Code that reaches neither (a catastrophic regular expression, a
   * deep recursion without loops) is not stopped.
   */
  timeoutMs?: number;
  /**
   * Threads the program may spawn over the run, `main` not counted (default
   * {@link DEFAULT_MAX_THREADS}, at most {@link MAX_THREADS_LIMIT}); the `spawn` of one more is
   * `resource-exhaustion`. Thread ids are never reused, so threads that ended count too.
   * @throws RangeError (from the constructor) when it is not an integer from 0 to {@link MAX_THREADS_LIMIT}.
   */
  maxThreads?: number;
  /** Bytes of memory the program may have live at once (default 1 GiB). */
  memoryLimit?: number;
  /** Do not report memory leaks at the end. */
  ignoreLeaks?: boolean;
  /**
   * Mirch's options (CPUs, RAM, hostile devices, devices attached at boot). Mirch boots when the
   * program imports `kmiri/mirch`, or whenever this is given.
   */
  mirch?: MirchOptions;
  /**
   * Bytes of the host's JavaScript heap in use at which a looping program is stopped with
   * `resource-exhaustion` (default: 70% of the heap limit), so that a program's own arrays cannot
   * take the host process down.
   */
  hostHeapLimit?: number;
  /** Receives each line the program prints. */
  onOutput?: (line: string) => void;
  /** Reject integer-to-pointer casts (`ptr_from_exposed`) as unsupported, like `-Zmiri-strict-provenance`. */
  strictProvenance?: boolean;
  /**
   * `false`: no data-race detection (the detector never becomes active; unsound, like Miri's
   * `-Zmiri-disable-data-race-detector`), to measure its cost. Default `true`.
   */
  dataRaceDetector?: boolean;
  /**
   * `false`: no weak-memory emulation — every atomic load reads the latest store (Miri's
   * `-Zmiri-disable-weak-memory-emulation`; CLI `--no-weak-memory`). Default `true`: while several
   * threads exist, atomic stores go into per-location store buffers and a load may read an older
   * store the memory model allows (src/concurrency/weak-memory.ts), drawn from the seed's stream
   * `deriveSeed(seed, "weak_memory")`. Off whenever `dataRaceDetector` is `false`, as in Miri.
   */
  weakMemory?: boolean;
  /** The aliasing model: `stacked` (Stacked Borrows, the default) or `none` (`--borrow-model none`). */
  borrowModel?: BorrowModel;
  /** Borrow tags whose creation and removal are printed as notes (`--track-tag N`). */
  trackTags?: readonly number[];
  /**
   * Keep Stacked Borrows' history for the help lines of its findings (default true). kmiri's driver
   * runs without it and repeats a run that found a violation with it (runs are deterministic).
   */
  borrowHistory?: boolean;
  /**
   * Minimum number of tag creations between two tag GCs (default 10,000; 0 turns the GC off).
   * The GC never changes a verdict (see src/interp/borrows.ts).
   */
  tagGc?: number;
}


/** Share of the host's JavaScript heap the program may fill before it is stopped. */
const HEAP_SHARE = 0.7;
/** Loop iterations between two step-limit checks (fewer just before the limit: it is exact). */
const LOOP_CHUNK = 1 << 16;
/**
 * A floor of the host heap (bytes) kmiri spends on the record of one live allocation besides its
 * bytes (the allocation, its storage view, stored pointers, borrow stacks: about 770 bytes for a
 * list node holding a pointer): the host-heap report uses it to tell whether kmiri memory or the
 * program's own JavaScript values fill the heap.
 */
const HOST_BYTES_PER_ALLOCATION = 256;

/**
 * Default of {@link MachineConfig.maxThreads}: far above what a kernel test spawns (one thread
 * per CPU, a few dozen), low enough that a program spawning in a loop is stopped before the race
 * detector's vector clocks (one entry per thread ever spawned, in every thread's clock: memory
 * quadratic in the count) take seconds and hundreds of MiB.
 */
export const DEFAULT_MAX_THREADS = 1000;
/** The most threads a run can have: the race detector packs a thread id in 16 bits (`main` is 0). */
export const MAX_THREADS_LIMIT = (1 << 16) - 1;

/** Lines of program output a run keeps ({@link Machine.output}): the first half and the last half. */
export const MAX_KEPT_LINES = 10_000;
/** Warnings and notes a run keeps ({@link Machine.warnings}); a final note counts the rest. */
export const MAX_KEPT_WARNINGS = 1_000;

/** The title of a report of kmiri's own failure (the CLI exits with status 2 on one). */
export const INTERNAL_ERROR_TITLE = "internal error in kmiri";

/**
 * Report kinds about the schedule: each carries the note `replay this schedule with
 * \`--replay STRING\``, added when the run ends ({@link Machine.allFindings}).
 */
export const CONCURRENCY_KINDS: ReadonlySet<UBKind> = new Set<UBKind>(["deadlock", "data-race", "lock-order"]);

export class Machine implements ShimHost {
  // ── hot fields read by compiled code ──
  /** The running thread's call-site stack. */
  s: Int32Array;
  /** Its depth. */
  sp = 0;
  /** Scheduling points left before the running thread is preempted. */
  b = Infinity;
  /** Loop iterations left before the next step-limit check ({@link loopTick}). */
  lb = LOOP_CHUNK;
  /** Per site id: 1 inside an unsafe region (the compiled `"unsafe"` function prologue reads it). */
  readonly u: Uint8Array;
  /** The first finding (or the panic) that stopped the run; compiled `finally` blocks check it. */
  stopped: MachineStop | null = null;

  readonly memory: Memory;
  readonly rng: Xoshiro128;
  readonly seed: number;
  /** The program's output, as kept: see {@link output}. */
  private readonly outputLog = new KeptLines();
  readonly threads: Thread[] = [];
  /**
   * Coverage: per module, how often each coverage point (statement) ran and each unsafe region
   * was entered (the compiled `$C[k]++`, `$U[k]++`). Float64Array: exact to 2^53, never wraps.
   */
  readonly lineHits: Float64Array[];
  readonly unsafeHits: Float64Array[];
  /** Findings; one normally, one per stuck thread for a deadlock, one per leak. */
  readonly findings: UBReport[] = [];
  /**
   * Warnings: non-halting diagnostics, in the order they were raised. The first
   * {@link MAX_KEPT_WARNINGS} are kept; then one note (updated when the run ends) counts the rest.
   */
  readonly warnings: UBReport[] = [];
  private readonly warned = new Set<string>();
  /** Warnings and notes not kept (past {@link MAX_KEPT_WARNINGS}), and the note that counts them. */
  private droppedWarnings = 0;
  private droppedNote: UBReport | null = null;
  readonly checks: CheckOptions;
  /** The borrow tracker (Stacked Borrows), or null when borrows are not tracked. */
  borrowTracker: BorrowTracker | null = null;
  /** Finds and retags references passed to and returned from program functions (installed with the tracker by the checked runtime). */
  refs: Pick<GuestRuntime<Machine>, "findReferences" | "retagFound"> | null = null;
  /** The call token the last {@link fa} left (compiled code reads it right after the call). */
  ft = 0;
  /** The runtime's pointer class (the compiled code's `$P`): it does not call {@link fa} for a pointer argument. */
  readonly P: abstract new (...args: never[]) => object;
  /** Panics of threads other than the one that ended the run. */
  readonly threadPanics: PanicInfo[] = [];
  /**
   * Loop iterations counted so far, over all threads. Exact when the run has ended (the Machine
   * adds the iterations of the current chunk, {@link lb}, then); during it, a multiple of chunks.
   */
  steps = 0;
  switches = 0;
  /** Registered by `ktest` while modules are instantiated. */
  readonly tests: { name: string; body: () => unknown; shouldPanic: boolean; expected?: string; module: string }[] = [];

  /**
   * Who runs next and for how long: random preemption, PCT or a replay, wrapped in a recorder
   * (the run's replay string, {@link schedule}). It draws from its own stream,
   * `deriveSeed(seed, "schedule")`, so that a replay, which draws nothing, leaves the program's
   * `Math.random` (the stream `rng`) as it was.
   */
  readonly policy: RecordingPolicy;
  /**
   * The data-race detector (vector clocks), for inspection: the Machine and the runtime reach it
   * through {@link dataRaces}, which keeps the access path's flag in step with it.
   * Thread ids are the Machine's: `main` 0, spawned threads in creation order.
   */
  readonly races = new RaceDetector();
  /** Interned call stacks: the sites the race detector and lockdep record (a report shows their backtraces). */
  readonly stacks = new StackInterner();
  /** lockdep state of `lock_acquired` / `lock_released`. */
  readonly locks = new LockAnnotations();
  /**
   * The race detector as the memory's race hook and the checked runtime's entry to it (atomics,
   * fences, retags): src/interp/races.ts.
   */
  readonly dataRaces: MachineRaces = new MachineRaces(this, this.races, this.stacks);
  /**
   * The scheduler loop (src/interp/scheduler-loop.ts): decisions, blocking, spinning, progress,
   * deadlock detection, and the actors ({@link addActor}).
   */
  readonly scheduler: Scheduler = new Scheduler(this);
  /** The stream of spurious `compare_exchange_weak` failures (`deriveSeed(seed, "compare_exchange_weak")`), made on first use. */
  weakCasRng: Xoshiro128 | null = null;
  /** Mirch, when the program runs on it (imports `kmiri/mirch`, or Mirch options were given). */
  readonly mirch: MirchMachine | null = null;
  /** Interrupt delivery at preemption points (Mirch's), or `null`. */
  readonly irq: InterruptController | null = null;
  /** The PCT policy, when scheduling with PCT (its `steps` estimate the next run's). */
  readonly pct: PctPolicy | null = null;
  private readonly replay: ReplayPolicy | null = null;
  /**
   * Whether the main thread yields to the others when `main` returns ({@link yieldsAtShutdown}):
   * fixed by the policy, or `null` for a replay of an explicit (decision by decision) string,
   * which yields when its recorded run did.
   */
  private readonly shutdownYields: boolean | null;

  private running: Thread;
  /**
   * The running thread's stack of call sites (`s` while a thread runs): one buffer of
   * {@link STACK_LIMIT} entries for all threads; a thread that is switched out saves its entries
   * ({@link Thread.stack}, {@link enter}).
   */
  private readonly stackBuffer = new Int32Array(STACK_LIMIT);
  private readonly maxSteps: number;
  private readonly maxThreads: number;
  /** The value {@link lb} started the current chunk of loop iterations with. */
  private chunk: number;
  /** `performance.now()` after which the run stops (Infinity: no time limit). */
  private deadline = Infinity;
  /** The host heap in use when the run started (bytes): the report of a full heap says what the run added. */
  private heapAtStart = 0;
  private readonly namespaces = new Map<string, Namespace>();
  private readonly throwSites = new WeakMap<object, { site: number; backtrace: Frame[] }>();
  private lastPrimitiveThrow: { value: unknown; site: number; backtrace: Frame[] } | null = null;
  private nextThreadId = 1;
  /** The module being instantiated (for ktest's module name). */
  instantiating: ProgramModule | null = null;
  /** `console` for the program: each call prints a line of program output (and is a scheduling point). */
  readonly console: ProgramConsole;
  /** `Math` for the program, with `random()` drawn from the run's seed (determinism). */
  readonly math: Math;

  /**
   * @param runtime the checked runtime the program's guest API imports resolve to: use
   *   `createMachine`, which wires in kmiri's (`checkedRuntime`). Anything else — the native
   *   `kmiri/rt` namespace above all — is refused, since it would run the program unchecked.
   * @throws TypeError when `runtime` is not a checked runtime.
   */
  constructor(
    readonly program: CompiledProgram,
    private readonly runtime: GuestRuntime<Machine>,
    readonly config: MachineConfig = {},
  ) {
    if (!isCheckedRuntime(runtime)) {
      throw new TypeError(
        "kmiri: a Machine needs the checked runtime (`checkedRuntime`), not a module namespace: the native `kmiri/rt` " +
          "would run the program without any check. Use `createMachine(options)`, which wires it in.",
      );
    }
    // What the program may reach of the runtime belongs to its realm, and no global an earlier
    // run added is left (guest-realm.ts).
    const realm = guestRealm();
    for (const ns of Object.values(runtime.modules)) realm.admit(ns);
    realm.resetGlobals();
    if (config.replay !== undefined) this.replay = new ReplayPolicy(config.replay);
    this.seed = this.replay ? this.replay.seed : config.seed ?? 0;
    this.checks = { strictProvenance: config.strictProvenance ?? false };
    this.rng = new Xoshiro128(this.seed);
    const scheduleRng = new Xoshiro128(deriveSeed(this.seed, "schedule"));
    // The schedule is recorded in O(1) (RecordingPolicy): the seed and the policy's description
    // rebuild it for a replay; a replay of an old-format string records the old way.
    let inner: SchedulingPolicy;
    let described: PolicyDescription | undefined;
    if (this.replay) {
      inner = this.replay;
      described = this.replay.description;
      this.shutdownYields = described === undefined ? null : preempts(described);
    } else if (config.pct) {
      inner = this.pct = new PctPolicy(scheduleRng, config.pct);
      described = { kind: "pct", depth: Math.floor(config.pct.depth), steps: Math.max(1, Math.floor(config.pct.steps)) };
      this.shutdownYields = true;
    } else {
      const rate = config.preemptionRate ?? 0.1;
      inner = new RandomPreemption(scheduleRng, rate);
      described = { kind: "random", rate };
      this.shutdownYields = rate > 0;
    }
    this.policy = new RecordingPolicy(inner, described);
    this.maxSteps = config.maxSteps ?? 500_000_000;
    this.lb = this.chunk = Math.min(LOOP_CHUNK, this.maxSteps);
    this.maxThreads = config.maxThreads ?? DEFAULT_MAX_THREADS;
    if (!Number.isInteger(this.maxThreads) || this.maxThreads < 0 || this.maxThreads > MAX_THREADS_LIMIT) {
      throw new RangeError(`kmiri: maxThreads must be an integer from 0 to ${MAX_THREADS_LIMIT}, got ${config.maxThreads}`);
    }
    // Mirch boots for kernel code (it imports `kmiri/mirch`), or when a simulator attaches devices.
    const onMirch = program.usesMirch || (config.mirch?.devices?.length ?? 0) > 0;
    if (onMirch) checkMirchOptions(config.mirch ?? {});
    this.memory = new Memory({
      limit: config.memoryLimit,
      host: this,
      races: this.dataRaces,
      pointer: runtime.pointer,
      readPointer: runtime.readPointer,
      // Kernel code on Mirch: its `kmiri/rt` allocations are the kernel image's memory (mirch.d.ts).
      start: onMirch ? KERNEL_CODE_BASE : undefined,
    });
    if ((config.borrowModel ?? "stacked") === "stacked") {
      this.borrowTracker = new MachineBorrows(this, { trackTags: config.trackTags, tagGc: config.tagGc, history: config.borrowHistory });
      this.memory.borrows = this.borrowTracker;
      this.refs = runtime;
    }
    this.P = runtime.pointerClass;
    this.u = program.sites.unsafe;
    this.lineHits = program.modules.map((m) => new Float64Array(m.compiled.coverageLines.length));
    this.unsafeHits = program.modules.map((m) => new Float64Array(m.compiled.unsafeLines.length));
    this.running = new Thread(0, "main", () => undefined);
    this.threads.push(this.running);
    this.s = this.stackBuffer;
    this.console = makeProgramConsole(
      (line) => this.print(line),
      () => void this.b--,
    );
    if (onMirch) {
      this.mirch = new MirchMachine(this, config.mirch);
      this.irq = this.mirch.interrupts;
    }
    const rng = this.rng;
    const kit = guestRealm().kit;
    this.math = kit.create(guestRealm().global.Math, { random: { value: kit.bridge(() => rng.next(), "random") } }) as unknown as Math;
  }

  // ── instantiating modules ──────────────────────────────────────────────────────

  /** Evaluates a module (and its imports) on this Machine; returns its namespace. */
  import(key: string): Record<string, unknown> {
    const builtin = this.runtime.modules[key];
    if (builtin) return builtin as Record<string, unknown>;
    const existing = this.namespaces.get(key);
    if (existing) return existing;
    const mod = this.program.byPath.get(key);
    if (!mod) throw new Error(`kmiri internal error: module ${key} was not loaded`);
    const outer = this.instantiating;
    this.instantiating = mod;
    this.runtime.activate(this);
    this.dataRaces.setThread(this.running.id);
    try {
      return evaluateModule(mod, this.namespaces, (k) => this.import(k), {
        runtime: this,
        pointerClass: this.P,
        console: this.console,
        math: this.math,
        lineHits: this.lineHits[mod.index],
        unsafeHits: this.unsafeHits[mod.index],
      });
    } finally {
      this.instantiating = outer;
    }
  }

  // ── running ──────────────────────────────────────────────────────────────────────

  /**
   * Instantiates the entry module and runs `pick(namespace)` as the main thread until it ends
   * (after `main` returns the main thread yields to the others a bounded number of times, as
   * Miri's does — see {@link yieldsAtShutdown}; threads still running then are dropped, as when a
   * Rust `main` returns), then checks for leaks. Findings land in {@link findings}; the panic
   * that ended the run is returned.
   */
  run(entryPath: string, pick: (ns: Record<string, unknown>) => (() => unknown) | string): PanicInfo | undefined {
    const timeout = this.config.timeoutMs;
    if (timeout !== undefined) this.deadline = performance.now() + timeout;
    this.heapAtStart = getHeapStatistics().used_heap_size;
    try {
      if (timeout === undefined) return this.runEntry(entryPath, pick);
      // The loop ticks and scheduling decisions stop the run at its deadline; code that reaches
      // neither (one catastrophic regular expression) is stopped by V8 itself a little later.
      return withWatchdog(timeout + WATCHDOG_GRACE_MS, () => this.runEntry(entryPath, pick));
    } catch (e) {
      if (!isWatchdogTimeout(e)) throw e;
      this.stopped ??= new UBStop(this.timeoutReport());
      return undefined;
    } finally {
      this.closeRun();
    }
  }

  private runEntry(entryPath: string, pick: (ns: Record<string, unknown>) => (() => unknown) | string): PanicInfo | undefined {
    this.runtime.activate(this);
    this.dataRaces.setThread(this.running.id);
    let entry: (() => unknown) | string;
    try {
      entry = pick(this.import(entryPath));
    } catch (e) {
      return this.settle(this.running, e);
    }
    if (typeof entry === "string") {
      this.reportAtEntry(entry);
      return undefined;
    }
    const main = this.running;
    if (main.state === "spinning") main.state = "runnable"; // a spin_loop while modules were instantiated
    main.gen = startGenerator(entry);
    const panic = this.scheduler.run(main);
    // The run is over: nothing can race any more (nor in code that uses a Memory after it).
    this.dataRaces.stop();
    if (this.replay && !this.replay.done) {
      if (!this.stopped) this.replayLeftOver();
      else if (this.replay.description !== undefined && !(this.stopped instanceof PanicStop)) {
        // A compact string is checked at the end only: a run that stopped with a finding after
        // other decisions than the string's is another run, and its finding says nothing.
        this.findings.length = 0;
        this.stopped = null;
        this.replayLeftOver();
      }
    }
    if (!this.stopped && !panic && !this.config.ignoreLeaks) this.checkLeaks();
    return panic;
  }

  /**
   * The end of a run, however it ended: the loop iterations of the current chunk are counted
   * ({@link steps} is exact), and the note counting the warnings not kept gets its number.
   */
  private closeRun(): void {
    this.steps += this.chunk - this.lb;
    this.chunk = this.lb;
    const n = this.droppedWarnings;
    if (this.droppedNote && n > 0) {
      this.droppedNote.message = `${n} more warning${n === 1 ? "" : "s"} and note${n === 1 ? "" : "s"} not kept: kmiri keeps the first ${MAX_KEPT_WARNINGS} of a run`;
    }
  }

  /**
   * The leak checks at the end of `main` (src/interp/end-checks.ts): threads still running stop
   * the run alone; otherwise every actor with work outstanding and every leaked allocation is a
   * finding, the first stopping the run. Actors are not threads: never a thread leak.
   */
  private checkLeaks(): void {
    const threads = threadLeakReport(this);
    if (threads) {
      this.stopped ??= new UBStop(threads);
      return;
    }
    const s = this.scheduler;
    const leaks = s.actors.length ? actorLeakReports(this, s.actors, s.actorSites) : [];
    leaks.push(...memoryLeakReports(this));
    if (leaks.length === 0) return;
    this.findings.push(...leaks);
    this.stopped ??= new UBStop(this.findings[0]);
  }

  /** Creates a thread running `f`; it starts when the scheduler picks it. */
  spawn(f: () => unknown, name?: string): Thread {
    if (this.nextThreadId > this.maxThreads) this.tooManyThreads();
    if (this.mirch !== null && this.nextThreadId >= this.mirch.cpus) this.tooManyCpus(this.mirch.cpus);
    const id = this.nextThreadId++;
    const t = new Thread(id, name ?? `cpu${id}`, f);
    t.spawnSite = this.currentSite();
    t.gen = startGenerator(f);
    this.threads.push(t);
    // Everything the parent did so far happens before the child.
    this.dataRaces.spawn(this.running.id, id);
    if (this.config.dataRaceDetector === false) this.dataRaces.stop(true);
    // Its CPU may be idle in an interrupt handler (Mirch): the thread starts when the handler ends.
    const busy = this.scheduler.interruptThreadOf(id);
    if (busy !== undefined) {
      t.state = "blocked";
      t.blockedAt = t.spawnSite;
      busy.joiners.push(t);
    }
    this.progress();
    return t;
  }

  /**
   * Starts the interrupt thread of idle CPU `cpu` (Mirch: src/interp/mirch/interrupts.ts): a
   * thread the scheduler runs like the program's, with id `cpus + cpu` (no program thread has it),
   * acting for the race detector as `raceId` (the CPU's interrupt context), running `gen`. It is
   * not the program's: not in {@link threads}, never joined, never a thread leak; a deadlock
   * reports it.
   */
  spawnInterruptThread(cpu: number, raceId: number, name: string, gen: Generator<unknown, unknown, unknown>): Thread {
    const t = new Thread(this.mirch!.cpus + cpu, name, () => undefined);
    t.cpu = cpu;
    t.raceId = raceId;
    t.spawnSite = this.currentSite();
    t.gen = gen;
    this.scheduler.addInterruptThread(t);
    return t;
  }

  /** On Mirch each thread is a CPU: one more than the Machine has. */
  private tooManyCpus(cpus: number): never {
    return this.report("unsupported", `the program spawned a thread for CPU ${cpus}, but the Machine has ${cpus} CPU${cpus === 1 ? "" : "s"}: on Mirch each thread is a CPU (main is CPU 0)`, {
      title: "unsupported operation",
      label: "one thread more than the Machine has CPUs",
      help: [{ message: "give the Machine more CPUs with `--cpus N` (library option `mirch: { cpus }`)" }],
    });
  }

  private tooManyThreads(): never {
    const n = this.maxThreads;
    const live = this.threads.reduce((k, t) => k + (t.state === "done" || t.id === 0 ? 0 : 1), 0);
    return this.report("resource-exhaustion", `the program spawned ${n} thread${n === 1 ? "" : "s"}, the limit, and tried to spawn one more`, {
      title: "resource exhaustion",
      label: "resource exhaustion occurred here",
      help: [
        { message: "if the program needs more threads, raise the limit with `--max-threads` (library option `maxThreads`)" },
        {
          message:
            "threads that ended count too: every thread ever spawned has an entry in the race detector's vector clocks, so each one makes the rest of the run slower",
        },
      ],
      notes: [`${live} of the ${n} spawned thread${n === 1 ? "" : "s"} ${live === 1 ? "is" : "are"} still running`],
    });
  }

  /** The running thread. */
  get thread(): Thread {
    return this.running;
  }

  /** Blocks the running thread until `target` ends (called by the join shim before it yields). */
  blockOnJoin(target: Thread): void {
    this.scheduler.blockOnJoin(target);
  }

  /** Gives up the CPU at the next scheduling point (`yield_now`). */
  yieldNow(): void {
    this.b = 0;
  }

  /**
   * `spin_loop`: the running thread gives up the CPU and *spins*: it is not runnable until another
   * thread makes progress ({@link progress}). When no thread is runnable and some spin, the run
   * is a deadlock (a livelock), reported at the `spin_loop`. Progress made since the thread's
   * previous `spin_loop` (or its start) is not lost: the thread checked its condition before it,
   * possibly before that progress (a failed compare-exchange, then a preemption, then the
   * release), so it only yields, once, and waits on its next `spin_loop` if nothing new happened.
   */
  spinLoop(): void {
    this.scheduler.spinLoop();
  }

  /**
   * **Progress**, defined here and only here: a thread did something another thread can observe
   * through synchronisation, so a thread spinning in `spin_loop` may now get further. The
   * operations that call it: `spawn`, `join` (returning or blocking: the joiner's earlier writes
   * are now visible to the thread it waits for), a thread ending (returning or panicking), a line
   * of output, an atomic store or read-modify-write (a successful compare-exchange included), a
   * lock annotation, and an actor's step that says so (`"progress"`). Not progress: `yield_now`,
   * `spin_loop`, an atomic load (two threads spinning on loads would otherwise wake each other
   * forever), and plain memory writes, which are not scheduling points at all (waiting on one is a
   * data race). Wakes every spinning thread; cheap when none spins.
   */
  progress(): void {
    this.scheduler.progress();
  }

  /** How many times a thread made progress (see {@link progress}). */
  get progressCount(): number {
    return this.scheduler.progressCount;
  }

  /**
   * Registers an actor: something that is not a program thread — a device, an interrupt source —
   * but steps at the scheduling decisions, from the run's own deterministic stream
   * (`deriveSeed(seed, "actors")`), so the same seed or replay string gives the same interleaving
   * of threads and actors; see src/interp/actors.ts for when it runs. While no thread can run and
   * an actor is not {@link Actor.quiescent quiescent}, the busy actors run instead of a deadlock
   * being reported. Its step may report a finding (`report`), which stops the run as a thread's
   * does. It is not a thread: never reported as a thread leak; its {@link Actor.pending} work at
   * the end of `main` is reported as a `leak` naming it (unless `ignoreLeaks`).
   *
   * Register it before {@link run} (from the host) or while the program runs (from a shim: its
   * site is where a leak report points). With no actor registered, the Machine schedules exactly
   * as it did without this API.
   * @throws TypeError when `actor` is not an actor or is already registered.
   */
  addActor(actor: Actor): void {
    this.scheduler.addActor(actor, this.currentSite());
  }

  /** The registered actors, in registration order. */
  get actors(): readonly Actor[] {
    return this.scheduler.actors;
  }

  /** The replay string of the run so far (the whole run once it ended). */
  get schedule(): string {
    return this.policy.replayString(this.seed);
  }

  /**
   * The context switch (the scheduler calls it when `t` gets the CPU): `t`'s stack and `budget`
   * become the hot fields, and the runtime, the race detector and the sync hook are pointed at it.
   */
  enter(t: Thread, budget: number): void {
    const buf = this.stackBuffer;
    const prev = this.running;
    if (t !== prev) {
      // The shared stack buffer changes hands: `prev` saves its entries (the scheduler stored its
      // depth in `prev.sp`), `t` gets its own back.
      saveStack(prev, buf, Math.min(prev.sp, STACK_LIMIT));
      const n = Math.min(t.sp, STACK_LIMIT);
      // (A loop, not `set(subarray)`: no object per context switch; stacks are shallow.)
      const from = t.stack;
      for (let i = 0; i < n; i++) buf[i] = from[i]!;
      this.running = t;
    }
    this.s = buf;
    this.sp = t.sp;
    this.b = budget;
    this.runtime.activate(this);
    this.dataRaces.setThread(t.raceId);
    syncHooks.yielded = this.scheduler.blockedInSync;
  }

  /** Runs `f` as if `t` were running (its stack, its name), for reports about a thread that is not. */
  onThread(t: Thread, f: () => void): void {
    const saved = { s: this.s, sp: this.sp, r: this.running };
    // The running thread's entries are in the shared buffer; another thread's are saved.
    if (t !== this.running) {
      this.s = t.stack;
      this.sp = t.sp;
    }
    this.running = t;
    try {
      f();
    } finally {
      this.s = saved.s;
      this.sp = saved.sp;
      this.running = saved.r;
    }
  }

  /** Stops the run with `unsupported`: the replay string does not fit this program (`why`). */
  replayDiverged(why: string): void {
    this.stopped ??= new UBStop(
      this.buildReport("unsupported", `the replay string does not fit this program: ${why}`, {
        title: "unsupported operation",
        label: "the schedule diverged from the replay string here",
        help: [
          { message: "a replay string reproduces only the run that printed it: the same program, unchanged, with the same options (`--max-steps`, `--memory-limit`, ...)" },
        ],
      }),
    );
  }

  /**
   * Whether the main thread, once `main` has returned, yields to the other threads before the run
   * ends (the scheduler's shutdown, src/interp/scheduler-loop.ts): as in Miri, only when the
   * schedule preempts threads (a preemption rate above 0, or PCT); at rate 0 the run ends at once.
   * A replay of an explicit string yields when decisions are left after `main` returned: its
   * recorded run made them, so it yielded.
   */
  yieldsAtShutdown(): boolean {
    return this.shutdownYields ?? !this.replay!.done;
  }

  private replayLeftOver(): void {
    const why = this.replay!.unfinished(this.policy.length);
    if (why !== null) this.onThread(this.threads[0], () => this.replayDiverged(why));
  }

  // ── stops: findings, panics, exceptions ──────────────────────────────────────────

  /**
   * Turns what a thread threw into the state of the run (the scheduler calls it): a finding stops
   * it; a panic (or an exception of the program) ends the thread and is returned; anything else
   * is kmiri's own error.
   */
  settle(t: Thread, e: unknown): PanicInfo | undefined {
    t.state = "done";
    // `e` may be anything the program threw (a Proxy, an error with throwing getters): it is only
    // read through error-location.ts, which runs none of the program's code.
    if (isInstance(e, UBStop)) {
      this.stopped ??= e;
      this.scheduler.finish(t);
      return undefined;
    }
    let panic: PanicStop;
    if (isInstance(e, PanicStop)) panic = e;
    else if (isStackOverflowError(e)) {
      this.stopRecursion();
      this.scheduler.finish(t);
      return undefined;
    } else {
      // What a program `throw` threw is the program's, whatever its stack says.
      if (!this.thrownByProgram(e) && raisedByKmiri(e)) {
        if (isForeignReceiver(e)) {
          // `p.read.call({})`: a method of the runtime on an object that is not its own.
          this.stopped ??= new UBStop(
            this.buildReport(
              "unsupported",
              "a method of `kmiri/rt` called on a value that is not the object it belongs to (`this` is no `Ptr`, reference, `Box`, `JoinHandle`, ...)",
              { title: "unsupported operation", label: "called here", help: [{ message: "call the method on its own object: `p.read()`, not `p.read.call(x)` or a detached `const f = p.read`" }] },
            ),
          );
          this.scheduler.finish(t);
          return undefined;
        }
        this.internalError(e);
        this.scheduler.finish(t);
        return undefined;
      }
      panic = this.panicFromException(e, t);
    }
    t.panic = panic;
    this.scheduler.finish(t);
    const info: PanicInfo = {
      thread: panic.thread,
      message: panic.panicMessage,
      location: panic.location,
      backtrace: panic.backtrace,
    };
    return info;
  }

  /**
   * What an actor's step threw (the scheduler calls it): a finding stops the run, as a thread's
   * does; anything else (an exception of the device model, a panic) is kmiri's internal error.
   */
  settleActor(actor: Actor, e: unknown): void {
    if (isInstance(e, UBStop)) {
      this.stopped ??= e;
      return;
    }
    if (isStackOverflowError(e)) this.stopRecursion();
    else this.internalError(isInstance(e, PanicStop) ? new Error(`${describeActor(actor)} panicked: ${e.panicMessage}`) : e);
  }

  /** Whether a program `throw` threw `e` ({@link thrown} recorded it). */
  private thrownByProgram(e: unknown): boolean {
    if ((typeof e === "object" && e !== null) || typeof e === "function") return this.throwSites.has(e);
    return this.lastPrimitiveThrow !== null && Object.is(this.lastPrimitiveThrow.value, e);
  }

  private panicFromException(e: unknown, t: Thread): PanicStop {
    const recorded = (typeof e === "object" && e !== null) || typeof e === "function" ? this.throwSites.get(e) : undefined;
    const message = describeThrown(e);
    if (recorded) return new PanicStop(message, this.siteLocation(recorded.site), t.name, recorded.backtrace);
    if (this.lastPrimitiveThrow && Object.is(this.lastPrimitiveThrow.value, e)) {
      const p = this.lastPrimitiveThrow;
      return new PanicStop(message, this.siteLocation(p.site), t.name, p.backtrace);
    }
    const loc = programLocationOfError(this.program, e) ?? this.here();
    const bt = this.backtrace();
    if (loc && bt.length) bt[0] = { fn: bt[0].fn, location: loc };
    return new PanicStop(message, loc, t.name, bt);
  }

  private stopRecursion(): void {
    this.stopped ??= new UBStop(
      this.buildReport("resource-exhaustion", `the program exhausted the stack, ${this.depth()} calls deep`, {
        title: "resource exhaustion",
        label: "resource exhaustion occurred here",
        help: [{ message: "is this recursion unbounded? a kernel stack is small; turn deep recursion into a loop" }],
      }),
    );
  }

  private internalError(e: unknown): void {
    const notes = process.env.KMIRI_DEBUG ? [stackOf(e) ?? describeError(e)] : [];
    this.stopped ??= new UBStop(
      this.buildReport("unsupported", describeError(e), {
        title: INTERNAL_ERROR_TITLE,
        label: "kmiri failed while running this",
        help: [
          { message: "this is a bug in kmiri, not necessarily in the program; please report it with the program" },
          { message: "set KMIRI_DEBUG=1 to see kmiri's own stack trace" },
        ],
        notes,
      }),
    );
  }

  private reportAtEntry(message: string): void {
    this.stopped ??= new UBStop({
      kind: "unsupported",
      title: "unsupported operation",
      message,
      location: { file: this.program.modules[0]?.source.displayPath ?? "<program>", line: 1, column: 1 },
      thread: "main",
      backtrace: [],
      help: [],
    });
  }

  // ── called by compiled code ──────────────────────────────────────────────────────

  /**
   * A parameter's value on function entry (compiled code calls this for an object argument of a
   * parameter not declared as a primitive): the references it is or holds are retagged with a
   * protector (see src/shims/checked/fn-entry.ts). `token` is the call's protector scope so far
   * (-1: none yet; the first retag opens one at `fnSite`); the scope is left in {@link ft} for
   * the compiled code, which ends it with {@link fnExit} when the function returns.
   */
  fa(token: number, value: unknown, fnSite: number, paramSite: number): unknown {
    const refs = this.refs;
    const t = this.borrowTracker;
    // (`ft` is set after the walk: an argument's getter may run calls of its own, whose `fa`s set it.)
    const mark = t === null || refs === null ? -1 : refs.findReferences(value);
    if (mark < 0 || t === null || refs === null) {
      this.ft = token;
      return value;
    }
    // From here no program code runs until the retags are done (findReferences may have run an
    // argument's getter, which may have entered and left calls of its own: the scope this call
    // opened for an earlier argument is resumed).
    if (token < 0) token = t.enterCall(fnSite);
    else t.resumeCall?.(token);
    t.argumentSite?.(paramSite);
    const out = refs.retagFound(value, true, mark);
    this.ft = token;
    return out;
  }

  /** Return of a function whose entry retagged references: the protectors of its entry retags end. */
  fnExit(token: number): void {
    if (token >= 0) this.borrowTracker?.endCall(token);
  }

  /**
   * A function's return value (compiled code wraps every `return` argument): references it is or
   * holds get a default retag (a `&mut` a write, a `&` a read of its frozen bytes), as Miri retags
   * a call's result where the caller receives it — so a report is at the call, in the caller (the
   * site on top of the stack while the callee returns).
   */
  rv(value: unknown): unknown {
    if (typeof value !== "object" || value === null) return value;
    const refs = this.refs;
    if (refs === null || this.borrowTracker === null) return value;
    const mark = refs.findReferences(value);
    return mark < 0 ? value : refs.retagFound(value, false, mark);
  }



  /**
   * The loop budget {@link lb} is spent (it is -1): the iteration starting now is the last of the
   * chunk. Counts the chunk's iterations and stops a run that made more than `maxSteps` (the one
   * starting now is iteration `maxSteps + 1`: exactly `maxSteps` ran, whatever the limit), that
   * is past its time limit, or whose JavaScript heap is nearly full. The next chunk ends at the
   * step limit at the latest, so the limit is exact; the clock and the heap are read once a chunk.
   */
  loopTick(site: number): void {
    this.steps += this.chunk - this.lb;
    this.chunk = this.lb;
    if (this.steps > this.maxSteps) {
      this.s[this.sp++] = site;
      this.report("resource-exhaustion", `the program ran more than ${this.maxSteps} loop iterations without finishing; is this loop infinite?`, {
        title: "resource exhaustion",
        label: "resource exhaustion occurred here",
        help: [{ message: "if the program needs more, raise the limit with `--max-steps`" }],
      });
    }
    this.lb = this.chunk = Math.min(LOOP_CHUNK, this.maxSteps - this.steps);
    if (this.deadline !== Infinity && performance.now() > this.deadline) {
      this.s[this.sp++] = site;
      throw (this.stopped ??= new UBStop(this.timeoutReport()));
    }
    // The program's own JavaScript values (arrays, maps) live on the host's heap, outside the
    // Machine's memory limit: stop a run before it takes the host process down with it.
    const heap = getHeapStatistics();
    if (heap.used_heap_size > (this.config.hostHeapLimit ?? HEAP_SHARE * heap.heap_size_limit)) {
      this.s[this.sp++] = site;
      this.hostHeapFull(heap.used_heap_size, heap.heap_size_limit);
    }
  }

  /**
   * The host's heap is nearly full. Who filled it: the program's own JavaScript values, or kmiri's
   * record of the program's many live allocations (each costs kmiri hundreds of bytes of host heap
   * besides its own bytes: a list of millions of small nodes fills the host before the memory
   * limit). The report says which, with both numbers: kmiri memory when a floor of its record's
   * cost ({@link HOST_BYTES_PER_ALLOCATION} per live allocation) is a quarter of what the run
   * added to the heap or more (the true cost is 1.2 to 3 times the floor, and the heap holds
   * garbage not yet collected).
   */
  private hostHeapFull(used: number, limit: number): never {
    const mb = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
    const live = this.memory.liveCount;
    const inUse = this.memory.inUse;
    const kmiriMemory = `kmiri memory holds ${live} live allocation${live === 1 ? "" : "s"} (${mb(inUse)} of the memory limit of ${mb(this.memory.limit)})`;
    const heapFacts = `the JavaScript heap holds ${mb(used)} (the host's limit is ${mb(limit)})`;
    const added = Math.max(1, used - this.heapAtStart);
    if (live * HOST_BYTES_PER_ALLOCATION * 4 >= added) {
      this.report("resource-exhaustion", `${heapFacts}, most of it kmiri's record of the program's memory: ${kmiriMemory}`, {
        title: "resource exhaustion",
        label: "resource exhaustion occurred here",
        help: [
          {
            message:
              "besides its bytes, each live allocation costs kmiri several hundred bytes of the host's heap, so millions of small allocations exhaust the host before `--memory-limit` (which bounds bytes) is reached",
          },
          { message: "run a smaller instance of the program (fewer live allocations: free what is no longer needed), or give Node a larger heap: `NODE_OPTIONS=--max-old-space-size=MiB`" },
        ],
      });
    }
    this.report("resource-exhaustion", `${heapFacts}; is a collection of the program growing without bound?`, {
      title: "resource exhaustion",
      label: "resource exhaustion occurred here",
      help: [
        { message: "kernel data belongs in kmiri memory (`alloc`, `Box`), which `--memory-limit` bounds; a JavaScript array that only grows exhausts the host" },
      ],
      notes: [`${kmiriMemory}: not what fills the heap`],
    });
  }

  /** Whether the run is past its time limit (the scheduler asks at its decisions). */
  pastDeadline(): boolean {
    return this.deadline !== Infinity && performance.now() > this.deadline;
  }

  /**
   * The report of a run past its time limit, at the running site (a loop, or the scheduling point
   * where the scheduler found the time up).
   */
  timeoutReport(): UBReport {
    const ms = this.config.timeoutMs ?? 0;
    const time = `${ms / 1000} s`;
    return this.buildReport("resource-exhaustion", `the program ran for more than ${time} without finishing, its time limit; is it stuck in a loop?`, {
      title: "resource exhaustion",
      label: "the program was stopped here",
      help: [{ message: "if the program needs more time, raise the limit with `--timeout` (library option `timeoutMs`)" }],
      notes: [`it ran ${this.steps + this.chunk - this.lb} loop iterations`],
    });
  }

  /** Entry of an `"unsafe"` function: its caller must be in an unsafe region. */
  unsafeFn(fnSite: number): void {
    if (this.sp === 0 || this.u[this.s[this.sp - 1] & SITE_MASK]) return;
    const name = this.program.sites.fn[fnSite];
    this.report("unsafe-outside-unsafe", `call to unsafe function \`${name}\` is unsafe and requires unsafe block`, {
      title: "error[E0133]",
      label: "call to unsafe function",
      help: [
        { message: `\`${name}\` is declared \`"unsafe";\` here`, location: this.siteLocation(fnSite) },
        { message: 'wrap the call in an `unsafe: { ... }` block, or mark the enclosing function `"unsafe";`' },
      ],
    });
  }

  /** `throw x`: remembers where, so that an uncaught exception panics at the right place. */
  thrown(x: unknown, site: number): unknown {
    this.s[this.sp++] = site;
    const backtrace = this.backtrace();
    this.sp--;
    if ((typeof x === "object" && x !== null) || typeof x === "function") {
      if (!this.throwSites.has(x)) this.throwSites.set(x, { site, backtrace });
    } else this.lastPrimitiveThrow = { value: x, site, backtrace };
    return x;
  }

  /** Entry of a `catch` block: findings and panics cannot be caught; the stack depth is restored. */
  caught(e: unknown, sp: number): void {
    if (isInstance(e, MachineStop)) throw e;
    if (isStackOverflowError(e)) {
      this.stopRecursion();
      throw this.stopped;
    }
    // An object of kmiri's realm (an error a shim raised) is never the program's to hold: it
    // goes on to `settle`, which tells kmiri's bugs from the program's (guest-realm.ts).
    if (guestRealm().isHostObject(e)) throw e;
    this.sp = sp;
  }

  // ── ShimHost ─────────────────────────────────────────────────────────────────────

  currentSite(): number {
    return this.sp > 0 ? this.s[Math.min(this.sp, STACK_LIMIT) - 1] & SITE_MASK : -1;
  }

  siteLocation(site: number): SourceLocation {
    if (site < 0) return { file: this.program.modules[0]?.source.displayPath ?? "<program>", line: 1, column: 1 };
    return this.program.sites.location(site);
  }

  inUnsafe(): boolean {
    return this.sp === 0 || this.u[this.s[this.sp - 1] & SITE_MASK] === 1;
  }

  backtrace(): Frame[] {
    // The innermost entry is where the thread is; below it, only entries marked as frames
    // (calls whose callee is running) count.
    const frames: Frame[] = [];
    const top = Math.min(this.sp, STACK_LIMIT);
    const sites = this.program.sites;
    for (let i = top - 1; i >= 0; i--) {
      const entry = this.s[i];
      if (i !== top - 1 && !(entry & FRAME_MARK)) continue;
      const id = entry & SITE_MASK;
      frames.push({ fn: sites.fn[id], location: sites.location(id) });
    }
    return frames;
  }

  /**
   * The party making the current access (the memory seam's): the actor stepping now (a device or
   * an interrupt source), else the running thread.
   */
  party(): Party {
    const a = this.scheduler.acting;
    if (a !== null) return { kind: a.kind, id: this.actors.indexOf(a), name: a.name };
    return { kind: "thread", id: this.running.id, name: this.running.name };
  }

  threadName(): string {
    return this.running.name;
  }

  /** The name of thread `t` (the race detector's reports). */
  threadNameOf(t: number): string {
    return this.threads[t]?.name ?? this.mirch?.raceName(t) ?? `thread ${t}`;
  }

  /** The program's sites (function names and locations by site id). */
  get sites(): CompiledProgram["sites"] {
    return this.program.sites;
  }

  report(kind: UBKind, message: string, options: ReportOptions = {}): never {
    const e = new UBStop(this.buildReport(kind, message, options));
    this.stopped ??= e;
    throw e;
  }

  warn(message: string, options: ReportOptions & { key?: string } = {}): void {
    if (options.key !== undefined) {
      if (this.warned.has(options.key)) return;
      this.warned.add(options.key);
    }
    if (this.warningsFull()) return;
    this.warnings.push(this.buildReport("unsupported", message, { ...options, title: options.title ?? "warning", label: options.label ?? message }));
  }

  registerLocal(free: (site: number) => void): boolean {
    const t = this.running;
    if (t.localsDepth < 0) return false;
    t.locals.push({ depth: t.localsDepth, free });
    return true;
  }

  /**
   * Entry of a function that may own locals (the compiler wraps its body): returns the depth to
   * hand back to {@link leaveLocals}.
   */
  enterLocals(): number {
    const t = this.running;
    const outer = t.localsDepth;
    t.localsDepth = this.sp;
    return outer;
  }

  /** Exit of such a function (in a `finally`): its locals die; `site` is the function, for "deallocated here". */
  leaveLocals(outer: number, site: number): void {
    const t = this.running;
    const depth = t.localsDepth;
    const list = t.locals;
    while (list.length && list[list.length - 1].depth >= depth) list.pop()!.free(site);
    t.localsDepth = outer;
  }

  /**
   * A note that does not stop the run (Miri's `note: … tracking was triggered here`, printed for
   * `--track-tag`), at `site` (default: the current site), listed with the warnings.
   */
  note(message: string, label: string, site = this.currentSite()): void {
    if (this.warningsFull()) return;
    const r = this.buildReport("stacked-borrows", message, { title: "note", label });
    if (site >= 0) r.location = this.siteLocation(site);
    r.backtrace = [];
    this.warnings.push(r);
  }

  /**
   * True when {@link warnings} holds {@link MAX_KEPT_WARNINGS}: the warning or note being raised
   * is only counted; the first one not kept adds the note that counts them (at its site).
   */
  private warningsFull(): boolean {
    if (this.warnings.length < MAX_KEPT_WARNINGS) return false;
    if (this.droppedWarnings++ === 0) {
      const r = this.buildReport("unsupported", "more warnings and notes not kept", { title: "note", label: "the first warning not kept was raised here" });
      r.backtrace = [];
      this.warnings.push((this.droppedNote = r));
    }
    return true;
  }

  /** The live allocations (the borrow tracker's GC scans the pointers stored in them). */
  liveAllocations(): Allocation[] {
    return this.memory.live();
  }

  /**
   * The program's output. A run keeps at most {@link MAX_KEPT_LINES} lines of it, the first and
   * the last halves, with a line between them that counts the others (`onOutput` still receives
   * every line): a program that prints without end cannot fill the host's memory.
   */
  get output(): string[] {
    return this.outputLog.lines();
  }

  print(line: string): void {
    if (this.stopped) return;
    this.outputLog.push(line);
    this.config.onOutput?.(line);
    this.progress();
  }

  /** How many program frames the running thread has. */
  depth(): number {
    let n = 0;
    for (let i = Math.min(this.sp, STACK_LIMIT) - 1; i >= 0; i--) if (this.s[i] & FRAME_MARK) n++;
    return n;
  }

  /** The location of the running site. */
  here(): SourceLocation {
    return this.siteLocation(this.currentSite());
  }

  /**
   * A report at the running site (its location, thread and backtrace), without stopping the run:
   * {@link report} throws one; the end checks (src/interp/end-checks.ts) collect them. A report
   * made while an actor steps notes which actor made it.
   */
  buildReport(kind: UBKind, message: string, options: ReportOptions): UBReport {
    const title = options.title ?? "Undefined Behavior";
    const help = options.help ? [...options.help] : [];
    if (title === "Undefined Behavior" && !options.help?.some((h) => h.message.startsWith("this indicates"))) {
      help.unshift(...UB_HELP.map((m) => ({ message: m })));
    }
    const notes = [...(options.notes ?? [])];
    const acting = this.scheduler.acting;
    if (acting) notes.unshift(`this was found by ${describeActor(acting)}, which ran at a scheduling point of thread \`${this.running.name}\``);
    else if (this.threads.length > 1) notes.unshift(`this is on thread \`${this.running.name}\``);
    return {
      kind,
      title,
      message,
      location: this.here(),
      label: options.label ?? (title === "Undefined Behavior" ? "Undefined Behavior occurred here" : undefined),
      thread: this.running.name,
      backtrace: pruneBacktrace(this.backtrace()),
      help,
      notes,
      ...(options.race ? { race: options.race } : {}),
    };
  }

  /**
   * Every finding of the run: the one that stopped it, then the rest (deadlocks, leaks). Call it
   * when the run ended: a report of a concurrency kind gets the run's replay string
   * ({@link withReplayNote}).
   */
  allFindings(): UBReport[] {
    const out = [...this.findings];
    if (this.stopped instanceof UBStop && !out.includes(this.stopped.report)) out.unshift(this.stopped.report);
    for (const r of out) this.withReplayNote(r);
    return out;
  }

  /**
   * Adds the note ``replay this schedule with `--replay STRING` `` to a report of a
   * {@link CONCURRENCY_KINDS concurrency kind} (once), with the replay string of the run so far.
   * The Machine applies it to its findings when the run ends (the first finding stops the run, so
   * the string is then the whole schedule that led to it).
   * @returns the report, changed in place.
   */
  withReplayNote(report: UBReport): UBReport {
    if (!CONCURRENCY_KINDS.has(report.kind)) return report;
    const notes = (report.notes ??= []);
    if (!notes.some((n) => n.startsWith(REPLAY_NOTE_PREFIX))) notes.push(`${REPLAY_NOTE_PREFIX}\`--replay ${this.schedule}\``);
    return report;
  }
}

const REPLAY_NOTE_PREFIX = "replay this schedule with ";

/**
 * Lines of output kept in bounded memory: the first `max / 2` and the last `max / 2`, and a
 * count of those between ({@link lines} shows it as one line). The Machine keeps its output in
 * one; the driver keeps a test's output (and a native run's) in one too.
 */
export class KeptLines {
  private readonly head: string[] = [];
  /** The last lines: a ring of `tailMax` entries once full, the oldest at `next`. */
  private readonly tail: string[] = [];
  private next = 0;
  /** Lines between the head and the tail that were not kept. */
  dropped = 0;
  private readonly headMax: number;
  private readonly tailMax: number;

  constructor(max: number = MAX_KEPT_LINES) {
    this.headMax = Math.ceil(max / 2);
    this.tailMax = max - this.headMax;
  }

  push(line: string): void {
    if (this.head.length < this.headMax) this.head.push(line);
    else if (this.tail.length < this.tailMax) this.tail.push(line);
    else if (this.tailMax > 0) {
      this.tail[this.next] = line;
      this.next = this.next + 1 === this.tailMax ? 0 : this.next + 1;
      this.dropped++;
    } else this.dropped++;
  }

  /** The lines kept, in order; when some were not kept, a line in their place says how many. */
  lines(): string[] {
    if (this.tail.length === 0) return this.head;
    const tail = this.next === 0 ? this.tail : [...this.tail.slice(this.next), ...this.tail.slice(0, this.next)];
    if (this.dropped === 0) return [...this.head, ...tail];
    const n = this.dropped;
    return [...this.head, `[kmiri: ${n} line${n === 1 ? "" : "s"} of output not kept here; a run keeps its first ${this.headMax} and its last ${this.tailMax}]`, ...tail];
  }
}

/** Whether a schedule of this policy preempts threads at all (PCT does at every point). */
function preempts(d: PolicyDescription): boolean {
  return d.kind === "pct" || d.rate > 0;
}

/** Keeps a report readable when the stack is deep (runaway recursion): the innermost and outermost frames. */
function pruneBacktrace(frames: Frame[]): Frame[] {
  if (frames.length <= 64) return frames;
  const cut = frames.length - 40;
  return [
    ...frames.slice(0, 32),
    { fn: `... ${cut} frames omitted ...`, location: frames[32].location },
    ...frames.slice(frames.length - 8),
  ];
}

/**
 * True for the TypeError V8 raises when a runtime method reads a private field of a `this` that is
 * not an instance of its class, or is undefined (the runtime's objects keep their engine state in
 * private fields, so a foreign receiver fails there first).
 */
function isForeignReceiver(e: unknown): boolean {
  if (!isInstance(e, TypeError)) return false;
  const d = Object.getOwnPropertyDescriptor(e, "message");
  return d !== undefined && typeof d.value === "string" && (/^Cannot (read|write) private member #\w+ from an object whose class did not declare it$/.test(d.value) || /^Cannot read properties of (undefined|null) \(reading '#\w+'\)$/.test(d.value));
}

// ── the watchdog: a time limit that holds in code without loop ticks ────────────────────────

/** How long after its deadline a run that reaches no loop tick is terminated. */
const WATCHDOG_GRACE_MS = 250;

/** A context of its own whose one script calls `f`: `vm`'s timeout terminates whatever runs inside. */
let watchdog: { sandbox: { f?: () => unknown }; context: vm.Context; script: vm.Script } | undefined;

/**
 * Runs `f`, terminated by V8 after `ms` milliseconds wherever it is (TerminateExecution: a
 * regular expression's backtracking, a built-in's loop); then throws `ERR_SCRIPT_EXECUTION_TIMEOUT`.
 */
function withWatchdog<T>(ms: number, f: () => T): T {
  if (watchdog === undefined) {
    const sandbox: { f?: () => unknown } = {};
    watchdog = { sandbox, context: vm.createContext(sandbox), script: new vm.Script("f()", { filename: "kmiri://watchdog" }) };
  }
  const w = watchdog;
  const outer = w.sandbox.f;
  w.sandbox.f = f;
  try {
    return w.script.runInContext(w.context, { timeout: Math.max(1, Math.ceil(ms)) }) as T;
  } finally {
    w.sandbox.f = outer;
  }
}

function isWatchdogTimeout(e: unknown): boolean {
  return typeof e === "object" && e !== null && !types.isProxy(e) && Object.getOwnPropertyDescriptor(e, "code")?.value === "ERR_SCRIPT_EXECUTION_TIMEOUT";
}
