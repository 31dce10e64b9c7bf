/**
 * The helpers every compiled module receives (see compile/instrument.ts): how a function compiled
 * to a generator is called from generator code (`$GEN`), from plain code and from built-ins
 * (`$wrap`, `$sync`), and how a call site recognises a generator it must delegate to (`$G`).
 */

/** Key under which a wrapper keeps its generator function. */
export const GEN: unique symbol = Symbol("kmiri.gen");

const GeneratorFunctionPrototype = Object.getPrototypeOf(function* () {});
const GeneratorPrototype = GeneratorFunctionPrototype.prototype;

/**
 * `x instanceof G` is true exactly for generator objects (V8 makes `instanceof` with a plain
 * function's `prototype` a fast prototype-chain check).
 */
export function G(): void {}
G.prototype = GeneratorPrototype;

/** How deep the running thread is inside generators driven by {@link sync} (it cannot block there). */
export let syncDepth = 0;

/** Resets {@link syncDepth} (a thread switch never happens inside `sync`, but a stop may unwind it). */
export function resetSyncDepth(): void {
  syncDepth = 0;
}

/**
 * Runs a program generator to completion without giving up the CPU: for calls from built-ins,
 * constructors and getters, which cannot yield. A scheduling point inside is deferred to the next
 * one outside; a blocking operation inside reports `unsupported` (the shim checks {@link syncDepth}).
 */
export function sync(gen: Generator<unknown, unknown, unknown>): unknown {
  syncDepth++;
  try {
    let r = gen.next();
    while (!r.done) {
      syncHooks.yielded();
      r = gen.next(r.value);
    }
    return r.value;
  } finally {
    syncDepth--;
  }
}

/**
 * What {@link sync} does when the generator it drives yields: the Machine installs a check that
 * a shim did not block the thread there (it cannot be suspended inside a built-in's callback).
 */
export const syncHooks = { yielded: (): void => {} };

export type GenFn = ((...args: any[]) => Generator<unknown, unknown, unknown>) & { [GEN]?: never };
export type Wrapped = ((...args: any[]) => unknown) & { [GEN]: GenFn };

/** A plain function that runs `g` synchronously, carrying `g` for instrumented callers. */
export function wrap(g: GenFn): Wrapped {
  const w = function (this: unknown, ...args: unknown[]) {
    return sync(g.apply(this, args));
  } as Wrapped;
  w[GEN] = g;
  Object.defineProperty(w, "name", { value: g.name });
  Object.defineProperty(w, "length", { value: g.length });
  return w;
}

function isGeneratorFunction(v: unknown): v is GenFn {
  return typeof v === "function" && Object.getPrototypeOf(v) === GeneratorFunctionPrototype;
}

/** Replaces the generator methods of `target` (own, non-accessor properties) with wrappers. */
function wrapMethods(target: object): void {
  for (const key of Reflect.ownKeys(target)) {
    const d = Object.getOwnPropertyDescriptor(target, key);
    if (d && "value" in d && isGeneratorFunction(d.value)) {
      Object.defineProperty(target, key, { ...d, value: wrap(d.value) });
    }
  }
}

/** Wraps the generator methods of a class (prototype and static). Returns the class. */
export function wrapClass<C extends Function>(cls: C): C {
  wrapMethods(cls.prototype);
  wrapMethods(cls);
  return cls;
}

/** Wraps the generator methods of an object literal. Returns the object. */
export function wrapObj<O extends object>(obj: O): O {
  wrapMethods(obj);
  return obj;
}

// ── generator-aware built-ins ─────────────────────────────────────────────────────────────
//
// An instrumented call site in a generator calls `f[GEN]` when a function has one. Giving the
// callback-taking methods of arrays, maps and sets a generator version under `GEN` lets a
// callback that blocks or is preempted (`handles.map((h) => h.join())`) suspend the thread like
// any other program call. Only instrumented code looks up `GEN`; everything else sees the
// built-ins unchanged.

type Callback = ((...args: unknown[]) => unknown) & { [GEN]?: GenFn };

/** Calls a callback from generator code: delegating to its generator when it has one. */
function* invoke(cb: Callback, thisArg: unknown, args: unknown[]): Generator<unknown, unknown, unknown> {
  const g = cb[GEN];
  if (g) return yield* g.apply(thisArg, args);
  if (typeof cb !== "function") throw new TypeError(`${String(cb)} is not a function`);
  const r = cb.apply(thisArg, args);
  return r instanceof G ? yield* r as Generator<unknown, unknown, unknown> : r;
}

