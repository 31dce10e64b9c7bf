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
    while (!r.done) r = gen.next(r.value);
    return r.value;
  } finally {
    syncDepth--;
  }
}

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
