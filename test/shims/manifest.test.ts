// The guest API manifest is the one place a guest API is declared: the loader, the compiler's
// yield analysis and both runtimes follow it.
import { describe, expect, test } from "vitest";
import { GUEST_APIS, GUEST_API_NAMES, MIRCH_API } from "../../src/shims/manifest.js";
import { checkedRuntime } from "../../src/shims/checked/runtime.js";
import { nativeModules } from "../../src/shims/native/runtime.js";
import { BUILTIN_MODULES, resolveSpecifier } from "../../src/interp/loader/resolve.js";
import { NEVER_YIELDS, SCHEDULING_POINTS } from "../../src/interp/compile/yield-points.js";
import { isCheckedRuntime } from "../../src/interp/shim-host.js";
import * as checkedRt from "../../src/shims/checked/index.js";
import * as nativeRt from "../../src/shims/native/index.js";
import * as checkedMirch from "../../src/shims/checked/mirch.js";
import * as nativeMirch from "../../src/shims/native/mirch.js";

describe("the guest API manifest", () => {
  test("every guest API resolves as a builtin import, and nothing else does", () => {
    expect([...BUILTIN_MODULES].sort()).toEqual(GUEST_APIS.map((a) => a.name).sort());
    for (const name of GUEST_API_NAMES) expect(resolveSpecifier(name, "/x/main.ts")).toEqual({ kind: "builtin", name });
    expect(resolveSpecifier("kmiri/nope", "/x/main.ts")).toBeUndefined();
  });

  test("both runtimes provide a namespace for every guest API, and only the checked one is branded", () => {
    for (const api of GUEST_APIS) {
      expect(checkedRuntime.modules[api.name], api.name).toBeTypeOf("object");
      expect(nativeModules[api.name], api.name).toBeTypeOf("object");
    }
    expect(Object.keys(checkedRuntime.modules).sort()).toEqual([...GUEST_API_NAMES].sort());
    expect(Object.keys(nativeModules).sort()).toEqual([...GUEST_API_NAMES].sort());
    expect(checkedRuntime.modules["kmiri/rt"]).toBe(checkedRt);
    expect(nativeModules["kmiri/rt"]).toBe(nativeRt);
    expect(isCheckedRuntime(checkedRuntime)).toBe(true);
    expect(isCheckedRuntime(nativeModules)).toBe(false);
    expect(isCheckedRuntime(nativeRt)).toBe(false);
  });

  test("the compiler's scheduling points are the manifest's (plus output), and never the names that never yield", () => {
    for (const api of GUEST_APIS) {
      for (const n of api.schedulingPoints) expect(SCHEDULING_POINTS.has(n), n).toBe(true);
      for (const n of api.neverYields) expect(NEVER_YIELDS.has(n), n).toBe(true);
    }
    for (const n of SCHEDULING_POINTS) expect(NEVER_YIELDS.has(n), n).toBe(false);
    expect(SCHEDULING_POINTS.has("log")).toBe(true);
  });

  test("the checked and the native kmiri/rt export the same names", () => {
    expect(Object.keys(checkedRt).sort()).toEqual(Object.keys(nativeRt).sort());
  });

  test("the checked and the native kmiri/mirch export the same names, each function named by the manifest", () => {
    expect(Object.keys(checkedMirch).sort()).toEqual(Object.keys(nativeMirch).sort());
    const named = new Set([...MIRCH_API.schedulingPoints, ...MIRCH_API.neverYields]);
    const functions = Object.entries(checkedMirch).filter(([k, v]) => typeof v === "function" && !/^[A-Z]/.test(k)).map(([k]) => k);
    expect(functions.length).toBeGreaterThanOrEqual(50);
    expect(functions.filter((f) => !named.has(f))).toEqual([]);
  });
});
