/**
 * The helpers compiled program code calls, as *source*: {@link guestKit} is never called in
 * kmiri's realm. The guest realm (guest-realm.ts) evaluates its text (`guestKit.toString()`) inside
 * the program's realm, so that every function and object the helpers make for the program — a
 * wrapper around a program function, a namespace getter, `console.log` — belongs to the program's
 * realm and leads nowhere else, and the generator-aware built-ins are the program's own
 * `Array.prototype.map`, ...
 *
 * So the function must be self-contained: it refers to no import, no module-level name and no
 * global of kmiri's realm (only the globals of the realm it runs in, captured on entry, before
 * the realm is frozen). Its TypeScript types are erased; what remains must be plain ES2022.
 *
 * What the helpers do (see compile/instrument.ts): how a function compiled to a generator is
 * called from generator code (`GEN`), from plain code and from built-ins (`wrap`, `sync`), and how
 * a call site recognises a generator it must delegate to (`G`); plus the realm's factories for
 * what kmiri hands the program: bridges to kmiri functions ({@link GuestKit.bridge}), plain
 * objects and arrays, namespace getters.
 */

export type GenFn = ((...args: any[]) => Generator<unknown, unknown, unknown>) & { [key: symbol]: never };
export type Wrapped = ((...args: any[]) => unknown) & { [key: symbol]: GenFn };

/** What {@link guestKit} returns: the helpers, all made in the realm that evaluated it. */
export interface GuestKit {
  /** Key under which a wrapper keeps its generator function. */
  readonly GEN: symbol;
  /** `x instanceof G` is true exactly for generator objects. */
  readonly G: () => void;
  /** Runs a program generator to completion without giving up the CPU (calls from built-ins). */
  readonly sync: (gen: Generator<unknown, unknown, unknown>) => unknown;
  /** A plain function that runs `g` synchronously, carrying `g` under {@link GEN} for instrumented callers. */
  readonly wrap: (g: GenFn) => Wrapped;
  /** Wraps the generator methods of a class (prototype and static). Returns the class. */
  readonly wrapClass: <C extends Function>(cls: C) => C;
  /** Wraps the generator methods of an object literal. Returns the object. */
  readonly wrapObj: <O extends object>(obj: O) => O;
  /** How deep the running thread is inside generators driven by {@link sync}, and the hook `sync` calls when one yields. */
  readonly syncState: { depth: number; yielded: () => void };
  /**
   * A function of the program's realm that calls `host` (a kmiri function) with its `this` and
   * arguments and returns what it returns: `host` itself is unreachable from it.
   */
  readonly bridge: (host: (...args: any[]) => unknown, name: string, length?: number) => (...args: any[]) => unknown;
  /** {@link bridge}, but `host` gets first whether the call was `new f(...)`. */
  readonly bridgeNew: (host: (isNew: boolean, ...args: any[]) => unknown, name: string, length?: number) => (...args: any[]) => unknown;
  /** A getter of the program's realm reading `source[key]` (a live re-export). */
  readonly forward: (source: Record<PropertyKey, unknown>, key: PropertyKey) => () => unknown;
  /** `{}` of the program's realm. */
  readonly object: () => Record<PropertyKey, unknown>;
  /** `new Array(length)` of the program's realm. */
  readonly array: (length: number) => unknown[];
  /** `Object.create(proto, descriptors)` of the program's realm. */
  readonly create: (proto: object | null, descriptors?: PropertyDescriptorMap) => Record<PropertyKey, unknown>;
}

/**
 * The kit's source (see the module comment): evaluated in the program's realm by guest-realm.ts.
 * Never call it in kmiri's realm (its built-in hooks would land on kmiri's own `Array.prototype`).
 */
