/**
 * The checked runtime as the Machine takes it (`GuestRuntime`, src/interp/shim-host.ts): the
 * modules of every guest API by import name, built from the manifest (src/shims/manifest.ts), and
 * the runtime's hooks — how a Machine activates it, what a pointer read from memory becomes, the
 * function-entry retag of reference arguments. Only this object carries the checked brand, so a
 * Machine refuses the native `kmiri/rt` namespace.
 */
import { CHECKED_RUNTIME, type GuestRuntime } from "../../interp/shim-host.js";
import type { Machine } from "../../interp/machine.js";
import { GUEST_APIS } from "../manifest.js";
import { activate } from "./context.js";
import { findReferences, retagFound } from "./fn-entry.js";
import * as rt from "./index.js";
import * as mirch from "./mirch.js";
import { makePtr, Ptr, readPtr } from "./memory.js";

/** The namespace of each guest API, by the manifest's names. */
const NAMESPACES: Readonly<Record<string, object>> = { "kmiri/rt": rt, "kmiri/mirch": mirch };

/** The checked runtime: every guest API of the manifest, checked. */
export const checkedRuntime: GuestRuntime<Machine> = Object.freeze({
  [CHECKED_RUNTIME]: true as const,
  modules: Object.freeze(Object.fromEntries(GUEST_APIS.map((api) => [api.name, NAMESPACES[api.name] ?? {}]))),
  activate,
  pointer: makePtr,
  readPointer: readPtr,
  findReferences,
  pointerClass: Ptr,
  retagFound,
});
