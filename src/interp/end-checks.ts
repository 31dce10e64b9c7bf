/**
 * The checks made when a run cannot go on or has ended, as reports for the Machine to stop with:
 *
 * - {@link deadlockReports}: no thread can run (and no actor has work that could wake one): one
 *   report per stuck thread, at its `join` or `spin_loop`.
 * - {@link threadLeakReport}: `main` returned while threads it spawned still run.
 * - {@link actorLeakReports}: an actor (a device, an interrupt source: src/interp/actors.ts) still
 *   had work outstanding when `main` returned. Actors are not threads: they are never reported as
 *   thread leaks.
 * - {@link memoryLeakReports}: heap memory no static reaches.
 *
 * The functions only build reports; the Machine and its scheduler decide when to run them and
 * stop the run with the first.
 *
 * @module
 */
import type { Actor } from "./actors.js";
import { describeActor } from "./actors.js";
import type { Machine } from "./machine.js";
import { ALLOC_KIND_NAMES } from "./memory/allocation.js";
import type { HelpLine, UBReport } from "./report.js";

const IGNORE_LEAKS_NOTE = "set `--ignore-leaks` to disable this check";

/**
 * Memory leak reports a run makes at most: one per leaked allocation up to here; the last one
 * counts the others (a program that leaks millions of nodes gets a readable report, and kmiri
 * does not build millions of them).
 */
export const MAX_LEAK_REPORTS = 1_000;
/** Threads a thread-leak report names; it counts the others. */
const MAX_NAMED_THREADS = 20;

/**
 * No thread can run: one report per stuck thread (blocked, or spinning without progress), at its
 * `join` or `spin_loop`. `busy` are the actors that were still busy (not quiescent) when the
 * scheduler gave up on them waking a thread (empty when every actor was quiescent).
 */
export function deadlockReports(m: Machine, busy: readonly Actor[] = []): UBReport[] {
  const out: UBReport[] = [];
  // The program's threads and the interrupt threads of idle CPUs (Mirch), in creation order.
  const stuck = m.scheduler.threadsNotDone().filter((x) => x.state === "blocked" || x.state === "spinning");
  for (const t of stuck) {
    m.onThread(t, () => {
      const notes =
        t.state === "spinning"
          ? ["this thread spins in `spin_loop`, and no other thread can make progress that would end the wait (a livelock)"]
          : [];
      if (busy.length) {
        notes.push(
          `${busy.map(describeActor).join(", ")} still had work in flight, but ${busy.length === 1 ? "it" : "they"} ran many steps without waking any thread`,
        );
      }
      // A thread spinning on a lock it holds (lock_acquired): a relock, which waits for itself.
      const held = t.state === "spinning" ? m.locks.relock(t.id) : undefined;
      const help: HelpLine[] = [];
      if (held) {
        // Where the caller took it: skip the frames the two stacks share by function (the lock wrapper).
        const took = m.stacks.backtrace(held.site, m.program.sites);
        const now = m.backtrace();
        let k = 0;
        while (k + 1 < took.length && k + 1 < now.length && took[k].fn === now[k].fn) k++;
        const at = took[k]?.location;
        help.push({ message: `this thread already holds the lock it is waiting for, acquired here (a relock: it waits for itself)`, ...(at ? { location: at } : {}) });
      }
      out.push(
        m.buildReport("deadlock", "the evaluated program deadlocked", {
          title: "deadlock",
          label: "thread got stuck here",
          help,
          notes,
        }),
      );
    });
  }
  return out;
}

/**
 * `main` returned while other threads still run (Miri: an error, like a leak, since those
 * threads' resources are never released): reported at the spawn of the first, naming them all.
 * Null when every thread ended.
 */
export function threadLeakReport(m: Machine): UBReport | null {
  const left = m.threads.filter((x) => x.state !== "done");
  if (left.length === 0) return null;
  let names = left.slice(0, MAX_NAMED_THREADS).map((x) => `\`${x.name}\``).join(", ");
  if (left.length > MAX_NAMED_THREADS) names += ` and ${left.length - MAX_NAMED_THREADS} more`;
  const report = m.buildReport("leak", "the main thread terminated without waiting for all remaining threads", {
    title: "",
    label: `\`${left[0].name}\` was spawned here and was still running when \`main\` returned`,
    help: [{ message: `still running: ${names}; \`join\` them before \`main\` returns` }],
    notes: [IGNORE_LEAKS_NOTE],
  });
  report.location = m.siteLocation(left[0].spawnSite);
  report.backtrace = [];
  return report;
}

/**
 * Actors with work outstanding at the end of the run ({@link Actor.pending}): one `leak` report
 * per such actor, in registration order, at the site that registered it (the entry file's first
 * line when the host registered it before the program ran).
 * @param sites the registration site of each actor (-1: none).
 */
export function actorLeakReports(m: Machine, actors: readonly Actor[], sites: readonly number[]): UBReport[] {
  const out: UBReport[] = [];
  for (let i = 0; i < actors.length; i++) {
    const a = actors[i];
    const work = a.pending?.() ?? null;
    if (work === null) continue;
    const who = describeActor(a);
    out.push({
      kind: "leak",
      title: "",
      message: `${who} still had work outstanding when the program ended: ${work}`,
      location: m.siteLocation(sites[i] ?? -1),
      label: `${who} was registered here`,
      thread: "main",
      backtrace: [],
      help: [{ message: `wait until the ${a.kind} has finished its work (or cancel it) before the program ends` }],
      notes: [IGNORE_LEAKS_NOTE],
    });
  }
  return out;
}

/**
 * Heap allocations live at the end that no static reaches: one report per allocation, at its
 * allocation site, for the first {@link MAX_LEAK_REPORTS}; the last report counts the others.
 */
export function memoryLeakReports(m: Machine): UBReport[] {
  const out: UBReport[] = [];
  const leaks = m.memory.leaks();
  for (const a of leaks) {
    if (out.length === MAX_LEAK_REPORTS) {
      const rest = leaks.slice(MAX_LEAK_REPORTS);
      const bytes = rest.reduce((n, x) => n + x.size, 0);
      out[out.length - 1].notes!.push(
        `${rest.length} more leaked allocation${rest.length === 1 ? "" : "s"} (${bytes} bytes) not reported: kmiri reports the first ${MAX_LEAK_REPORTS}`,
      );
      break;
    }
    const where = a.allocSite >= 0 ? m.siteLocation(a.allocSite) : m.here();
    out.push({
      kind: "leak",
      title: "memory leak",
      message: `memory leaked: alloc${a.id} (${ALLOC_KIND_NAMES[a.kind]}, size: ${a.size}, align: ${a.align}), allocated here:`,
      location: where,
      label: "allocated here",
      thread: "main",
      backtrace: [],
      help: [],
      notes: [IGNORE_LEAKS_NOTE],
    });
  }
  return out;
}
