/**
 * Interrupts on Mirch: each CPU's interrupt flag, interrupt lines and their handlers,
 * inter-processor calls, delivery at preemption points, and what the race detector and lockdep
 * learn from them.
 *
 * **Delivery.** A raised line (or an IPI) is queued on one CPU: the line's affinity, else one the
 * seed picks among the running CPUs with interrupts enabled. It runs when that CPU's thread is
 * next resumed by the scheduler with interrupts enabled — a preemption point — before the thread
 * continues: the thread's generator is wrapped in an *interrupt frame* that runs the handler (a
 * program function, which may itself yield, spin or take locks) with interrupts disabled, then
 * resumes the interrupted code exactly where it was. A CPU with a deliverable interrupt is not
 * blocked: a thread spinning or waiting in `join` is woken to take it (its wait loops retry).
 * Raising a line on the current CPU, or enabling interrupts with some pending, gives up the CPU at
 * once, so the handler runs right after (x86 takes a pending interrupt right after `sti`).
 *
 * **Idle CPUs.** A CPU with no running thread (never spawned, or its thread ended) is idle: as on
 * hardware, it takes what is queued for it and runs the handlers concurrently with the other
 * CPUs. Its *interrupt thread* (`Machine.spawnInterruptThread`) is started by the first item
 * queued: a thread the scheduler runs like the program's, with id `cpus + cpu`, acting as the
 * CPU's interrupt context, that runs the CPU's queue in interrupt context, item after item, then
 * ends (a handler that enables interrupts is interrupted by the next item, as a thread is). Its handlers may yield, spin, take locks and wait for other CPUs; the sender does not
 * wait for them (OSTD's `inter_processor_call` does not either). It is not the program's thread:
 * never joined, never a thread leak (the main thread yields to it at shutdown as to the others; if
 * the run ends first, it is dropped), but a deadlock names it, at the handler. A thread spawned for
 * the CPU meanwhile starts when it ends.
 *
 * **Races.** Each CPU's interrupt context is an actor of the race detector of its own (a slot
 * after the CPUs'), so a handler is concurrent with the code it interrupts, except as mirch.d.ts
 * orders them: the handler acquires the raise (and everything the raiser did before) and the
 * CPU's last `irq_enable`; the CPU's next `irq_disable` acquires every handler that ran on it;
 * handlers on one CPU are ordered (one actor).
 *
 * **lockdep's irq-safety rule.** A lock class taken in interrupt context and, anywhere, with
 * interrupts enabled — taken with them on, or held while they are turned back on — can deadlock
 * (the interrupt arrives while the CPU holds it): reported as `lock-order` at the acquisition or
 * the enable that completes the pair, whether or not this run deadlocked.
 *
 * @module
 */
import { VectorClock } from "../../concurrency/vector-clock.js";
import { IRQ_NUM_MAX, IRQ_NUM_MIN } from "../../mirch/constants.js";
import { G, GEN } from "../runtime-kit.js";
import type { Thread } from "../thread.js";
import type { MirchMachine } from "./mirch-machine.js";

/** What the scheduler asks of interrupts (installed on the Machine as `Machine.irq`). */
export interface InterruptController {
  /** Whether thread `t`'s CPU has an interrupt `t` can take now (enabled, and one pending). */
  deliverable(t: Thread): boolean;
  /** Wraps `t`'s generator in an interrupt frame for its next pending interrupt. */
  deliver(t: Thread): void;
}

/** An interrupt line's state (the program's `IrqLine` wraps one). */
export interface LineState {
  readonly num: number;
  readonly handlers: ((line: unknown) => unknown)[];
  affinity: number | null;
  /** What handlers receive: the program's `IrqLine` object. */
  facade: unknown;
}

/** Something queued for a CPU: a line's handlers, or an IPI's function. */
interface Pending {
  /** Runs it: a generator, so that a handler may yield (spin, take a lock) like any program code. */
  readonly run: () => Generator<unknown, unknown, unknown>;
  /** The raiser's clock at the raise (a release). */
  readonly clock: VectorClock;
  readonly what: string;
}

