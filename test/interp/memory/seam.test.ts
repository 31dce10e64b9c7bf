// The memory seam (src/interp/memory/seam.ts): a Memory works without a Machine, and reaches its
// host, its borrow and race hooks, its resolvers and its pointer factory only through what it is
// given. Each test drives a real Memory and reads what the hooks saw.
import { describe, expect, test } from "vitest";
import { UBStop, type ReportOptions, type UBKind } from "../../../src/interp/report.js";
import { Memory, standaloneHost } from "../../../src/interp/memory/memory.js";
import { indirectMarker, WILDCARD, type Allocation } from "../../../src/interp/memory/allocation.js";
import { AtomicU32, ptr, u32, u64 } from "../../../src/interp/memory/layouts.js";
import type { MemoryHost, RaceHook, SeamAllocation } from "../../../src/interp/memory/seam.js";

function kindOf(f: () => unknown): UBKind | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof UBStop) return e.report.kind;
    throw e;
  }
  return undefined;
}

describe("a Memory on its own", () => {
  test("checks loads and stores; a finding throws a UBStop named after the host's actor", () => {
    const mem = new Memory({ host: standaloneHost(() => ({ kind: "device", id: 2, name: "virtio-blk" })) });
    const a = mem.allocate(8, 8, "heap", -1);
    expect(kindOf(() => mem.load(a.base, a, u32))).toBe("uninit");
    mem.store(a.base, a, u64, 5n);
    expect(mem.load(a.base, a, u64)).toBe(5n);
    expect(kindOf(() => mem.store(a.base + 4, a, u64, 1n))).toBe("out-of-bounds");
    expect(kindOf(() => mem.load(a.base + 1, a, u32))).toBe("misaligned");
    expect(mem.load(a.base + 1, a, u32, false)).toBe(0);
    mem.deallocate(mem.checkDealloc(a.base, a, 8, 8), -1);
    try {
      mem.load(a.base, a, u64);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UBStop);
      expect((e as UBStop).report).toMatchObject({ kind: "use-after-free", thread: "virtio-blk" });
    }
    expect(kindOf(() => mem.checkDealloc(a.base, a, 8, 8))).toBe("double-free");
  });

  test("reports through its host, at the host's site, with locations from it", () => {
    const seen: { kind: UBKind; message: string; options?: ReportOptions; site: number }[] = [];
    let site = 7;
    const host: MemoryHost = {
      currentSite: () => site,
      siteLocation: (s) => ({ file: "guest.s", line: s, column: 1 }),
      report(kind, message, options) {
        seen.push({ kind, message, options, site });
        throw new Error("stop");
      },
    };
    const mem = new Memory({ host });
    site = 3;
    const a = mem.allocate(4, 4, "heap", site);
    site = 9;
    mem.deallocate(a, site);
    site = 11;
    expect(() => mem.load(a.base, a, u32)).toThrow("stop");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: "use-after-free", site: 11 });
    const help = seen[0].options?.help ?? [];
    expect(help.filter((h) => h.location).map((h) => [h.message, h.location?.line])).toEqual([
      [`alloc${a.id} was allocated here:`, 3],
      [`alloc${a.id} was deallocated here:`, 9],
    ]);
  });
});

