/**
 * What the program threw, and where: read without running any of the program's code.
 *
 * Where an exception was raised comes from V8's stack trace: compiled modules carry a
 * `kmiri://module/<index>/<file>` URL, their text keeps the module's line numbers, and the
 * splicer maps columns back; the loader's source map does the rest.
 *
 * A thrown value is the program's, and the program may have made it hostile: a Proxy (whose traps
 * run on `instanceof` or any property read, and throw once revoked), an error whose `name`,
 * `message` or `stack` is a getter that throws, an object whose `toString` or inspect hook
 * throws, a `Symbol`. It may also have set `Error.prepareStackTrace` (which V8 calls when a stack
 * is first read, and which may throw, or forge frames), or replaced the global `Error`. So kmiri
 * reads a thrown value only through property descriptors (never a getter, trap or `toString`),
 * formats stacks with its own formatter (installed for the read, then the program's restored),
 * and describes what it cannot read safely ("a Proxy", "[`message` is a getter, not called]").
 * None of the functions here throws.
 */
import { inspect, types } from "node:util";
import type { CompiledProgram } from "./compile/index.js";
import { MODULE_URL_PREFIX } from "./compile/index.js";
import type { SourceLocation } from "./report.js";
import { guestRealm } from "./guest-realm.js";

const FRAME = new RegExp(`${MODULE_URL_PREFIX.replace(/[/.]/g, "\\$&")}(\\d+)/[^:]*:(\\d+):(\\d+)`);

// The intrinsics this module relies on, captured before any program runs (a program may replace
// `Reflect.apply`, `Error`, `Object.prototype.constructor`, ... in the realm it shares with kmiri).
const NativeError = Error;
const NativeRangeError = RangeError;
const globalObject = globalThis;
const getOwn = Reflect.getOwnPropertyDescriptor;
const defineOwn = Reflect.defineProperty;
const deleteOwn = Reflect.deleteProperty;
const getProto = Reflect.getPrototypeOf;
const ownKeys = Reflect.ownKeys;
const apply = Reflect.apply;
const isArray = Array.isArray;
const { isProxy, isNativeError, isRegExp } = types;
const ObjectProto = Object.prototype;
const ErrorProto = Error.prototype;
/** True in a process started with `--frozen-intrinsics`. */
const FROZEN_INTRINSICS = Object.isFrozen(NativeError);
/**
 * The prototypes of kmiri's realm's errors: under `--frozen-intrinsics` Node turns their data
 * properties (`name`, `message`, ...) into accessors, which run no program code.
 */
const HOST_ERROR_PROTOS = new Set<object>(
  [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].map((C) => C.prototype),
);
const hasInstanceIntrinsic = (Function.prototype as unknown as Record<symbol, unknown>)[Symbol.hasInstance];
const toStringTag = Symbol.toStringTag;
/** `CallSite.prototype.toString` (V8's frame text), or undefined if it could not be captured. */
const callSiteToString = captureCallSiteToString();

/** The `.ts` position of the innermost program frame of `e`'s stack, if it has one. */
export function programLocationOfError(program: CompiledProgram, e: unknown): SourceLocation | undefined {
  const stack = stackOf(e);
  if (stack === undefined) return undefined;
  const m = FRAME.exec(stack);
  if (!m) return undefined;
  const mod = program.modules[Number(m[1])];
  if (!mod) return undefined;
  const line = Number(m[2]);
  const column = Number(m[3]) - 1;
  const code = mod.compiled.code;
  let offset = 0;
  for (let l = 1; l < line; l++) offset = code.indexOf("\n", offset) + 1;
  const jsOffset = mod.compiled.toJsOffset(offset + column);
  const js = mod.source.js;
  let jsLine = 1;
  let lineStart = 0;
  for (let i = js.indexOf("\n"); i !== -1 && i < jsOffset; i = js.indexOf("\n", i + 1)) {
    jsLine++;
    lineStart = i + 1;
  }
  const p = mod.source.toSource(jsLine, jsOffset - lineStart);
  return { file: mod.source.displayPath, line: p.line, column: p.column };
}

/**
 * True when the innermost frame that is not a built-in's belongs to kmiri rather than the program.
 * Only an error V8 or kmiri made has a stack kmiri trusts: a Proxy, a non-error, or an error
 * whose `stack` the program redefined is never kmiri's.
 */
