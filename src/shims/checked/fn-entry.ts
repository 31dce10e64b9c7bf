/**
 * Retags of references passed into and out of program functions, decided by the *values*, as
 * Rust decides them by the types (Miri's `FnEntry` retags and the retag of a call's result):
 *
 * - **On entry** (`$R.fa`, emitted by the compiler for every parameter whose declared type is not
 *   a primitive, see interp/compile/instrument.ts): a `Ref` argument gets a shared retag, a
 *   `RefMut` a unique one, both *strongly* protected until the function returns (no access
 *   through another pointer may invalidate them, their memory may not be freed); a `Box` gets a
 *   `box` retag, *weakly* protected (the callee may free it, through it). The type as written does
 *   not matter: a parameter typed through an alias (`type Guard = RefMut<u32>`), a closure's
 *   parameter whose type is inferred, or one typed `any` is retagged alike.
 * - **On return** (`$R.rv`): a returned reference gets a default retag (no protector; a returned
 *   `Box` does not, see {@link retagOne}):
 *   a `&mut` that was invalidated while the callee held it fails at the `return`, as Miri reports
 *   it where the caller's copy of the result is retagged, not at the caller's later use.
 * - **Inside aggregates** (Miri retags the fields of structs, tuples and arrays passed by value,
 *   `-Zmiri-retag-fields`, on by default): references held by an array or a *plain object*
 *   argument (an object literal, a struct value) are retagged too, in place (the callee's
 *   aggregate *is* the caller's in JavaScript; a Rust caller could not use a moved aggregate after
 *   the call anyway, and a shared reference left retagged is still valid for it). An instance of
 *   a class is not walked: JavaScript passes it as Rust passes `&self`, a reference to a struct
 *   whose fields are not retagged (a lock object holding its `Box` and a reference into it would
 *   otherwise have them retagged against each other). The walk is bounded so that passing a large
 *   array costs a bounded amount: {@link MAX_DEPTH} levels, {@link MAX_FIELDS} fields or elements
 *   per aggregate. It reads own enumerable properties (an enumerable *getter* of an argument
 *   therefore runs once more at the call) and skips kmiri's own objects (pointers, statics,
 *   locals, layouts, join handles) and typed arrays.
 *
 * Nothing is walked when no borrow tracker runs (`--borrow-model none`): the Machine does not call
 * these then.
 */
import { isLayout } from "../../interp/memory/layouts.js";
import { Local } from "./locals.js";
import { BoxImpl, boxRetag, Ptr } from "./memory.js";
import { borrow, Ref, RefMut, refPtr, refTag, withTag } from "./refs.js";
import { Static } from "./statics.js";
import { JoinHandle } from "./threads.js";

/** How deep a walk of an aggregate argument goes (the argument itself is depth 0). */
export const MAX_DEPTH = 2;
/** How many fields or elements of one aggregate a walk looks at. */
export const MAX_FIELDS = 16;

/** The references a walk found: holders and keys (`null` holder: the value itself). Reused. */
const holders: (object | null)[] = [];
const keys: (string | number)[] = [];

/**
 * The first half of the retags of a value passed to or returned from a program function: finds
 * the references and `Box`es it is or holds. Returns -1 when there are none, else a mark for
 * {@link retagFound}. Reading an aggregate's fields may run program code (a getter); nothing runs
 * program code after this, so the caller opens the call's protector scope in between.
 */
export function findReferences(value: unknown): number {
  if (isRetaggable(value)) return holders.length;
  if (typeof value !== "object" || value === null) return -1;
  const start = holders.length;
  collect(value, 1);
  if (holders.length === start) return -1;
  return start;
}

/**
 * The second half: retags what {@link findReferences} found (`mark` is what it returned) —
 * function-entry retags (protected) when `fnEntry`, else default ones. Returns the value, or a
 * new reference or `Box` when the value is one; references inside an aggregate are replaced in
 * place.
 */
export function retagFound(value: unknown, fnEntry: boolean, mark: number): unknown {
  if (isRetaggable(value)) return retagOne(value, fnEntry);
  const end = holders.length;
  try {
    for (let i = mark; i < end; i++) {
      const holder = holders[i] as Record<string | number, unknown>;
      const key = keys[i];
      // A frozen aggregate keeps its reference (the retag happened; the callee reads the old tag).
      Reflect.set(holder, key, retagOne(holder[key], fnEntry));
    }
  } finally {
    holders.length = mark;
    keys.length = mark;
  }
  return value;
}