describe("the analyses' hooks", () => {
  test("the borrow hook sees accesses to tracked allocations that the fast test does not settle", () => {
    const calls: unknown[][] = [];
    const mem = new Memory({ borrows: { access: (kind, alloc, tag, off, size, site) => void calls.push([kind, alloc.id, tag, off, size, site]) } });
    const plain = mem.allocate(8, 4, "heap", -1, true);
    mem.store(plain.base, plain, u32, 1, true, 5);
    expect(calls).toEqual([]); // not tracked: `borrows` slot empty
    const t = mem.allocate(8, 4, "heap", -1, true);
    t.borrows = {}; // a tracker's state
    t.borrowRead = 9; // tag 9 reads and writes without changing anything
    t.borrowWrite = 9;
    mem.store(t.base, t, u32, 1, true, 9);
    mem.load(t.base + 4, t, u32, true, 9);
    expect(calls).toEqual([]);
    mem.store(t.base + 4, t, u32, 2, true, 4);
    mem.load(t.base, t, u32, true, 4);
    mem.atomicLoad(t.base, t, AtomicU32, "Acquire", 4);
    expect(calls).toEqual([
      ["write", t.id, 4, 4, 4, -1],
      ["read", t.id, 4, 0, 4, -1],
      ["read", t.id, 4, 0, 4, -1],
    ]);
  });

  test("the race hook: nothing while inactive; allocations, frees, accesses and atomics while active", () => {
    const log: string[] = [];
    const hook: RaceHook & { active: boolean } = {
      active: false,
      allocated: (a) => void log.push(`alloc ${a.id}`),
      freed: (a) => void log.push(`free ${a.id}`),
      read: (a, off, size) => void log.push(`read ${a.id}+${off}/${size}`),
      write: (a, off, size) => void log.push(`write ${a.id}+${off}/${size}`),
      atomic: (a, off, size, kind, ord) => void log.push(`${kind} ${ord} ${a.id}+${off}/${size}`),
    };
    const mem = new Memory({ races: hook });
    const a = mem.allocate(8, 4, "heap", -1, true);
    mem.store(a.base, a, u32, 1);
    expect(log).toEqual([]);
    hook.active = true;
    const b = mem.allocate(4, 4, "heap", -1, true);
    mem.store(a.base + 4, a, u32, 2);
    expect(mem.load(a.base + 4, a, u32)).toBe(2);
    mem.atomicStore(a.base, a, AtomicU32, 3, "Release");
    expect(mem.atomicRmw(a.base, a, AtomicU32, (x) => x + 1, "AcqRel")).toBe(3);
    expect(mem.compareExchange(a.base, a, AtomicU32, 9, 0, "SeqCst", "Relaxed")).toEqual({ ok: false, value: 4 });
    expect(mem.compareExchange(a.base, a, AtomicU32, 4, 0, "SeqCst", "Relaxed")).toEqual({ ok: true, value: 4 });
    mem.copy(a.base, a, b.base, b, 4, true);
    mem.deallocate(b, -1);
    expect(log).toEqual([
      `alloc ${b.id}`,
      `write ${a.id}+4/4`,
      `read ${a.id}+4/4`,
      `store Release ${a.id}+0/4`,
      `rmw AcqRel ${a.id}+0/4`,
      `load Relaxed ${a.id}+0/4`,
      `rmw SeqCst ${a.id}+0/4`,
      `read ${a.id}+0/4`,
      `write ${b.id}+0/4`,
      `free ${b.id}`,
    ]);
  });
});

describe("resolvers and the pointer factory", () => {
  test("an indirect provenance is resolved on the slow path by the resolvers, then the memory's own", () => {
    const mem = new Memory();
    const ram = mem.allocate(64, 8, "ram", -1, true);
    const phys = indirectMarker(); // e.g. Mirch's linear map: addresses of `ram`, reached without its provenance
    const asked: [number, number][] = [];
    mem.addResolver((addr, size, marker) => {
      if (marker !== phys) return undefined;
      asked.push([addr, size]);
      return addr >= ram.base && addr < ram.base + ram.size ? ram : null;
    });
    mem.store(ram.base + 8, phys, u32, 42);
    expect(mem.load(ram.base + 8, ram, u32)).toBe(42);
    expect(asked).toEqual([[ram.base + 8, 4]]);
    expect(kindOf(() => mem.load(ram.base + 64, phys, u32))).toBe("no-provenance"); // outside: the resolver says none
    // Wildcards fall through to the memory's own rule: the exposed allocation at the address.
    expect(kindOf(() => mem.load(ram.base, WILDCARD, u32))).toBe("no-provenance");
    ram.exposed = true;
    expect(mem.load(ram.base + 8, WILDCARD, u32)).toBe(42);
  });

  test("a ptr read from memory is what the pointer factory makes, provenance and tag kept", () => {
    const made: unknown[] = [];
    const mem = new Memory({
      pointer: (address, provenance, _layout, tag) => {
        const p = { address, provenance, tag, mine: true };
        made.push(p);
        return p;
      },
    });
    const target = mem.allocate(4, 4, "heap", -1, true);
    const slot = mem.allocate(8, 8, "heap", -1, true);
    const P = ptr(u32);
    mem.store(slot.base, slot, P, { address: target.base + 2, provenance: target, tag: 6 } as never);
    const back = mem.load(slot.base, slot, P) as unknown as { address: number; provenance: Allocation; tag: number; mine: boolean };
    expect(back).toEqual({ address: target.base + 2, provenance: target, tag: 6, mine: true });
    expect(made).toHaveLength(1);
    const asInt = mem.load(slot.base, slot, u64);
    expect(asInt).toBe(BigInt(target.base + 2)); // read as an integer: the address only
    const seamView: SeamAllocation = target;
    expect(seamView.race).toBeNull();
  });
});