export function raisedByKmiri(e: unknown): boolean {
  const stack = stackOf(e);
  if (stack === undefined) return false;
  for (const line of stack.split("\n").slice(1)) {
    if (line.includes(MODULE_URL_PREFIX)) return false;
    if (/\((node:|<anonymous>|native)|at (node:|<anonymous>|native)/.test(line)) continue;
    if (/at .*[/\\]/.test(line)) return true;
  }
  return false;
}

/**
 * The stack of an error (an object V8 made an error: `new Error`, a `TypeError` it raised), as
 * kmiri formats it — whatever `Error.prepareStackTrace` the program set — or undefined: not an
 * error, a Proxy, a `stack` the program redefined as a getter, or a stack that cannot be read
 * without running program code. The first read formats the stack, and V8 keeps that text.
 */
export function stackOf(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || isProxy(e) || !isNativeError(e)) return undefined;
  return withKmiriStackFormat(() => {
    const d = getOwn(e, "stack");
    return d !== undefined && "value" in d && typeof d.value === "string" ? d.value : undefined;
  });
}

/**
 * What the program threw, as a panic message: a string as it is; an error as `Name: message`
 * (`message` alone for a plain `Error`); other values as `console.log` shows them — when that
 * runs none of the program's code; otherwise described without reading them ("a Proxy").
 */
export function describeThrown(e: unknown): string {
  return describe(e, true);
}

/** {@link describeThrown}, but an error always as `Name: message` (kmiri's internal errors). */
export function describeError(e: unknown): string {
  return describe(e, false);
}

/**
 * `v instanceof C`, without running program code: a Proxy (or one in `v`'s prototype chain) is
 * no instance. For kmiri's own classes, whose `Symbol.hasInstance` the program cannot reach.
 */
export function isInstance<T>(v: unknown, C: abstract new (...args: never[]) => T): v is T {
  if ((typeof v !== "object" && typeof v !== "function") || v === null) return false;
  const target = C.prototype;
  try {
    for (let p: object | null = v, i = 0; p !== null && i < 10_000; i++) {
      if (isProxy(p)) return false;
      p = getProto(p);
      if (p === target) return true;
    }
  } catch {
    /* not an instance */
  }
  return false;
}

/** The host's stack overflow (a RangeError V8 raised): not a Proxy, not a program's look-alike with a `message` getter. */
export function isStackOverflowError(e: unknown): boolean {
  if (typeof e !== "object" || e === null || isProxy(e) || !isNativeError(e)) return false;
  // V8 raises it in the realm of the function whose frame did not fit: kmiri's or the program's.
  if (!isInstance(e, NativeRangeError) && !isInstance(e, guest.RangeError)) return false;
  const m = readProp(e, "message");
  return m.kind === "data" && typeof m.value === "string" && /call stack/i.test(m.value);
}

// ── reading without running program code ───────────────────────────────────────────────────

/** The same intrinsics in the program's realm (guest-realm.ts), where its errors are made. */
const guest = (() => {
  const g = guestRealm().global;
  return {
    RangeError: g.RangeError as RangeErrorConstructor,
    ErrorProto: g.Error.prototype as object,
    ObjectProto: g.Object.prototype as object,
    hasInstance: (g.Function.prototype as Record<symbol, unknown>)[Symbol.hasInstance],
  };
})();

/** A property as its descriptors say: a value, a getter (not called), absent, or behind a Proxy. */
type Prop = { kind: "data"; value: unknown } | { kind: "getter" } | { kind: "absent" } | { kind: "proxy" };

/** Looks `key` up along `o`'s prototype chain by descriptors alone. */
function readProp(o: object, key: PropertyKey): Prop {
  for (let p: object | null = o, i = 0; p !== null && i < 10_000; p = getProto(p), i++) {
    if (isProxy(p)) return { kind: "proxy" };
    const d = getOwn(p, key);
    if (d !== undefined) {
      if ("value" in d) return { kind: "data", value: d.value };
      if (FROZEN_INTRINSICS && HOST_ERROR_PROTOS.has(p) && typeof d.get === "function") return { kind: "data", value: apply(d.get, o, []) };
      return { kind: "getter" };
    }
  }
  return { kind: "absent" };
}

