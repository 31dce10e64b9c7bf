/**
 * Evaluating a compiled module: its namespace object (live getters for its exports, `export *`
 * forwarding), and the call of its factory with the parameters the compiler expects (see
 * FACTORY_PARAMS in compile/names.ts). The Machine and the native runner share it; they differ
 * only in the environment they hand the module.
 *
 * What a module can reach: its factory's parameters carry names the program cannot write
 * (compile/names.ts), the factory runs with `this` undefined (as an ES module's top level), and
 * the compiler rejects `arguments` outside functions and direct `eval`; so the Machine is not
 * reachable by any name. The factory was compiled in the program's realm (guest-realm.ts). The
 * program's globals are handed in, made in that realm: `console`, `Math`, and a `Promise`,
 * `queueMicrotask` and timers that report `unsupported` where they are called on the Machine
 * (natively, throw; see {@link deferralGlobals}).
 */
import { types } from "node:util";
import type { FACTORY_PARAMS, ProgramModule } from "./compile/index.js";
import type { ProgramConsole } from "./program-console.js";
import type { ReportOptions, UBKind } from "./report.js";
import { G, GEN, sync, wrap, wrapClass, wrapObj } from "./runtime-kit.js";
import { guestRealm } from "./guest-realm.js";

const apply = Reflect.apply;

/** One value per factory parameter (a tuple as long as FACTORY_PARAMS). */
type OnePer<T extends readonly unknown[]> = { -readonly [K in keyof T]: unknown };

/** A module namespace: its exported names, read through getters. */
export type Namespace = Record<string, unknown>;

/** What one instantiation of a module receives besides its imports. */
export interface ModuleEnv {
  /** The Machine (`$R` of the compiled code), or null for uninstrumented code. */
  runtime: unknown;
  /** The runtime's pointer class (`$P`: compiled prologues pass pointer arguments by); absent for uninstrumented code. */
  pointerClass?: unknown;
  /** `console` as the program sees it. */
  console: ProgramConsole;
  /** `Math` as the program sees it. */
  math: Math;
  /** Coverage counters of the module (runs per statement, entries per unsafe region), or null. */
  lineHits: Float64Array | null;
  unsafeHits: Float64Array | null;
}

/**
 * Creates `mod`'s namespace in `namespaces` (before running it, so an import cycle finds it) and
 * runs the module's body with `env`; `importModule` resolves its imports.
 */
export function evaluateModule(
  mod: ProgramModule,
  namespaces: Map<string, Namespace>,
  importModule: (key: string) => Namespace,
  env: ModuleEnv,
): Namespace {
  const kit = guestRealm().kit;
  const ns: Namespace = Object.create(null);
  namespaces.set(mod.source.path, ns);
  const define = (getters: Record<string, () => unknown>) => {
    for (const k of Object.keys(getters)) Object.defineProperty(ns, k, { get: getters[k], enumerable: true });
  };
  const star = (other: Namespace) => {
    for (const k of Object.keys(other)) {
      if (k !== "default" && !(k in ns)) Object.defineProperty(ns, k, { get: kit.forward(other, k), enumerable: true });
    }
  };
  const later = deferralGlobals(env.console, env.runtime as Reporter | null);
  // In FACTORY_PARAMS order, as an array literal and through `Reflect.apply` captured at load
  // (the program runs in its own frozen realm, guest-realm.ts, so it cannot reach kmiri's
  // `Array.prototype` or `Reflect` anyway). `this` is undefined, as at the top level of an ES
  // module (a method call would hand the program `mod`, and through it the factory).
  const args: OnePer<typeof FACTORY_PARAMS> = [
    env.runtime, importModule, define, star, env.lineHits, env.unsafeHits, GEN, G, wrap, wrapClass, wrapObj, sync,
    later.then, env.pointerClass ?? null, env.console, env.math, later.Promise, later.queueMicrotask, later.setTimeout, later.setInterval,
    later.setImmediate,
  ];
  apply(mod.factory, undefined, args);
  return ns;
}