export function guestKit(): GuestKit {
  "use strict";
  const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, create } = Object;
  const { apply, ownKeys } = Reflect;
  const isArray = Array.isArray;
  const GEN = Symbol("kmiri.gen");
  const GeneratorFunctionPrototype = getPrototypeOf(function* () {});
  const G = function G() {};
  G.prototype = GeneratorFunctionPrototype.prototype;

  const syncState = { depth: 0, yielded: () => {} };

  function sync(gen: Generator<unknown, unknown, unknown>): unknown {
    syncState.depth++;
    try {
      let r = gen.next();
      while (!r.done) {
        syncState.yielded();
        r = gen.next(r.value);
      }
      return r.value;
    } finally {
      syncState.depth--;
    }
  }

  function wrap(g: GenFn): Wrapped {
    const w = function (this: unknown, ...args: unknown[]) {
      return sync(apply(g, this, args) as Generator<unknown, unknown, unknown>);
    } as unknown as Wrapped;
    defineProperty(w, GEN, { value: g, writable: true, enumerable: true, configurable: true });
    defineProperty(w, "name", { value: g.name });
    defineProperty(w, "length", { value: g.length });
    return w;
  }

  const isGeneratorFunction = (v: unknown): v is GenFn =>
    typeof v === "function" && getPrototypeOf(v) === GeneratorFunctionPrototype;

  function wrapMethods(target: object): void {
    for (const key of ownKeys(target)) {
      const d = getOwnPropertyDescriptor(target, key);
      if (d && "value" in d && isGeneratorFunction(d.value)) {
        defineProperty(target, key, { ...d, value: wrap(d.value) });
      }
    }
  }

  function wrapClass<C extends Function>(cls: C): C {
    wrapMethods(cls.prototype);
    wrapMethods(cls);
    return cls;
  }

  function wrapObj<O extends object>(obj: O): O {
    wrapMethods(obj);
    return obj;
  }

  // ── generator-aware built-ins ───────────────────────────────────────────────────────────
  //
  // An instrumented call site in a generator calls `f[GEN]` when a function has one. Giving the
  // callback-taking methods of arrays, maps and sets a generator version under `GEN` lets a
  // callback that blocks or is preempted (`handles.map((h) => h.join())`) suspend the thread like
  // any other program call. Only instrumented code looks up `GEN`; everything else sees the
  // built-ins unchanged.

  type Callback = ((...args: unknown[]) => unknown) & { [key: symbol]: GenFn | undefined };

  function* invoke(cb: Callback, thisArg: unknown, args: unknown[]): Generator<unknown, unknown, unknown> {
    const g = cb[GEN];
    if (g) return yield* apply(g, thisArg, args) as Generator<unknown, unknown, unknown>;
    if (typeof cb !== "function") throw new TypeError(`${String(cb)} is not a function`);
    const r = apply(cb, thisArg, args);
    return r instanceof G ? yield* r as Generator<unknown, unknown, unknown> : r;
  }

  type ArrayLikeThis = { length: number; [i: number]: unknown };
  type GenMethod = (this: ArrayLikeThis, cb: Callback, ...rest: unknown[]) => Generator<unknown, unknown, unknown>;

  const arrayMethods: Record<string, GenMethod> = {
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
      for (let i = 0; i < n; i++) if (i in this && (yield* invoke(cb, thisArg, [this[i], i, this]))) out[out.length] = this[i];
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
        if (isArray(r)) for (let j = 0; j < r.length; j++) out[out.length] = r[j];
        else out[out.length] = r;
      }
      return out;
    },
  };

  const defineGen = (fn: unknown, g: unknown) => defineProperty(fn as object, GEN, { value: g, configurable: true });
  const ArrayProto = Array.prototype as unknown as Record<string, unknown>;
  for (const name of ownKeys(arrayMethods) as string[]) {
    if (typeof ArrayProto[name] === "function") defineGen(ArrayProto[name], arrayMethods[name]);
  }

  /** `Map.prototype.forEach` / `Set.prototype.forEach`: over a snapshot of the entries. */
  function* collectionForEach(this: Map<unknown, unknown> | Set<unknown>, cb: Callback, thisArg?: unknown) {
    for (const [k, v] of [...this.entries()] as [unknown, unknown][]) yield* invoke(cb, thisArg, [v, k, this]);
  }
  defineGen(Map.prototype.forEach, collectionForEach);
  defineGen(Set.prototype.forEach, collectionForEach);

  // ── what kmiri hands the program ────────────────────────────────────────────────────────

  function bridge(host: (...args: any[]) => unknown, name: string, length = 0) {
    const f = function (this: unknown, ...args: unknown[]) {
      return apply(host, this, args);
    };
    defineProperty(f, "name", { value: name });
    defineProperty(f, "length", { value: length });
    return f;
  }

  function bridgeNew(host: (isNew: boolean, ...args: any[]) => unknown, name: string, length = 0) {
    const f = function (this: unknown, ...args: unknown[]) {
      return apply(host, this, [new.target !== undefined, ...args]);
    };
    defineProperty(f, "name", { value: name });
    defineProperty(f, "length", { value: length });
    return f;
  }

  const forward = (source: Record<PropertyKey, unknown>, key: PropertyKey) =>
    function () {
      return source[key];
    };

  return {
    GEN,
    G,
    sync,
    wrap,
    wrapClass,
    wrapObj,
    syncState,
    bridge,
    bridgeNew,
    forward,
    object: () => ({}),
    array: (length: number) => new Array(length),
    create: (proto: object | null, descriptors?: PropertyDescriptorMap) => create(proto, descriptors ?? {}),
  };
}