function describe(e: unknown, omitPlainErrorName: boolean): string {
  try {
    if (typeof e === "string") return e;
    // Symbols included: `String(symbol)` is a built-in conversion that calls nothing.
    if (e === null || (typeof e !== "object" && typeof e !== "function")) return String(e);
    if (isProxy(e)) return "a Proxy (kmiri does not run its traps to describe it)";
    if (isErrorLike(e)) return errorText(e, omitPlainErrorName);
    if (inspectsSafely(e, 3, { n: 1000 })) {
      const text = inspect(e, { colors: false, customInspect: false, getters: false, showProxy: false, depth: 2 });
      if (typeof text === "string") return text;
    }
    return shallow(e);
  } catch {
    return "a value kmiri could not describe";
  }
}

function isErrorLike(e: object): boolean {
  if (isNativeError(e)) return true;
  for (let p = getProto(e), i = 0; p !== null && i < 10_000; p = getProto(p), i++) {
    if (isProxy(p)) return false;
    if (p === ErrorProto || p === guest.ErrorProto) return true;
  }
  return false;
}

/** `Name: message` from data properties, as `Error.prototype.toString` would give it. */
function errorText(e: object, omitPlainErrorName: boolean): string {
  const field = (key: string, absent: string): string => {
    const p = readProp(e, key);
    if (p.kind === "absent") return absent;
    if (p.kind === "getter") return `[\`${key}\` is a getter, not called]`;
    if (p.kind === "proxy") return `[\`${key}\` is behind a Proxy, not read]`;
    const v = p.value;
    if (v === undefined) return absent;
    if (typeof v === "string") return v;
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return String(v);
    return "[an object]";
  };
  const name = field("name", "Error");
  const message = field("message", "");
  if (name === "Error" && omitPlainErrorName) return message;
  if (name === "") return message;
  if (message === "") return name;
  return `${name}: ${message}`;
}

/** A description of a value that is not described by its contents. */
function shallow(v: object): string {
  const nameOf = (f: unknown): string => {
    if (typeof f !== "function" || isProxy(f)) return "";
    const name = readProp(f, "name");
    return name.kind === "data" && typeof name.value === "string" ? name.value : "";
  };
  let what: string;
  if (typeof v === "function") {
    const name = nameOf(v);
    what = name ? `a function \`${name}\`` : "a function";
  } else {
    const ctor = readProp(v, "constructor");
    const cls = ctor.kind === "data" ? nameOf(ctor.value) : "";
    what = cls ? `an object of class \`${cls}\`` : "an object";
  }
  return `${what} (kmiri does not run the program's code to describe it)`;
}

/**
 * Whether `util.inspect` (without custom inspectors, without getters) formats `v` without running
 * program code: no Proxy, no error, no RegExp (`source`/`flags` may be getters), no `Map`/`Set`
 * (inspect iterates them), a safe prototype chain (see {@link safeChain}), functions with a
 * data `name`, and the same for every value inspect shows, `depth` levels down.
 */
function inspectsSafely(v: unknown, depth: number, budget: { n: number }): boolean {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return true;
  if (--budget.n < 0 || isProxy(v)) return false;
  if (typeof v === "function") {
    const name = readProp(v, "name");
    return (name.kind === "data" || name.kind === "absent") && safeChain(v);
  }
  if (isErrorLike(v) || isRegExp(v) || types.isMap(v) || types.isSet(v) || types.isModuleNamespaceObject(v)) return false;
  if (!safeChain(v)) return false;
  if (depth === 0) return true;
  for (const k of ownKeys(v)) {
    const d = getOwn(v, k);
    if (d === undefined || !("value" in d)) continue; // shown as [Getter], not called
    if (!inspectsSafely(d.value, depth - 1, budget)) return false;
  }
  return true;
}

/**
 * What inspect reads along a prototype chain runs no program code: no Proxy in it, no
 * `Symbol.toStringTag` getter, and each `constructor` (whose `name` inspect prints, after an
 * `instanceof` check) a plain function: a data `name`, the built-in `Symbol.hasInstance`.
 */