// ── promises, microtasks and timers ─────────────────────────────────────────────────────────
//
// A callback queued with a promise, `queueMicrotask` or a timer runs after the code that queued
// it returned: after the thread, usually after the whole run, when nothing checks it any more
// and its undefined behaviour is never reported. The Machine has threads instead (`spawn`,
// `join`). So on the Machine the program's `Promise`, `queueMicrotask`, `setTimeout`,
// `setInterval` and `setImmediate` report `unsupported` at the call, and every compiled
// `x.then(...)`, `x.catch(...)` and `x.finally(...)` hands `x` to `$then` first, which reports a
// real promise (one a built-in made); the compiler rejects `async` functions and `await`.

/** What the deferral globals need of the Machine: its report function (ShimHost's). */
interface Reporter {
  report(kind: UBKind, message: string, options?: ReportOptions): never;
}

/** The globals the program sees that queue work for later, and the receiver check of `.then`. */
interface DeferralGlobals {
  then: (receiver: unknown, method: string) => unknown;
  Promise: unknown;
  queueMicrotask: unknown;
  setTimeout: unknown;
  setInterval: unknown;
  setImmediate: unknown;
}

/**
 * Natively, the same globals, throwing an error of the program's realm instead of reporting: the
 * host's timers are not the program's to have (they would run its callbacks after the run, in
 * kmiri's realm's event loop).
 */
function nativeRefuse(what: string): never {
  throw new (guestRealm().global.Error as ErrorConstructor)(`${what} queues a callback to run later: ${NO_DEFERRAL}`);
}

const NO_DEFERRAL =
  "promises, microtasks and timers are not supported: the Machine runs threads, use `spawn` and `join`";

/** Per instantiation (Machine or native linker: one console each). */
const deferralByConsole = new WeakMap<object, DeferralGlobals>();

/**
 * The deferral globals of one Machine, or of one native instantiation when `host` is null (one
 * set for all its modules, so `Promise` is one value), keyed by its `console`.
 */
function deferralGlobals(key: object, host: Reporter | null): DeferralGlobals {
  let g = deferralByConsole.get(key);
  if (g) return g;
  const refuse = host === null ? nativeRefuse : (what: string): never =>
    host.report("unsupported", `${what} queues a callback to run later: ${NO_DEFERRAL}`, {
      title: "unsupported operation",
      label: "unsupported operation occurred here",
      help: [
        {
          message:
            "a queued callback runs after the code that queued it returned, often after the run ended, when kmiri checks nothing any more",
        },
      ],
    });
  g = makeDeferralGlobals(refuse);
  deferralByConsole.set(key, g);
  return g;
}

/**
 * The deferral globals, made in the program's realm (guest-kit.ts), each calling `refuse` with
 * what was called. `Promise` is a constructor (so `x instanceof Promise` works, false for
 * everything) whose every operation refuses: `new Promise(...)`, `Promise.resolve(...)`,
 * `Promise.prototype.then.call(...)`, ...
 */
function makeDeferralGlobals(refuse: (what: string) => never): DeferralGlobals {
  const kit = guestRealm().kit;
  const method = (name: string, what: string) => kit.bridge(() => refuse(what), name);
  const P = kit.bridgeNew((isNew: boolean) => refuse(isNew ? "`new Promise`" : "`Promise`"), "Promise", 1) as unknown as Record<string, unknown>;
  for (const k of ["resolve", "reject", "all", "allSettled", "any", "race", "withResolvers", "try"]) {
    Object.defineProperty(P, k, { value: method(k, `\`Promise.${k}\``), writable: true, configurable: true });
  }
  const proto = kit.object();
  for (const k of ["then", "catch", "finally"]) {
    Object.defineProperty(proto, k, { value: method(k, `\`Promise.prototype.${k}\``), writable: true, configurable: true });
  }
  Object.defineProperty(proto, "constructor", { value: P, writable: true, configurable: true });
  Object.defineProperty(P, "prototype", { value: proto, writable: false });
  return {
    then: (receiver, name) => (types.isPromise(receiver) ? refuse(`\`.${name}\` on a promise`) : receiver),
    Promise: P,
    queueMicrotask: method("queueMicrotask", "`queueMicrotask`"),
    setTimeout: method("setTimeout", "`setTimeout`"),
    setInterval: method("setInterval", "`setInterval`"),
    setImmediate: method("setImmediate", "`setImmediate`"),
  };
}
