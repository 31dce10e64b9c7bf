/**
 * The realm program code runs in: a V8 context of its own (`node:vm`), separate from kmiri's.
 *
 * What the program finds there: the ECMAScript built-ins and nothing else — no `process`, no
 * `require`, no module loader, no timers, no `console` of its own (the Machine hands it one), no
 * `Promise`, `Atomics`, `SharedArrayBuffer`, `WebAssembly`, `WeakRef` or `FinalizationRegistry`
 * (work queued for later, blocking waits, garbage-collector timing). Code generation from strings
 * (`eval`, `Function("...")`, also through a constructor reached from any function) throws an
 * `EvalError`. Microtasks of the realm wait in a queue of its own that kmiri never runs
 * (`microtaskQueue: "afterEvaluate"`, and kmiri compiles but never evaluates scripts there), so
 * no callback can run after the code that queued it.
 *
 * One realm per process (per worker thread), *frozen* before any program runs: every built-in
 * reachable from its global object (and the anonymous ones: iterator and generator prototypes,
 * `%ThrowTypeError%`, ...) is `Object.freeze`d; the global object (which V8 does not let freeze)
 * gets read-only, permanent properties, and what a program adds to it is deleted before the next
 * run ({@link GuestRealm.resetGlobals}). So no program can change what the next one sees (a
 * replaced `Array.prototype.push`, an `Error.prepareStackTrace`, a global variable), as with
 * SES's `lockdown`; a program's own objects, classes and module state are its own, instantiated
 * per Machine.
 *
 * What kmiri hands the program must not lead back to kmiri's realm: a function of kmiri's realm
 * reaches kmiri's `Function` through `.constructor`, an object kmiri's `Object.prototype`. So:
 * - the runtime's exported classes, functions and constants are *admitted* ({@link GuestRealm.admit}):
 *   their prototypes are moved onto the guest's `Object.prototype` / `Function.prototype` (same
 *   behaviour, the program's realm) and they are frozen;
 * - what kmiri makes for the program at run time is made by the kit (guest-kit.ts), evaluated in
 *   this realm: wrappers, `console`, namespace getters, plain objects and arrays;
 * - engine objects (allocations, threads, the Machine) are held in private fields.
 *
 * @module
 */
import vm from "node:vm";
import { types } from "node:util";
import { guestKit, type GuestKit } from "./guest-kit.js";
import { setValueRealm } from "./memory/layouts.js";

const HOST_OBJECT_PROTO = Object.prototype;
const HOST_FUNCTION_PROTO = Function.prototype;

/** Globals of a V8 context that the program must not have (see the module comment). */
const REMOVED_GLOBALS = [
  "console",
  "Promise",
  "Atomics",
  "SharedArrayBuffer",
  "WebAssembly",
  "WeakRef",
  "FinalizationRegistry",
  "eval",
] as const;

/** The realm programs run in; see the module comment. */
/** A no-op `__name`, for function text compiled by an esbuild-based runner (see its use). */
const KEEP_NAMES = "const __name = (f) => f;\n";

export class GuestRealm {
  /** The V8 context. */
  readonly context: vm.Context;
  /** The realm's global object. */
  readonly global: Record<string, any>;
  /** The helpers compiled code uses, made in this realm. */
  readonly kit: GuestKit;
  /** Host intrinsic prototype → the guest's (what {@link admit} moves objects onto). */
  private readonly protoMap = new Map<object, object>();
  /** Every prototype and constructor of kmiri's realm's built-ins: never frozen or moved by {@link admit}. */
  private readonly hostIntrinsics = new Set<object>();
  /** The guest's built-in prototypes (the values of {@link protoMap}). */
  private readonly guestProtos = new Set<object>();
  /** Objects already admitted or belonging to the guest. */
  private readonly admitted = new WeakSet<object>();
  /** The global object's own keys after setup (see {@link resetGlobals}). */
  private readonly globalNames: Set<PropertyKey>;

