/**
 * Statics and locals on a fake Machine: where they live, what may be written, what needs an
 * unsafe region, and when a local dies.
 */
import { slotOfStatic } from "../../src/shims/checked/statics.js";
import { slotOfLocal } from "../../src/shims/checked/locals.js";
import { provenanceOf } from "../../src/shims/checked/memory.js";
import { beforeEach, describe, expect, it } from "vitest";
import * as checked from "../../src/shims/checked/index.js";
import { staticName } from "../../src/shims/checked/statics.js";
import { AtomicU32, cell, struct, u32, u8 } from "../../src/interp/memory/layouts.js";
import { expectUB, freshHost, type FakeHost } from "./refs-host.js";

let host: FakeHost;
beforeEach(() => {
  host = freshHost();
});

describe("static_", () => {
  it("makes an initialised static allocation that is never a leak", () => {
    host.site = 2;
    const s = checked.static_(u32, 7, { name: "LIMIT" });
    const a = provenanceOf(slotOfStatic(s))!;
    expect([a.kind, a.live, a.allocSite, a.writable]).toEqual(["static", true, 2, false]);
    expect(staticName(a)).toBe("LIMIT");
    expect(s.as_ref().read()).toBe(7);
    expect(s.read()).toBe(7);
    expect(host.memory.leaks()).toEqual([]);
  });

  it("reports a write through a raw pointer to an immutable static as read-only", () => {
    const s = checked.static_(u32, 7);
    expectUB(host, () => s.as_ptr().write(8), "read-only", `writing to ${provenanceOf(slotOfStatic(s))!.name} which is read-only`);
    expectUB(host, () => checked.write_bytes(s.as_ptr(), 0, 1), "read-only", `writing to ${provenanceOf(slotOfStatic(s))!.name} which is read-only`);
  });

  it("keeps a static with interior mutability writable (rustc places it in mutable memory)", () => {
    const Lock = struct("Lock", { locked: cell(u8), owner: u32 });
    const s = checked.static_(Lock, { locked: 0, owner: 1 });
    expect(provenanceOf(slotOfStatic(s))!.writable).toBe(true);
    s.as_ref().field("locked").get().write(1);
    expect(s.read()).toEqual({ locked: 1, owner: 1 });
    expect(provenanceOf(slotOfStatic(checked.static_(AtomicU32, 0)))!.writable).toBe(true);
  });

  it("refuses &mut and assignment of an immutable static, as rustc does", () => {
    host.site = 3;
    const s = checked.static_(u32, 7, { name: "LIMIT" });
    host.site = 5;
    const r = expectUB(host, () => s.as_mut(), "read-only", "cannot borrow immutable static item `LIMIT` as mutable");
    expect(r.options.title).toBe("error[E0596]");
    expect(r.options.help![0]).toMatchObject({ message: expect.stringMatching(/^alloc\d+ is the static `LIMIT`, defined here:$/), location: { line: 3 } });
    const w = expectUB(host, () => s.write(1), "read-only", "cannot assign to immutable static item `LIMIT`");
    expect(w.options.title).toBe("error[E0594]");
    expectUB(host, () => checked.static_(u8, 0).as_mut(), "read-only", "cannot borrow immutable static item as mutable");
  });

  it("requires an unsafe region for every use of a static mut except taking its address", () => {
    const s = checked.static_(u32, 1, { mut: true, name: "TICKS" });
    host.unsafe = false;
    const msg = "use of mutable static is unsafe and requires unsafe block";
    const r = expectUB(host, () => s.as_ref(), "unsafe-outside-unsafe", msg);
    expect(r.options.title).toBe("error[E0133]");
    expectUB(host, () => s.as_mut(), "unsafe-outside-unsafe", msg);
    expectUB(host, () => s.read(), "unsafe-outside-unsafe", msg);
    expectUB(host, () => s.write(2), "unsafe-outside-unsafe", msg);
    const p = s.as_ptr(); // `&raw mut TICKS` is safe
    host.unsafe = true;
    p.write(p.read() + 1);
    s.as_mut().write(s.as_ref().read() + 1);
    s.write(s.read() + 1);
    expect(s.read()).toBe(4);
  });
});

describe("local", () => {
  it("is a stack slot that dies when its function returns, freed at the function's site", () => {
    let p: checked.Ptr<number> | undefined;
    host.call(20, () => {
      host.site = 21;
      const x = checked.local(u32, 5);
      expect(provenanceOf(slotOfLocal(x))!.kind).toBe("stack");
      host.unsafe = false; // direct use and references are safe
      x.write(x.read() + 1);
      x.as_mut().write(x.as_ref().read() * 2);
      expect(x.read()).toBe(12);
      host.unsafe = true;
      p = x.as_ptr();
      expect(p.read()).toBe(12);
    });
    const a = provenanceOf(p!)!;
    expect([a.live, a.freeSite]).toEqual([false, 20]);
    host.site = 30;
    const r = expectUB(host, () => p!.read(), "use-after-free", `memory access failed: ${a.name} has been freed, so this pointer is dangling`);
    expect(r.options.help!.filter((h) => h.location).map((h) => [h.message, h.location!.line])).toEqual([
      [`${a.name} was allocated here:`, 21],
      [`${a.name} was deallocated here:`, 20],
    ]);
  });

  it("reports a reference to a dead local, when used or reborrowed", () => {
    const r = host.call(1, () => checked.local(u32, 5).as_ref());
    expectUB(host, () => r.read(), "use-after-free", /has been freed, so this pointer is dangling$/);
    expectUB(host, () => r.reborrow(), "use-after-free", "constructing invalid value of type &u32: encountered a dangling reference (use-after-free)");
  });

  it("reports the variable itself used after its function returned", () => {
    const x = host.call(7, () => checked.local(u32, 5));
    for (const use of [() => x.read(), () => x.write(1), () => x.as_ref(), () => x.as_mut(), () => x.as_ptr()]) {
      const r = expectUB(host, use, "use-after-free", "accessing a dead local variable");
      expect(r.options.help!.filter((h) => h.location).map((h) => h.location!.line)).toEqual([1, 7]);
    }
  });

  it("starts uninitialised without an initial value", () => {
    host.call(1, () => {
      const x = checked.local(u32);
      expectUB(host, () => x.read(), "uninit", /^reading memory at alloc\d+\[0x0\.\.0x4\], but memory is uninitialized at \[0x0\.\.0x4\]/);
      x.write(3);
      expect(x.read()).toBe(3);
    });
  });

  it("lives as long as the program at a module's top level", () => {
    host.instantiating = {};
    const x = checked.local(u32, 1);
    host.instantiating = null;
    expect(provenanceOf(slotOfLocal(x))!.live).toBe(true);
    expect(x.read()).toBe(1);
    expect(host.memory.leaks()).toEqual([]);
  });

  it("is unsupported where no function owns it", () => {
    expectUB(host, () => checked.local(u32, 1), "unsupported", /^`local` called where kmiri cannot tell which function owns the variable/);
  });

  it("cannot be freed with dealloc (stack memory)", () => {
    host.call(1, () => {
      const x = checked.local(u32, 1);
      expectUB(host, () => checked.dealloc(x.as_ptr(), u32), "bad-dealloc", /^deallocating alloc\d+, which is stack variable memory, using Rust heap deallocation operation$/);
    });
  });
});