function isRetaggable(v: unknown): v is Ref<unknown> | BoxImpl<unknown> {
  return v instanceof Ref || v instanceof BoxImpl;
}

/**
 * The retag of one reference (a `RefMut` is a `Ref` too) or `Box`. A returned `Box` is left alone:
 * Rust moves a returned `Box` out of the callee, but JavaScript returns a handle the callee may
 * keep (a getter returning a stored `Box` is Rust's `Deref` to it), and a `Unique` retag per
 * return would invalidate the handles returned before.
 */
function retagOne(v: unknown, fnEntry: boolean): unknown {
  if (v instanceof BoxImpl) return fnEntry ? new BoxImpl(boxRetag(v.raw, "fn-entry")) : v;
  const mode = fnEntry ? "fn-entry" : "default";
  if (v instanceof RefMut) return withTag(RefMut, refPtr(v), borrow(refPtr(v), true, refTag(v), mode));
  if (v instanceof Ref) return withTag(Ref, refPtr(v), borrow(refPtr(v), false, refTag(v), mode));
  return v;
}

/** Objects a walk does not enter: kmiri's own, and containers whose contents are not fields. */
function opaque(o: object): boolean {
  return (
    o instanceof Ptr ||
    o instanceof Static ||
    o instanceof Local ||
    o instanceof JoinHandle ||
    ArrayBuffer.isView(o) ||
    isLayout(o)
  );
}

/**
 * Frozen aggregates known to hold no reference at any depth: a walk skips them. Programs pass the
 * same frozen constants (configuration objects, tables of constants) to many calls; a frozen
 * object's data properties cannot change, so once every field is a primitive, a function or
 * another such object, no later walk can find anything in it. An object with an accessor (whose
 * getter may return something else next time) or more fields than a walk reads is never entered.
 */
const clean = new WeakSet<object>();

/** Records the references among `o`'s fields (and its fields' fields, to {@link MAX_DEPTH}). */
function collect(o: object, depth: number): void {
  if (clean.has(o)) return;
  const before = holders.length;
  let complete: boolean;
  if (Array.isArray(o)) {
    const n = o.length < MAX_FIELDS ? o.length : MAX_FIELDS;
    complete = o.length <= MAX_FIELDS;
    for (let i = 0; i < n; i++) complete = visit(o, i, o[i], depth) && complete;
  } else {
    // A plain object only: its prototype is some realm's `Object.prototype` (whose own prototype is
    // null), or null. A class instance is passed like `&self` (see the module comment).
    const proto = Object.getPrototypeOf(o) as object | null;
    if (proto !== null && Object.getPrototypeOf(proto) !== null) return;
    if (opaque(o)) return;
    let seen = 0;
    complete = true;
    for (const k in o) {
      if (++seen > MAX_FIELDS) return;
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      complete = visit(o, k, (o as Record<string, unknown>)[k], depth) && complete;
    }
  }
  if (complete && holders.length === before && Object.isFrozen(o) && dataOnly(o)) clean.add(o);
}

/** Whether every own property of `o` is a data property (no getter to give another value later). */
function dataOnly(o: object): boolean {
  const descriptors = Object.getOwnPropertyDescriptors(o) as Record<string | symbol, PropertyDescriptor>;
  for (const k of Reflect.ownKeys(descriptors)) if (!("value" in descriptors[k]!)) return false;
  return true;
}

/**
 * Looks at one field: records it when it is a reference or `Box`, walks it when it is an
 * aggregate. Returns whether the field is known to hold nothing, at any depth (a primitive, a
 * function, or a {@link clean} aggregate).
 */
function visit(holder: object, key: string | number, v: unknown, depth: number): boolean {
  if (typeof v !== "object" || v === null) return true;
  if (isRetaggable(v)) {
    holders.push(holder);
    keys.push(key);
    return false;
  }
  if (depth < MAX_DEPTH) collect(v, depth + 1);
  return clean.has(v);
}