/** One CPU's interrupt state. */
interface CpuIrq {
  enabled: boolean;
  /** Interrupt frames running on it (0: not in interrupt context). */
  depth: number;
  readonly pending: Pending[];
  /** Released at each `irq_enable`: a handler acquires it. */
  readonly enableClock: VectorClock;
  /** Every handler that ran releases into it; the next `irq_disable` acquires it. */
  readonly handlersClock: VectorClock;
  /** The interrupt flag of each frame's interrupted code, restored when the frame ends. */
  readonly savedEnabled: boolean[];
  /** The race-detector slot of its interrupt context, and whether it exists yet. */
  readonly raceId: number;
  created: boolean;
  /** While the CPU is idle but for its pending interrupts: the interrupt thread running them. */
  idle: Thread | null;
}

/** An acquisition of a lock class in each interrupt situation (lockdep's irq-safety rule). */
interface IrqUsage {
  inIrq: number | null;
  irqsOn: number | null;
}

/** Interrupt state of one Machine's Mirch. */
export class Interrupts implements InterruptController {
  private readonly cpu: CpuIrq[] = [];
  private readonly lines = new Map<number, LineState>();
  private readonly usage = new Map<number, IrqUsage>();

  constructor(private readonly mm: MirchMachine) {
    for (let c = 0; c < mm.cpus; c++) {
      this.cpu.push({
        enabled: true,
        depth: 0,
        pending: [],
        enableClock: new VectorClock(),
        handlersClock: new VectorClock(),
        savedEnabled: [],
        raceId: mm.cpus + c,
        created: false,
        idle: null,
      });
    }
  }

  /** The race-detector name of slot `t`, when it is an interrupt context (`cpu1 (interrupt)`). */
  raceName(t: number): string | undefined {
    const c = t - this.mm.cpus;
    if (c < 0 || c >= this.mm.cpus) return undefined;
    return `${c === 0 ? "main" : `cpu${c}`} (interrupt)`;
  }

  private get race() {
    return this.mm.host.dataRaces;
  }

  // ── the interrupt flag ──

  enabled(): boolean {
    return this.cpu[this.mm.currentCpu()]!.enabled;
  }

  inInterrupt(): boolean {
    return this.cpu[this.mm.currentCpu()]!.depth > 0;
  }

  /** `irq_disable()`: whether they were enabled. The CPU now acquires every handler that ran on it. */
  disable(): boolean {
    const c = this.cpu[this.mm.currentCpu()]!;
    const was = c.enabled;
    if (was) {
      c.enabled = false;
      this.race.detector.lockAcquire(c.handlersClock, this.race.thread());
    }
    return was;
  }

  /** `irq_enable()`: the handlers that run from now on happen after it. */
  enable(): void {
    const c = this.cpu[this.mm.currentCpu()]!;
    if (c.enabled) return;
    c.enabled = true;
    this.race.detector.lockRelease(c.enableClock, this.race.thread());
    if (c.pending.length > 0) this.mm.host.yieldNow();
  }

  // ── lines ──

  /** A new line numbered `num` (the lowest free one when undefined). */
  allocLine(num: number | undefined): LineState {
    if (num === undefined) {
      for (let n = IRQ_NUM_MIN; n <= IRQ_NUM_MAX; n++) if (!this.lines.has(n)) return this.newLine(n);
      return this.mm.report("unsupported", `every interrupt line from ${IRQ_NUM_MIN} to ${IRQ_NUM_MAX} is allocated`, {});
    }
    if (!Number.isInteger(num) || num < IRQ_NUM_MIN || num > IRQ_NUM_MAX) {
      this.mm.report("unsupported", `interrupt line ${num} is outside [${IRQ_NUM_MIN}, ${IRQ_NUM_MAX}]`, {});
    }
    if (this.lines.has(num)) this.mm.report("unsupported", `interrupt line ${num} is already allocated`, {});
    return this.newLine(num);
  }

  private newLine(num: number): LineState {
    const l: LineState = { num, handlers: [], affinity: null, facade: null };
    this.lines.set(num, l);
    return l;
  }

  /** A line is raised (by the program or a device): its handlers are queued on a CPU. */
  raise(line: LineState): void {
    if (line.handlers.length === 0) return;
    const target = line.affinity ?? this.pickCpu();
    const handlers = [...line.handlers];
    this.queue(target, function* () {
      for (const h of handlers) yield* runProgram(h, [line.facade]);
    }, `interrupt line ${line.num}`);
  }