  constructor() {
    // `microtaskQueue` (Node ≥ 14.6) is missing from the option type of @types/node 20.
    const options = {
      name: "kmiri program",
      codeGeneration: { strings: false, wasm: false },
      microtaskQueue: "afterEvaluate",
    } as vm.CreateContextOptions;
    this.context = vm.createContext(Object.create(null), options);
    this.global = vm.runInContext("globalThis", this.context) as Record<string, any>;
    const g = this.global;
    // Built-ins that have no global name, for the freeze below and the prototype map.
    // (`__name`: what esbuild-based runners — tsx, vitest — add to functions whose name they keep;
    // the text of a function compiled by them calls it, and the realm has none.)
    const anonymous = vm.compileFunction(`${KEEP_NAMES}return (${anonymousIntrinsics.toString()})();`, [], {
      parsingContext: this.context,
    })() as object[];
    this.kit = vm.compileFunction(`${KEEP_NAMES}return (${guestKit.toString()})();`, [], {
      parsingContext: this.context,
      filename: "kmiri://kit",
    })() as GuestKit;
    for (const name of REMOVED_GLOBALS) delete g[name];
    // A context's global object cannot be frozen (V8 refuses): its properties are made read-only
    // and permanent (with their values: a descriptor without one would store `undefined`), and
    // what a program adds is deleted before the next runs (resetGlobals).
    for (const k of Reflect.ownKeys(g)) {
      const d = Reflect.getOwnPropertyDescriptor(g, k);
      if (d !== undefined && "value" in d) {
        Object.defineProperty(g, k, { value: d.value, writable: false, enumerable: d.enumerable, configurable: false });
      }
    }
    this.globalNames = new Set(Reflect.ownKeys(g));
    freezeGraph([...Reflect.ownKeys(g).map((k) => g[k as string]), ...anonymous], g);
    setValueRealm(g.Array, g.Object.prototype);
    for (const name of Object.getOwnPropertyNames(globalThis)) {
      const host = (globalThis as Record<string, unknown>)[name];
      if (typeof host !== "function") continue;
      this.hostIntrinsics.add(host);
      const proto = (host as { prototype?: unknown }).prototype;
      if (typeof proto === "object" && proto !== null) {
        this.hostIntrinsics.add(proto);
        const guest = g[name]?.prototype;
        if (typeof guest === "object" && guest !== null) this.protoMap.set(proto, guest);
      }
    }
    this.protoMap.set(Function.prototype, g.Function.prototype);
    // The anonymous ones pairwise, up their prototype chains (%GeneratorFunction.prototype%,
    // %GeneratorPrototype%, %IteratorPrototype%, %ArrayIteratorPrototype%, ...).
    const hostAnonymous = anonymousIntrinsics();
    hostAnonymous.forEach((h, i) => {
      let hp = Object.getPrototypeOf(h) as object | null;
      let gp = Object.getPrototypeOf(anonymous[i]) as object | null;
      while (hp !== null && gp !== null && hp !== Object.prototype) {
        this.hostIntrinsics.add(hp);
        this.protoMap.set(hp, gp);
        hp = Object.getPrototypeOf(hp);
        gp = Object.getPrototypeOf(gp);
      }
    });
    for (const guest of this.protoMap.values()) this.guestProtos.add(guest);
  }

  /**
   * Deletes the global variables a program added (`globalThis.x = 1`): called before each
   * Machine instantiates a program, so that no run sees what an earlier one left.
   */
  resetGlobals(): void {
    const g = this.global;
    for (const k of Reflect.ownKeys(g)) if (!this.globalNames.has(k)) delete g[k as string];
  }

  /**
   * Compiles a function body in this realm: `params` are its parameters, `filename` the URL stack
   * traces show. Positions in stack traces are those of `body` (line 1, column 1 is its start).
   */
  compile(body: string, params: readonly string[], filename: string): (...args: unknown[]) => unknown {
    return vm.compileFunction(body, [...params], { parsingContext: this.context, filename }) as (
      ...args: unknown[]
    ) => unknown;
  }

