/**
 * Actors: what runs on the Machine besides the program's threads — devices (a NIC completing a
 * DMA transfer, a timer) and interrupt sources, which the Mirch work adds. An actor is host code
 * (a device model written in TypeScript), not a program thread: it has no stack, no generator and
 * no thread id, and the schedule (the replay string) does not name it.
 *
 * ## When an actor runs
 *
 * The scheduler (src/interp/scheduler-loop.ts) offers the actors a step at every *scheduling
 * decision*, before it picks the next thread (so progress an actor makes — a completion flag
 * written — can wake a spinning thread that this very decision may pick):
 *
 * - while some thread can run, each actor in registration order steps with probability
 *   {@link Actor.rate} (default ½);
 * - when no thread can run, every actor that is not {@link Actor.quiescent quiescent} steps, in
 *   registration order, round after round, until a thread can run again: a device with work in
 *   flight may still wake the waiting thread, so this is not (yet) a deadlock. Only when every
 *   actor is quiescent is it a deadlock. A busy actor that wakes no thread within
 *   {@link STALL_ROUNDS} rounds is reported with the deadlock (a livelock with a device).
 *
 * ## Determinism and replay
 *
 * The draws (whether an actor steps, and the {@link Rng} handed to {@link Actor.step} for the
 * actor's own choices) come from one stream of their own, `deriveSeed(seed, "actors")`, created
 * when the first actor registers. They are not recorded in the replay string, which names threads
 * only: they need not be, since the stream is a function of the seed (which the replay string
 * carries) and the draws happen at the decisions, in order, whose sequence a replay reproduces.
 * So the same seed, or the same replay string, gives the same interleaving of threads and actors,
 * and registering actors leaves the schedule's own stream (`deriveSeed(seed, "schedule")`) and the
 * program's `Math.random` untouched.
 *
 * ## Findings, and the end of the run
 *
 * An actor's step may report a finding through the Machine (`machine.report(...)`, which throws a
 * `UBStop`): the run stops with it as with a thread's; the report is located at the scheduling
 * point of the thread that was running, and notes which actor made it. Anything else an actor
 * throws is kmiri's internal error. Actors are not threads: `main` returning while an actor
 * exists is not a thread leak. An actor with outstanding work at the end of `main` says so
 * through {@link Actor.pending}, reported as a `leak` naming it (`--ignore-leaks` turns it off).
 *
 * @module
 */
import type { Rng } from "../concurrency/scheduler.js";
import type { Machine } from "./machine.js";

/** What an actor models: a device, or a source of interrupts. */
export type ActorKind = "device" | "interrupt";

/**
 * What one {@link Actor.step} did.
 *
 * - `"idle"`: nothing a program thread could observe.
 * - `"progress"`: something a thread may observe (the device wrote a completion, raised a line):
 *   the Machine counts it as *progress* (`Machine.progress`), which wakes the threads spinning in
 *   `spin_loop`. (An atomic store made through the runtime is progress by itself; saying so
 *   twice is harmless.)
 */
export type ActorStep = "idle" | "progress";

/**
 * Something that is not a program thread but runs at the Machine's scheduling decisions: a device
 * or an interrupt source. Register it with `Machine.addActor`.
 *
 * @example
 * ```ts
 * // A device that completes a request some decisions after the program queued it.
 * const device: Actor = {
 *   name: "nic",
 *   kind: "device",
 *   step(machine, rng) {
 *     if (queued === 0 || rng.below(4) !== 0) return "idle";
 *     queued--;
 *     completions.as_ref().fetch_add(1, "Release");
 *     return "progress";
 *   },
 *   quiescent: () => queued === 0,
 *   pending: () => (queued ? `${queued} requests queued` : null),
 * };
 * machine.addActor(device);
 * ```
 */
export interface Actor {
  /** Its name in reports (`nic`, `timer`, `irq7`). */
  readonly name: string;
  /** What it models (reports say `device \`nic\``, `interrupt \`irq7\``). */
  readonly kind: ActorKind;
  /**
   * The probability, in [0, 1], that the actor is offered a step at a scheduling decision where
   * some thread can run (default 0.5). 1: at every decision (no draw); 0: only when no thread can
   * run and the actor is not quiescent (a device that completes its work as late as possible).
   */
  readonly rate?: number;
  /**
   * One step of the actor, at a scheduling decision. It runs as host code between two threads:
   * the running thread (its stack, for a report's location) is the one that reached the decision,
   * and memory accesses it makes through the Machine are attributed to that thread by the race
   * detector. It must not run program generators (it cannot yield).
   *
   * @param machine the Machine (its memory, `report`, `progress`, …).
   * @param rng the actors' deterministic stream (`deriveSeed(seed, "actors")`), for the actor's
   *   own choices: a draw from it is replayed with the seed.
   * @returns whether it did something a thread may observe ({@link ActorStep}).
   * @throws UBStop through `machine.report(...)`: a finding, which stops the run.
   */
  step(machine: Machine, rng: Rng): ActorStep;
  /**
   * True when the actor has no work of its own that could let a waiting thread continue (no
   * request in flight, no interrupt pending). While no thread can run and some actor is not
   * quiescent, the busy actors step instead of a deadlock being reported. Absent: always
   * quiescent (the actor never holds off a deadlock report).
   */
  quiescent?(): boolean;
  /**
   * Work still outstanding, asked when `main` (or a test) ended without a finding: a description
   * (`"2 DMA transfers in flight"`) makes a `leak` report naming the actor; `null` when none.
   * Absent: never any.
   */
  pending?(): string | null;
}

/**
 * Rounds of busy-actor steps, with no thread able to run, after which the scheduler gives up and
 * reports the deadlock (naming the actors still busy): a device that never finishes its work nor
 * wakes a thread would otherwise hang the run.
 */
export const STALL_ROUNDS = 10_000;

/** How reports name an actor: ``device `nic` ``. */
export function describeActor(a: Actor): string {
  return `${a.kind} \`${a.name}\``;
}

/**
 * Checks an actor before it is registered.
 * @throws TypeError when it is not an actor (no name, an unknown kind, no `step`), or its rate is
 *   not in [0, 1].
 */
export function validateActor(a: Actor): void {
  if (typeof a !== "object" || a === null) throw new TypeError(`kmiri: an actor must be an object, got ${a === null ? "null" : typeof a}`);
  if (typeof a.name !== "string" || a.name === "") throw new TypeError("kmiri: an actor needs a non-empty `name`");
  if (a.kind !== "device" && a.kind !== "interrupt") throw new TypeError(`kmiri: actor \`${a.name}\`: \`kind\` must be "device" or "interrupt", got ${String(a.kind)}`);
  if (typeof a.step !== "function") throw new TypeError(`kmiri: actor \`${a.name}\` has no \`step\` method`);
  if (a.rate !== undefined && !(a.rate >= 0 && a.rate <= 1)) throw new TypeError(`kmiri: actor \`${a.name}\`: \`rate\` must be in [0, 1], got ${a.rate}`);
}

/** True when the actor is quiescent (see {@link Actor.quiescent}; absent means quiescent). */
export function isQuiescent(a: Actor): boolean {
  return a.quiescent === undefined || a.quiescent();
}