  /** `inter_processor_call(f, cpus)`. */
  ipi(f: () => unknown, cpus: readonly number[] | undefined): void {
    const me = this.mm.currentCpu();
    const targets = cpus ?? [...Array(this.mm.cpus).keys()].filter((c) => c !== me);
    for (const c of targets) {
      if (!Number.isInteger(c) || c < 0 || c >= this.mm.cpus) {
        this.mm.report("unsupported", `\`inter_processor_call\` to CPU ${c}: the Machine has CPUs 0 to ${this.mm.cpus - 1} (\`--cpus\`)`, {});
      }
    }
    for (const c of targets) this.queue(c, () => runProgram(f, []), "inter-processor call");
  }

  /** A running CPU with interrupts enabled, chosen by the seed (any running one when none has them enabled). */
  private pickCpu(): number {
    const live = this.mm.host.threads.filter((t) => t.state !== "done" && t.id < this.mm.cpus).map((t) => t.id);
    const on = live.filter((c) => this.cpu[c]!.enabled);
    const from = on.length > 0 ? on : live.length > 0 ? live : [0];
    return from[from.length === 1 ? 0 : this.mm.rng.below(from.length)]!;
  }

  private queue(cpu: number, run: () => Generator<unknown, unknown, unknown>, what: string): void {
    const clock = new VectorClock();
    this.race.detector.lockRelease(clock, this.race.thread());
    const item: Pending = { run, clock, what };
    const c = this.cpu[cpu]!;
    c.pending.push(item);
    const thread = this.mm.host.threads[cpu];
    if ((thread === undefined || thread.state === "done") && c.idle === null) {
      // An idle CPU: its interrupt thread takes the item, and what is queued after it.
      this.startIdle(cpu, c);
      return;
    }
    // Taken at this CPU's next preemption point: for the running thread's CPU, now.
    if (cpu === this.mm.host.thread.cpu && c.enabled) this.mm.host.yieldNow();
  }

  /** Starts the interrupt thread of idle CPU `cpu`, which runs its queue (see the header). */
  private startIdle(cpu: number, c: CpuIrq): void {
    // The interrupt context exists from now, made by the sender: it sees what the sender did up to
    // here (as when it was made by the first handler delivered to the CPU), nothing later.
    if (!c.created) {
      c.created = true;
      this.race.spawn(this.race.thread(), c.raceId);
    }
    const name = `${cpu === 0 ? "main" : `cpu${cpu}`} (interrupt)`;
    c.idle = this.mm.host.spawnInterruptThread(cpu, c.raceId, name, this.idleLoop(c));
  }

  /** The interrupt thread of an idle CPU: its queue, in interrupt context, until it is empty. */
  private *idleLoop(c: CpuIrq): Generator<unknown, unknown, unknown> {
    try {
      for (let item = c.pending.shift(); item !== undefined; item = c.pending.shift()) {
        this.enter(c, item, c.raceId);
        try {
          yield* item.run();
        } finally {
          this.leave(c, c.raceId);
        }
      }
    } finally {
      // A thread spawned for this CPU meanwhile starts now: after the handlers, in the CPU's
      // program order (it waits in the interrupt thread's joiners).
      for (const j of c.idle?.joiners ?? []) {
        this.race.detector.lockAcquire(c.handlersClock, j.raceId);
        this.race.weak?.observe(j.raceId, this.race.detector.clockOf(c.raceId));
      }
      c.idle = null;
    }
    return undefined;
  }

  // ── delivery (the scheduler's side) ──

  deliverable(t: Thread): boolean {
    const c = this.cpu[t.cpu];
    // While an idle CPU's interrupt thread runs, it is the one that takes them (a thread spawned
    // for the CPU meanwhile waits for it).
    return c !== undefined && (c.idle === null || c.idle === t) && c.enabled && c.pending.length > 0;
  }

  deliver(t: Thread): void {
    const c = this.cpu[t.cpu]!;
    const item = c.pending.shift()!;
    const orig = t.gen!;
    const send = t.send;
    t.send = undefined;
    t.gen = this.frame(t, c, item, orig, send);
  }