  /**
   * Makes a graph of kmiri's objects safe to hand the program: every object and function
   * reachable from `root` through own properties (values, accessors, symbol keys) and prototypes
   * whose prototype is a built-in prototype of kmiri's realm gets the guest's instead
   * (`Object.prototype`, `Function.prototype`, `Array.prototype`, `Map.prototype`, ...), and is
   * frozen (unless `freeze` is false: a layout the program made at run time, whose objects are
   * its own). Idempotent; objects of the guest realm are left alone. Throws for a prototype that is
   * one of kmiri's built-ins with no guest counterpart (kmiri's bug: nothing to hand the program).
   */
  admit(root: unknown, freeze = true): void {
    const stack: unknown[] = [root];
    while (stack.length > 0) {
      const o = stack.pop();
      if ((typeof o !== "object" && typeof o !== "function") || o === null) continue;
      if (this.admitted.has(o) || types.isProxy(o)) continue;
      if (isNamespace(o)) {
        // A module's exports (read through the namespace: a loader may define them as getters).
        this.admitted.add(o);
        for (const k of Reflect.ownKeys(o)) {
          const d = Reflect.getOwnPropertyDescriptor(o, k)!;
          stack.push((o as Record<PropertyKey, unknown>)[k], d.get, d.set);
        }
        continue;
      }
      if (this.hostIntrinsics.has(o)) throw new Error(`kmiri internal error: a built-in of kmiri's realm would be handed to the program`);
      this.admitted.add(o);
      const proto = Object.getPrototypeOf(o) as object | null;
      // Made by the program (or the kit): its own. (An instance of an admitted class is not: its
      // prototype is the class's, and its records may still be kmiri's.)
      if (proto !== null && this.guestProtos.has(proto)) continue;
      if (proto !== null) {
        const guest = this.protoMap.get(proto);
        if (guest !== undefined) Object.setPrototypeOf(o, guest);
        else if (this.hostIntrinsics.has(proto)) {
          throw new Error(`kmiri internal error: cannot hand the program an object whose prototype is kmiri's ${describeProto(proto)}`);
        } else stack.push(proto);
      }
      for (const k of Reflect.ownKeys(o)) {
        const d = Reflect.getOwnPropertyDescriptor(o, k)!;
        if ("value" in d) stack.push(d.value);
        else stack.push(d.get, d.set);
      }
      if (freeze) Object.freeze(o);
    }
  }

  /**
   * True when `v` is an object made in kmiri's realm and not admitted — its prototype chain
   * reaches kmiri's `Object.prototype` or `Function.prototype` — something the program must never
   * hold (an error kmiri threw, an engine object). Runs none of the program's code (a Proxy is
   * the program's).
   */
  isHostObject(v: unknown): boolean {
    for (let p: unknown = v; (typeof p === "object" || typeof p === "function") && p !== null; p = Object.getPrototypeOf(p)) {
      if (types.isProxy(p)) return false;
      if (p === HOST_OBJECT_PROTO || p === HOST_FUNCTION_PROTO) return true;
    }
    return false;
  }
}

/**
 * Built-ins without a global name, one instance each (evaluated in both realms: its source runs in
 * the guest's too, so it must be self-contained).
 */
function anonymousIntrinsics(): object[] {
  return [
    function* () {},
    async function () {},
    async function* () {},
    (function* () {})(),
    [][Symbol.iterator](),
    new Map().entries(),
    new Set().values(),
    ""[Symbol.iterator](),
    /a/[Symbol.matchAll](""),
    Object.getOwnPropertyDescriptor(Function.prototype, "caller")!,
  ];
}

/**
 * True for a module namespace: V8's, or the null-prototype object a module runner (vitest's) makes
 * for one, tagged `Module`.
 */
function isNamespace(o: object): boolean {
  if (types.isModuleNamespaceObject(o)) return true;
  if (Object.getPrototypeOf(o) !== null) return false;
  const tag = Reflect.getOwnPropertyDescriptor(o, Symbol.toStringTag);
  return tag !== undefined && tag.value === "Module";
}

function describeProto(proto: object): string {
  const c = (proto as { constructor?: { name?: unknown } }).constructor;
  return typeof c?.name === "string" ? `${c.name}.prototype` : "built-in prototype";
}

/** `Object.freeze` on everything reachable from `roots` through own properties and prototypes, but `except`. */
function freezeGraph(roots: readonly unknown[], except: object): void {
  const seen = new Set<object>([except]);
  const stack = [...roots];
  while (stack.length > 0) {
    const o = stack.pop();
    if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
    seen.add(o);
    Object.freeze(o);
    stack.push(Object.getPrototypeOf(o));
    for (const k of Reflect.ownKeys(o)) {
      const d = Reflect.getOwnPropertyDescriptor(o, k);
      if (d === undefined) continue;
      if ("value" in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
  }
}

let realm: GuestRealm | undefined;

/** The guest realm of this process (this worker thread), made on first use. */
export function guestRealm(): GuestRealm {
  return (realm ??= new GuestRealm());
}
