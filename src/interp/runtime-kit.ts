/**
 * The helpers every compiled module receives (see compile/instrument.ts), as kmiri's modules use
 * them: the kit of the guest realm (guest-kit.ts has their source and documentation; they are made
 * in the program's realm, see guest-realm.ts).
 */
import type { GenFn, Wrapped } from "./guest-kit.js";
import { guestRealm } from "./guest-realm.js";

export type { GenFn, Wrapped } from "./guest-kit.js";

const kit = guestRealm().kit;

declare const GenKey: unique symbol;

/** Key under which a wrapper keeps its generator function. */
export const GEN: typeof GenKey = kit.GEN as typeof GenKey;

/** `x instanceof G` is true exactly for generator objects (of the program's realm). */
export const G: () => void = kit.G;

/** Runs a program generator to completion without giving up the CPU (calls from built-ins, constructors, getters). */
export const sync: (gen: Generator<unknown, unknown, unknown>) => unknown = kit.sync;

/** A plain function that runs `g` synchronously, carrying `g` for instrumented callers. */
export const wrap: (g: GenFn) => Wrapped = kit.wrap;

/** Wraps the generator methods of a class (prototype and static). Returns the class. */
export const wrapClass: <C extends Function>(cls: C) => C = kit.wrapClass;

/** Wraps the generator methods of an object literal. Returns the object. */
export const wrapObj: <O extends object>(obj: O) => O = kit.wrapObj;

/** How deep the running thread is inside generators driven by {@link sync} (it cannot block there). */
export function syncDepth(): number {
  return kit.syncState.depth;
}

/** Resets the depth (a thread switch never happens inside `sync`, but a stop may unwind it). */
export function resetSyncDepth(): void {
  kit.syncState.depth = 0;
}

/**
 * What {@link sync} does when the generator it drives yields: the Machine installs a check that
 * a shim did not block the thread there (it cannot be suspended inside a built-in's callback).
 */
export const syncHooks: { yielded: () => void } = kit.syncState;