  /** The interrupt frame: the handler in interrupt context, then the interrupted code resumed. */
  private *frame(t: Thread, c: CpuIrq, first: Pending, orig: Generator<unknown, unknown, unknown>, send: unknown): Generator<unknown, unknown, unknown> {
    const outer = t.raceId;
    // Everything pending that is deliverable runs before the interrupted code continues (a CPU
    // takes interrupts back to back while its flag is set).
    for (let item: Pending | undefined = first; item !== undefined; item = c.enabled ? c.pending.shift() : undefined) {
      this.enter(c, item, outer);
      t.raceId = c.raceId;
      try {
        yield* item.run();
      } finally {
        t.raceId = outer;
        this.leave(c, outer);
      }
    }
    // Back to the interrupted code, exactly where it was.
    let r = orig.next(send);
    while (!r.done) {
      const v = yield r.value;
      r = orig.next(v);
    }
    return r.value;
  }

  /** Enters interrupt context on `c` for `item`: interrupts off, the interrupt's race identity and edges. */
  private enter(c: CpuIrq, item: Pending, from: number): void {
    const det = this.race.detector;
    if (!c.created) {
      c.created = true;
      this.mm.host.dataRaces.spawn(from, c.raceId);
    }
    det.lockAcquire(item.clock, c.raceId);
    det.lockAcquire(c.enableClock, c.raceId);
    // One CPU sees its own stores in order: the handler reads nothing older than what the code it
    // interrupted stored or read (weak memory; no happens-before edge for races).
    this.race.weak?.observe(c.raceId, det.clockOf(from));
    c.depth++;
    c.savedEnabled.push(c.enabled);
    c.enabled = false;
    this.race.setThread(c.raceId);
  }

  /** Leaves interrupt context: the handler's work is released to the CPU's next `irq_disable`. */
  private leave(c: CpuIrq, back: number): void {
    this.race.detector.lockReleaseShared(c.handlersClock, c.raceId);
    // ... and the interrupted code, resumed, reads nothing older than what the handler did.
    this.race.weak?.observe(back, this.race.detector.clockOf(c.raceId));
    c.depth--;
    c.enabled = c.savedEnabled.pop() ?? true;
    this.race.setThread(back);
  }

  // ── lockdep's irq-safety rule ──

  /**
   * A lock of class `cls` was just taken, at interned stack `site`: records in which interrupt
   * situation, and returns the earlier acquisition that makes the pair, with what each was —
   * `null` when the class is still safe.
   */
  lockTaken(cls: number, site: number): { other: number; here: "irq" | "irqs-on" } | null {
    const cpu = this.cpu[this.mm.currentCpu()]!;
    let u = this.usage.get(cls);
    if (u === undefined) this.usage.set(cls, (u = { inIrq: null, irqsOn: null }));
    if (cpu.depth > 0) {
      u.inIrq ??= site;
      if (u.irqsOn !== null) return { other: u.irqsOn, here: "irq" };
    } else if (cpu.enabled) {
      u.irqsOn ??= site;
      if (u.inIrq !== null) return { other: u.inIrq, here: "irqs-on" };
    }
    return null;
  }

  /**
   * Interrupts are about to be enabled (outside interrupt context) while the running thread holds
   * a lock of class `cls`: lockdep marks the class {HARDIRQ-ON} as it does at an acquisition with
   * interrupts on, at `site` (the enable). Returns where the class was taken in interrupt context,
   * or `null` while the class is still safe.
   */
  heldAtEnable(cls: number, site: number): number | null {
    if (this.cpu[this.mm.currentCpu()]!.depth > 0) return null;
    let u = this.usage.get(cls);
    if (u === undefined) this.usage.set(cls, (u = { inIrq: null, irqsOn: null }));
    u.irqsOn ??= site;
    return u.inIrq;
  }
}

/** Runs a program function as a generator (its generator version when it may yield). */
function* runProgram(f: (...args: unknown[]) => unknown, args: unknown[]): Generator<unknown, unknown, unknown> {
  const g = (f as { [GEN]?: (...a: unknown[]) => unknown })[GEN];
  const r = g !== undefined ? g.apply(undefined, args) : f(...args);
  if (r instanceof G) return yield* r as Generator<unknown, unknown, unknown>;
  return r;
}