function safeChain(o: object): boolean {
  for (let p: object | null = o, i = 0; p !== null && i < 10_000; p = getProto(p), i++) {
    if (isProxy(p)) return false;
    const tag = getOwn(p, toStringTag);
    if (tag !== undefined && !("value" in tag)) return false;
    const c = getOwn(p, "constructor");
    if (c === undefined) continue;
    if (!("value" in c)) return false;
    const f = c.value;
    if (typeof f !== "function") continue;
    if (isProxy(f)) return false;
    const name = readProp(f, "name");
    if (name.kind !== "data" && name.kind !== "absent") return false;
    const hasInstance = readProp(f, Symbol.hasInstance);
    if (hasInstance.kind !== "data" || (hasInstance.value !== hasInstanceIntrinsic && hasInstance.value !== guest.hasInstance)) return false;
    if (p === ObjectProto || p === guest.ObjectProto) break;
  }
  return true;
}

// ── stack formatting ─────────────────────────────────────────────────────────────────────────

/**
 * Runs `f` with kmiri's stack formatter as `Error.prepareStackTrace` (and the global `Error` the
 * real one, which Node reads it from), then puts back what was there. Undefined when the program
 * made that impossible (non-configurable properties) or `f` threw.
 */
function withKmiriStackFormat<T>(f: () => T): T | undefined {
  // Under `--frozen-intrinsics` (the CLI's process, bin/kmiri.js) no program can have installed
  // a formatter, and kmiri cannot install its own: V8's formatting is the one to read.
  if (FROZEN_INTRINSICS) {
    try {
      return f();
    } catch {
      return undefined;
    }
  }
  const savedGlobal = getOwn(globalObject, "Error");
  const savedFormat = getOwn(NativeError, "prepareStackTrace");
  let globalSet = false;
  let formatSet = false;
  try {
    if (savedGlobal === undefined || !("value" in savedGlobal) || savedGlobal.value !== NativeError) {
      if (savedGlobal !== undefined && !savedGlobal.configurable) return undefined;
      globalSet = defineOwn(globalObject, "Error", { value: NativeError, writable: true, configurable: true, enumerable: false });
      if (!globalSet) return undefined;
    }
    formatSet =
      savedFormat !== undefined && !savedFormat.configurable
        ? "value" in savedFormat && savedFormat.writable === true && defineOwn(NativeError, "prepareStackTrace", { value: kmiriStackFormat })
        : defineOwn(NativeError, "prepareStackTrace", { value: kmiriStackFormat, writable: true, configurable: true, enumerable: false });
    if (!formatSet) return undefined;
    return f();
  } catch {
    return undefined;
  } finally {
    try {
      if (formatSet) {
        if (savedFormat === undefined) deleteOwn(NativeError, "prepareStackTrace");
        else defineOwn(NativeError, "prepareStackTrace", savedFormat);
      }
      if (globalSet) {
        if (savedGlobal === undefined) deleteOwn(globalObject, "Error");
        else defineOwn(globalObject, "Error", savedGlobal);
      }
    } catch {
      /* nothing more to put back */
    }
  }
}

/** V8's own format (`Name: message` and `    at ...` lines), with the first line read safely. */
function kmiriStackFormat(error: unknown, frames: unknown): string {
  let out = describe(error, false);
  if (callSiteToString !== undefined && isArray(frames)) {
    for (let i = 0; i < frames.length; i++) {
      try {
        out += `\n    at ${apply(callSiteToString, frames[i], []) as string}`;
      } catch {
        out += "\n    at <unknown>";
      }
    }
  }
  return out;
}

function captureCallSiteToString(): ((this: unknown) => string) | undefined {
  const savedFormat = getOwn(NativeError, "prepareStackTrace");
  const savedLimit = getOwn(NativeError, "stackTraceLimit");
  let proto: object | null = null;
  try {
    defineOwn(NativeError, "stackTraceLimit", { value: 1, writable: true, configurable: true, enumerable: true });
    defineOwn(NativeError, "prepareStackTrace", {
      value: (_e: unknown, frames: object[]) => {
        proto = frames.length ? getProto(frames[0]) : null;
        return "";
      },
      writable: true,
      configurable: true,
    });
    void new NativeError().stack;
    const d = proto === null ? undefined : getOwn(proto, "toString");
    return d !== undefined && typeof d.value === "function" ? (d.value as (this: unknown) => string) : undefined;
  } catch {
    return undefined;
  } finally {
    if (savedFormat === undefined) deleteOwn(NativeError, "prepareStackTrace");
    else defineOwn(NativeError, "prepareStackTrace", savedFormat);
    if (savedLimit === undefined) deleteOwn(NativeError, "stackTraceLimit");
    else defineOwn(NativeError, "stackTraceLimit", savedLimit);
  }
}