type ArrayLikeThis = { length: number; [i: number]: unknown };

const arrayMethods: Record<string, (this: ArrayLikeThis, cb: Callback, ...rest: unknown[]) => Generator<unknown, unknown, unknown>> = {
  *forEach(cb, thisArg) {
    const n = this.length;
    for (let i = 0; i < n; i++) if (i in this) yield* invoke(cb, thisArg, [this[i], i, this]);
  },
  *map(cb, thisArg) {
    const n = this.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) if (i in this) out[i] = yield* invoke(cb, thisArg, [this[i], i, this]);
    return out;
  },
  *filter(cb, thisArg) {
    const out: unknown[] = [];
    const n = this.length;
    for (let i = 0; i < n; i++) if (i in this && (yield* invoke(cb, thisArg, [this[i], i, this]))) out.push(this[i]);
    return out;
  },
  *some(cb, thisArg) {
    const n = this.length;
    for (let i = 0; i < n; i++) if (i in this && (yield* invoke(cb, thisArg, [this[i], i, this]))) return true;
    return false;
  },
  *every(cb, thisArg) {
    const n = this.length;
    for (let i = 0; i < n; i++) if (i in this && !(yield* invoke(cb, thisArg, [this[i], i, this]))) return false;
    return true;
  },
  *find(cb, thisArg) {
    const n = this.length;
    for (let i = 0; i < n; i++) if (yield* invoke(cb, thisArg, [this[i], i, this])) return this[i];
    return undefined;
  },
  *findIndex(cb, thisArg) {
    const n = this.length;
    for (let i = 0; i < n; i++) if (yield* invoke(cb, thisArg, [this[i], i, this])) return i;
    return -1;
  },
  *findLast(cb, thisArg) {
    for (let i = this.length - 1; i >= 0; i--) if (yield* invoke(cb, thisArg, [this[i], i, this])) return this[i];
    return undefined;
  },
  *findLastIndex(cb, thisArg) {
    for (let i = this.length - 1; i >= 0; i--) if (yield* invoke(cb, thisArg, [this[i], i, this])) return i;
    return -1;
  },
  *reduce(cb, ...init) {
    const n = this.length;
    let i = 0;
    let acc: unknown;
    if (init.length) acc = init[0];
    else {
      while (i < n && !(i in this)) i++;
      if (i >= n) throw new TypeError("Reduce of empty array with no initial value");
      acc = this[i++];
    }
    for (; i < n; i++) if (i in this) acc = yield* invoke(cb, undefined, [acc, this[i], i, this]);
    return acc;
  },
  *reduceRight(cb, ...init) {
    let i = this.length - 1;
    let acc: unknown;
    if (init.length) acc = init[0];
    else {
      while (i >= 0 && !(i in this)) i--;
      if (i < 0) throw new TypeError("Reduce of empty array with no initial value");
      acc = this[i--];
    }
    for (; i >= 0; i--) if (i in this) acc = yield* invoke(cb, undefined, [acc, this[i], i, this]);
    return acc;
  },
  *flatMap(cb, thisArg) {
    const out: unknown[] = [];
    const n = this.length;
    for (let i = 0; i < n; i++) {
      if (!(i in this)) continue;
      const r = yield* invoke(cb, thisArg, [this[i], i, this]);
      if (Array.isArray(r)) out.push(...r);
      else out.push(r);
    }
    return out;
  },
};

function defineGen(fn: unknown, g: unknown): void {
  Object.defineProperty(fn as object, GEN, { value: g, configurable: true });
}

for (const [name, g] of Object.entries(arrayMethods)) {
  const native = (Array.prototype as unknown as Record<string, unknown>)[name];
  if (typeof native === "function") defineGen(native, g);
}

/** `Map.prototype.forEach` / `Set.prototype.forEach`: over a snapshot of the entries. */
function* collectionForEach(this: Map<unknown, unknown> | Set<unknown>, cb: Callback, thisArg?: unknown) {
  for (const [k, v] of [...this.entries()] as [unknown, unknown][]) yield* invoke(cb, thisArg, [v, k, this]);
}
defineGen(Map.prototype.forEach, collectionForEach);
defineGen(Set.prototype.forEach, collectionForEach);
