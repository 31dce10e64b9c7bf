/**
 * Mirch on the Machine, part by part: each program runs checked and the report (kind, line) or
 * the clean output is read. The engine-free parts have their own tests (test/mirch/); the corpus
 * (test/corpus/*\/mirch) has the kernel-shaped programs.
 */
import { describe, expect, test } from "vitest";
import path from "node:path";
import { readFileSync } from "node:fs";
import { runFile, type RunOptions } from "../../src/driver/run.js";
import { runManySeeds } from "../../src/driver/many-seeds.js";
import { createMachine, mirch } from "../../src/index.js";
import { tempProgram } from "../support/temp-programs.js";

/** Helpers every program below may use: a bump frame allocator and a 4-level mapper. */
const PRELUDE = `
import { u8, u16, u32, u64, bool, Box, AtomicU32, AtomicBool, static_, spawn, spin_loop, yield_now, ptr_from_exposed } from "kmiri/rt";
import * as M from "kmiri/mirch";
const { PAGE_SIZE, PteFlags } = M;
let next = 0;
export function frame(): number {
  if (next === 0) next = M.memory_regions().find((r) => r.kind === "ram")!.start;
  const f = next;
  next += PAGE_SIZE;
  return f;
}
export function table(): number {
  const f = frame();
  unsafe: {
    M.alloc_pages(f, 1);
    M.retype_pages(f, 1, "page-table");
    M.memset_volatile(M.paddr_to_vaddr(f), 0, PAGE_SIZE);
  }
  return f;
}
const RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;
export function map(va: number, pa: number, flags = RW, root = M.current_page_table()): number {
  let t = root;
  for (let level = 4; level > 1; level--) {
    const e = M.phys_ptr(t + 8 * M.pte_index(va, level), u64);
    let v = 0;
    unsafe: { v = Number(e.read()); }
    if (v === 0) {
      const n = table();
      unsafe: { e.write(BigInt(M.pte_new(n, RW | (flags & PteFlags.USER)))); }
      t = n;
    } else t = M.pte_paddr(v);
  }
  const leaf = t + 8 * M.pte_index(va, 1);
  unsafe: { M.phys_ptr(leaf, u64).write(BigInt(M.pte_new(pa, flags))); }
  return leaf;
}
`;

/** Runs `body` (the inside of `main`, after the prelude) checked. */
async function run(body: string, options: RunOptions = {}) {
  const src = `${PRELUDE}\nexport function main(): void {\n${body}\n}\n`;
  const { dir } = tempProgram({ "main.ts": src }, "kmiri-mirch-");
  const r = await runFile(path.join(dir, "main.ts"), { typecheck: false, cwd: dir, ...options });
  const lines = src.split("\n");
  return {
    ...r,
    /** The kind of each report, and whether it is at the line marked `/*!*\/` (else its line). */
    found: r.ub.map((u) => [u.kind, lines[u.location.line - 1]?.includes("/*!*/") ? "marked" : u.location.line] as const),
  };
}

describe("boot and physical pages", () => {
  test("the boot map: reserved first MiB, the boot page table from 0x1000, the kernel image, RAM, MMIO holes", async () => {
    const r = await run(`
      for (const g of M.memory_regions()) console.log(g.kind, g.start.toString(16), g.end.toString(16));
      console.log(M.page_state(0).state, M.page_state(0x1000).state, M.page_state(0x300000).state);
      console.log(M.current_page_table() === M.boot_page_table(), M.current_page_table().toString(16));`);
    expect(r.ub).toEqual([]);
    expect(r.output[0]).toBe("reserved 0 1000");
    expect(r.output[1]).toMatch(/^boot-page-table 1000 [0-9a-f]+$/);
    expect(r.output).toContain("mmio fe000000 100000000");
    expect(r.output.at(-2)).toBe("reserved typed free");
    expect(r.output.at(-1)).toBe("true 1000");
  });

  test("4 GiB of RAM costs nothing until used, and RAM above the hole is remapped", async () => {
    const t0 = performance.now();
    const r = await run(`for (const g of M.memory_regions()) if (g.kind === "ram") console.log(g.start.toString(16), g.end.toString(16));`, { mirch: { ramBytes: 4 * 2 ** 30 } });
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["300000 fe000000", `100000000 ${(0x100000000 + 4 * 2 ** 30 - 0xfe000000).toString(16)}`]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  test("page-state transitions: double alloc, free of a free page, retype of a typed page", async () => {
    expect((await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); /*!*/ M.alloc_pages(f, 1); }`)).found).toEqual([["page-state", "marked"]]);
    expect((await run(`const f = frame(); unsafe: { /*!*/ M.dealloc_pages(f, 1); }`)).found).toEqual([["page-state", "marked"]]);
    expect((await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); M.retype_pages(f, 1, "slab"); /*!*/ M.retype_pages(f, 1, "stack"); }`)).found).toEqual([["page-state", "marked"]]);
  });

  test("untyped memory takes volatile accesses of plain data only", async () => {
    const ok = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); const p = M.phys_ptr(f, u32); p.write_volatile(7); console.log(p.read_volatile()); }`);
    expect(ok.ub).toEqual([]);
    expect(ok.output).toEqual(["7"]);
    expect((await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); const p = M.phys_ptr(f, u32);\n /*!*/ p.write(7); }`)).found).toEqual([["page-state", "marked"]]);
    expect((await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); const p = M.phys_ptr(f, bool);\n /*!*/ p.write_volatile(true); }`)).found).toEqual([["page-state", "marked"]]);
    expect((await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); const p = M.phys_ptr(f, u32);\n /*!*/ p.as_ref(); }`)).found).toEqual([["page-state", "marked"]]);
  });

  test("an access to a free page is page-state; RAM keeps its bytes across free and alloc", async () => {
    expect((await run(`const f = frame(); unsafe: {\n /*!*/ M.phys_ptr(f, u32).read_volatile(); }`)).found).toEqual([["page-state", "marked"]]);
    const r = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); M.phys_ptr(f, u32).write_volatile(99); M.dealloc_pages(f, 1); M.alloc_pages(f, 1); console.log(M.phys_ptr(f, u32).read_volatile()); }`);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["99"]);
  });

  test("freeing part of an allocation: the rest stays valid, the freed part dangles", async () => {
    const r = await run(`const f = frame(); frame(); frame(); unsafe: {
      M.alloc_pages(f, 3);
      const a = M.phys_ptr(f, u32), c = M.phys_ptr(f + 2 * PAGE_SIZE, u32), b = M.phys_ptr(f + PAGE_SIZE, u32);
      a.write_volatile(1); c.write_volatile(3);
      M.dealloc_pages(f + PAGE_SIZE, 1);
      console.log(a.read_volatile(), c.read_volatile());
      /*!*/ b.read_volatile(); }`);
    expect(r.output).toEqual(["1 3"]);
    expect(r.found).toEqual([["use-after-free", "marked"]]);
  });

  test("pieces left by a partial free keep their bytes and which of them are initialised, freed one page at a time", async () => {
    // Typed memory (retyped `slab`) so that a plain read of never-written bytes is `uninit`.
    const r = await run(`const f = frame(); for (let i = 1; i < 8; i++) frame(); unsafe: {
      M.alloc_pages(f, 8); M.retype_pages(f, 8, "slab");
      for (let i = 0; i < 8; i++) M.phys_ptr(f + i * PAGE_SIZE, u32).write(10 + i);
      for (let i = 0; i < 6; i++) M.dealloc_pages(f + i * PAGE_SIZE, 1);
      console.log(M.phys_ptr(f + 6 * PAGE_SIZE, u32).read(), M.phys_ptr(f + 7 * PAGE_SIZE, u32).read());
      /*!*/ M.phys_ptr(f + 7 * PAGE_SIZE + 4, u32).read(); }`);
    expect(r.output).toEqual(["16 17"]);
    expect(r.found).toEqual([["uninit", "marked"]]);
  });

  test("a retype with slot_size makes one allocation per slot; a pointer from before the retype dangles", async () => {
    const slots = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); M.retype_pages(f, 1, "slab", 64); const p = M.phys_ptr(f, u64);\n /*!*/ p.add(8).write(1n); }`);
    expect(slots.found).toEqual([["out-of-bounds", "marked"]]);
    const stale = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); const p = M.phys_ptr(f, u32); M.retype_pages(f, 1, "slab");\n /*!*/ p.read_volatile(); }`);
    expect(stale.found).toEqual([["use-after-free", "marked"]]);
  });

  test("typed memory is checked by Stacked Borrows like the heap", async () => {
    const r = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); M.retype_pages(f, 1, "slab"); const p = M.phys_ptr(f, u32); p.write(0);
      const r = p.as_mut(); p.write(1);
      /*!*/ r.write(2); }`);
    expect(r.found).toEqual([["stacked-borrows", "marked"]]);
  });
});

describe("page tables, CR3 and the TLB", () => {
  const MAPPED = `const data = frame(); unsafe { M.alloc_pages(data, 1); M.retype_pages(data, 1, "slab"); }
      const va = M.VMALLOC_BASE + 0x5000; const leaf = map(va, data); const p = ptr_from_exposed(va, u32);`.replace("unsafe {", "unsafe: {");

  test("a vmalloc mapping is translated at each access; an unmapped kernel address is a kernel page fault", async () => {
    const ok = await run(`${MAPPED} unsafe: { p.write(5); /*!*/ console.log(p.read(), M.phys_ptr(data, u32).read() === 5 ? "same" : "other", M.page_walk(va)!.paddr === data); }`);
    // (The second pointer reaches the page through the linear map: a typed page bound to its vmalloc address.)
    expect(ok.found).toEqual([["page-state", "marked"]]);
    const fault = await run(`const p = ptr_from_exposed(M.VMALLOC_BASE + 0x9000, u32); unsafe: {\n /*!*/ p.read(); }`);
    expect(fault.found).toEqual([["page-table", "marked"]]);
  });

  test("unmap and free without a TLB flush: stale-tlb at the next access; with the flush, a page fault", async () => {
    const stale = await run(`${MAPPED} unsafe: { p.write(5); M.phys_ptr(leaf, u64).write(0n); M.dealloc_pages(data, 1);\n /*!*/ p.read(); }`);
    expect(stale.found).toEqual([["stale-tlb", "marked"]]);
    const flushed = await run(`${MAPPED} unsafe: { p.write(5); M.phys_ptr(leaf, u64).write(0n); M.tlb_flush_addr(va); M.dealloc_pages(data, 1);\n /*!*/ p.read(); }`);
    expect(flushed.found).toEqual([["page-table", "marked"]]);
  });

  test("the CR3 write checks the tree: a user leaf mapping a typed page", async () => {
    const r = await run(`const root = table(); const data = frame(); unsafe: { M.alloc_pages(data, 1); M.retype_pages(data, 1, "slab"); }
      map(0x400000, data, PteFlags.VALID | PteFlags.READABLE | PteFlags.USER, root);
      unsafe: { /*!*/ M.activate_page_table(root); }`);
    expect(r.found).toEqual([["page-table", "marked"]]);
    const user = await run(`const root = table(); const data = frame(); unsafe: { M.alloc_pages(data, 1); M.memset_volatile(M.paddr_to_vaddr(data), 0x41, 16); }
      map(0x400000, data, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER, root);
      const k = frame(); unsafe: { M.alloc_pages(k, 1); M.activate_page_table(root);
      console.log(M.memcpy_fallible(M.paddr_to_vaddr(k), 0x400000, 8), M.memcpy_fallible(M.paddr_to_vaddr(k), 0x800000, 8), M.phys_ptr(k, u8).read_volatile()); }`);
    expect(user.ub).toEqual([]);
    expect(user.output).toEqual(["0 8 65"]);
  });
});

describe("MMIO, ports and devices", () => {
  const DEVICE = `let reg = 0;
    const d = M.attach_device({ name: "regs", mmio_read: (off: number) => (off === 0 ? 0xabcd : reg), mmio_write: (off: number, _s: number, v: number | bigint) => { reg = Number(v); } }, { mmio_len: 4096 });
    const base = d.mmio!.paddr; M.io_mem_claim(base, 16);`;

  test("volatile accesses reach the device's registers", async () => {
    const r = await run(`${DEVICE} unsafe: { M.phys_ptr(base + 4, u32).write_volatile(77); console.log(M.phys_ptr(base, u32).read_volatile().toString(16), M.phys_ptr(base + 4, u32).read_volatile(), base.toString(16)); }`);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["abcd 77 fe000000"]);
  });

  test("non-volatile, unaligned, past the claim, and overlapping claims are mmio", async () => {
    expect((await run(`${DEVICE} unsafe: {\n /*!*/ M.phys_ptr(base, u32).read(); }`)).found).toEqual([["mmio", "marked"]]);
    expect((await run(`${DEVICE} unsafe: {\n /*!*/ M.phys_ptr(base + 2, u32).read_volatile(); }`)).found).toEqual([["mmio", "marked"]]);
    expect((await run(`${DEVICE} unsafe: {\n /*!*/ M.phys_ptr(base + 16, u32).read_volatile(); }`)).found).toEqual([["mmio", "marked"]]);
    expect((await run(`${DEVICE}\n /*!*/ M.io_mem_claim(base + 8, 16);`)).found).toEqual([["mmio", "marked"]]);
  });

  test("the console on port 0x3f8 prints the run's output", async () => {
    const r = await run(`M.io_port_claim(0x3f8, 8); unsafe: { for (const c of "hi there\\n") M.port_write(0x3f8, 1, c.charCodeAt(0)); console.log(M.port_read(0x3f8 + 5, 1).toString(16)); }`);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["hi there", "60"]);
  });

  test("DMA: to an unmapped device address, and of a stream buffer the CPU wrote without a sync", async () => {
    const DMA = `const buf = frame(); unsafe: { M.alloc_pages(buf, 1); }
      const d = M.attach_device({ name: "dma", mmio_write: (_o: number, _s: number, v: number | bigint, dev: M.DeviceContext) => { dev.dma_read(Number(v), 4); } }, { mmio_len: 4096 });
      const bell = M.phys_ptr(d.mmio!.paddr, u32); M.io_mem_claim(d.mmio!.paddr, 4);`;
    expect((await run(`${DMA} unsafe: {\n /*!*/ bell.write_volatile(0x1000); }`)).found).toEqual([["dma", "marked"]]);
    const stream = `${DMA} unsafe: { M.iommu.map(0x1000, buf); M.dma_stream_begin(buf, 64, "to-device"); M.phys_ptr(buf, u32).write_volatile(1);`;
    expect((await run(`${stream}\n /*!*/ bell.write_volatile(0x1000); }`)).found).toEqual([["dma", "marked"]]);
    expect((await run(`${stream} M.dma_sync_for_device(buf, 64);\n /*!*/ bell.write_volatile(0x1000); M.dma_stream_end(buf, 64); M.iommu.unmap(0x1000); }`)).ub).toEqual([]);
    expect((await run(`${DMA} unsafe: { M.retype_pages(buf, 1, "slab");\n /*!*/ M.iommu.map(0x1000, buf); }`)).found).toEqual([["dma", "marked"]]);
    expect((await run(`${DMA} unsafe: { M.iommu.map(0x1000, buf);\n /*!*/ M.dealloc_pages(buf, 1); }`)).found).toEqual([["dma", "marked"]]);
  });

  test("a huge dealloc_pages count or tlb_flush_addr_range is reported or done at once, not after a walk of every page (fuzz)", async () => {
    const t0 = Date.now();
    const r = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1);\n /*!*/ M.dealloc_pages(f, 2 ** 30); }`);
    expect(r.found).toEqual([["page-state", "marked"]]);
    const f = await run(`M.tlb_flush_addr_range(M.VMALLOC_BASE, 2 ** 53); M.tlb_flush_addr_range(0, 2 ** 48); console.log("done");`);
    expect(f.ub).toEqual([]);
    expect(f.output).toEqual(["done"]);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  test("a device model whose handler does MMIO to itself is unsupported at the driver's access, not a stack exhaustion (fuzz)", async () => {
    const r = await run(`const d = M.attach_device({ name: "loop", mmio_write: () => {}, run: () => { unsafe: { M.phys_ptr(0xfe00_0000, u32).write_volatile(1); } } });
      M.io_mem_claim(d.mmio!.paddr, 8); unsafe: {\n /*!*/ M.phys_ptr(d.mmio!.paddr, u32).write_volatile(1); }`);
    expect(r.found).toEqual([["unsupported", "marked"]]);
    expect(r.ub[0]!.message).toMatch(/entered again from its own handler/);
  });

  test("a model's register read that is no integer of the access's size is reported at the driver's read (fuzz)", async () => {
    for (const ret of ['"x"', "1.5", "2 ** 32", "undefined", "-(2 ** 31) - 1"]) {
      const r = await run(`const d = M.attach_device({ name: "s", mmio_read: () => (${ret}) as any }, { mmio_len: 4096 });
        M.io_mem_claim(d.mmio!.paddr, 4); unsafe: {\n /*!*/ M.phys_ptr(d.mmio!.paddr, u32).read_volatile(); }`);
      expect(r.found, ret).toEqual([["unsupported", "marked"]]);
      expect(r.ub[0]!.message, ret).toMatch(/device model `s`'s `mmio_read` returned .* for a read of 4 bytes/);
    }
    const p = await run(`const d = M.attach_device({ name: "p", port_read: () => "x" as any }, { ports: 8 });
      M.io_port_claim(d.ports!.base, 8); unsafe: {\n /*!*/ M.port_read(d.ports!.base, 1); }`);
    expect(p.found).toEqual([["unsupported", "marked"]]);
    // -1 is all ones (C's ~0), and a bigint of the size is fine.
    const ok = await run(`const d = M.attach_device({ name: "s", mmio_read: (o: number) => (o === 0 ? -1 : 7n) as any }, { mmio_len: 4096 });
      M.io_mem_claim(d.mmio!.paddr, 8); unsafe: { console.log(M.phys_ptr(d.mmio!.paddr, u32).read_volatile(), M.phys_ptr(d.mmio!.paddr + 4, u32).read_volatile()); }`);
    expect(ok.ub).toEqual([]);
    expect(ok.output).toEqual(["4294967295 7"]);
  });

  test("a port access of a size that is no number is an mmio report, not an internal error (fuzz)", async () => {
    for (const size of ['Symbol("s")', "Object.create(null)", "3", "2n"]) {
      const r = await run(`M.io_port_claim(0x3f8, 8); unsafe: {\n /*!*/ M.port_write(0x3f8, ${size} as any, 65); }`);
      expect(r.found, size).toEqual([["mmio", "marked"]]);
      const rd = await run(`M.io_port_claim(0x3f8, 8); unsafe: {\n /*!*/ M.port_read(0x3f8, ${size} as any); }`);
      expect(rd.found, size).toEqual([["mmio", "marked"]]);
    }
  });

  test("a device model's DMA of a huge or ill-typed range is a dma report, not an internal error (fuzz)", async () => {
    for (const args of ["0, 2 ** 40", "2 ** 39 - 2, 8", "undefined as any, 4", "0x1000, 1n as any", "-1, 4", "NaN, 4"]) {
      const r = await run(`const d = M.attach_device({ name: "dma", mmio_write: (_o: number, _s: number, _v: number | bigint, dev: M.DeviceContext) => { dev.dma_read(${args}); } }, { mmio_len: 4096 });
        M.io_mem_claim(d.mmio!.paddr, 4); unsafe: {\n /*!*/ M.phys_ptr(d.mmio!.paddr, u32).write_volatile(1); }`);
      expect(r.found, args).toEqual([["dma", "marked"]]);
    }
  });
});

describe("CPUs and interrupts", () => {
  const HANDLER = `const p = Box.into_raw(Box.new(u32, 0)); const line = M.alloc_irq_line();
    line.on_active(() => { unsafe: { p.write(p.read() + 1); } }); line.set_affinity(0); line.raise(); yield_now();`;

  test("an interrupt handler races with the code it interrupts, unless that code runs with interrupts disabled", async () => {
    expect((await run(`${HANDLER}\n /*!*/ unsafe: { p.write(p.read() + 1); }`)).found).toEqual([["data-race", "marked"]]);
    const fixed = await run(`${HANDLER} const was = M.irq_disable(); unsafe: { p.write(p.read() + 1); console.log(p.read()); Box.from_raw(p).drop(); } M.irq_restore(was);`);
    expect(fixed.ub).toEqual([]);
    expect(fixed.output).toEqual(["2"]);
  });

  test("a handler runs in interrupt context with interrupts disabled; an IPI runs on an idle CPU concurrently with its sender", async () => {
    const r = await run(`const line = M.alloc_irq_line(40); line.on_active((l) => console.log("irq", l.num, M.in_interrupt_context(), M.irqs_enabled(), M.current_cpu()));
      line.set_affinity(0); line.raise(); console.log("after", M.in_interrupt_context(), M.irqs_enabled());
      const done = static_(AtomicBool, false);
      M.inter_processor_call(() => { console.log("ipi on", M.current_cpu(), M.in_interrupt_context(), M.irqs_enabled()); done.as_ref().store(true, "Release"); }, [3]);
      console.log(M.num_cpus()); while (!done.as_ref().load("Acquire")) spin_loop(); console.log("seen");`, { preemptionRate: 0 });
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["irq 40 true false 0", "after false true", "4", "ipi on 3 true false", "seen"]);
  });

  // A spin lock taken with interrupts disabled (lockdep: it is taken in interrupt context too).
  const SPIN = `const L = static_(AtomicBool, false, { name: "L" });
    const lock = () => { while (!L.as_ref().compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop(); };
    const unlock = () => L.as_ref().store(false, "Release");
    const done = static_(AtomicBool, false);`;

  test("an IPI handler on an idle CPU may wait for a lock another CPU holds", async () => {
    for (const seed of [0, 1, 2, 3]) {
      const r = await run(`${SPIN} const was = M.irq_disable(); lock();
        M.inter_processor_call(() => { lock(); console.log("handler on", M.current_cpu()); unlock(); done.as_ref().store(true, "Release"); }, [2]);
        for (let i = 0; i < 5; i++) yield_now(); console.log("release"); unlock(); M.irq_restore(was);
        while (!done.as_ref().load("Acquire")) spin_loop();`, { seed });
      expect(r.ub).toEqual([]);
      expect(r.output).toEqual(["release", "handler on 2"]);
    }
  });

  test("an IPI handler on an idle CPU that waits for a lock its sender holds while waiting for it is a deadlock, reported at both", async () => {
    const r = await run(`${SPIN} M.irq_disable(); lock();
      M.inter_processor_call(() => {
 /*!*/ lock(); unlock(); done.as_ref().store(true, "Release"); }, [1]);
      while (!done.as_ref().load("Acquire")) spin_loop();`);
    expect(r.ub.map((u) => u.kind)).toEqual(["deadlock", "deadlock"]);
    expect(r.ub.map((u) => u.thread)).toEqual(["main", "cpu1 (interrupt)"]);
  });

  test("a handler on an idle CPU that enables interrupts takes the next one sent to that CPU", async () => {
    const r = await run(`const second = static_(AtomicBool, false); const acks = static_(AtomicU32, 0);
      M.inter_processor_call(() => { M.irq_enable(); while (!second.as_ref().load("Acquire")) spin_loop(); console.log("first, nested", M.in_interrupt_context()); acks.as_ref().fetch_add(1, "Release"); }, [2]);
      M.inter_processor_call(() => { console.log("second on", M.current_cpu()); second.as_ref().store(true, "Release"); acks.as_ref().fetch_add(1, "Release"); }, [2]);
      while (acks.as_ref().load("Acquire") < 2) spin_loop();`, { seed: 4 });
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["second on 2", "first, nested true"]);
  });

  test("a thread spawned for a CPU busy with an interrupt on it while idle starts when the handler ends, after it in the CPU's program order", async () => {
    for (const seed of [0, 1, 2]) {
      const r = await run(`${SPIN} const p = Box.into_raw(Box.new(u32, 0)); const was = M.irq_disable(); lock();
        M.inter_processor_call(() => { lock(); console.log("handler on", M.current_cpu()); unlock(); unsafe: { p.write(7); } }, [1]);
        const h = spawn(() => { unsafe: { console.log("thread on", M.current_cpu(), p.read()); } });
        for (let i = 0; i < 5; i++) yield_now(); unlock(); M.irq_restore(was); h.join(); unsafe: { Box.from_raw(p).drop(); }`, { seed });
      expect(r.ub).toEqual([]);
      expect(r.output).toEqual(["handler on 1", "thread on 1 7"]);
    }
  });

  test("each thread is a CPU: one more thread than --cpus is unsupported", async () => {
    const r = await run(`const h = spawn(() => 1);\n /*!*/ spawn(() => 2); h.join();`, { mirch: { cpus: 2 } });
    expect(r.found).toEqual([["unsupported", "marked"]]);
  });

  test("retype_pages' page type and dma_stream_begin's direction of the wrong type are reported, not internal errors (fuzz)", async () => {
    for (const bad of ["1n", "Symbol(\"s\")", "{ toJSON() { return 1n; } }", '"heap"']) {
      const r = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1);\n /*!*/ M.retype_pages(f, 1, ${bad} as any, 64); }`);
      expect(r.found, bad).toEqual([["unsupported", "marked"]]);
      const d = await run(`const f = frame(); unsafe: { M.alloc_pages(f, 1); }\n /*!*/ M.dma_stream_begin(f, PAGE_SIZE, ${bad} as any);`);
      expect(d.found, bad).toEqual([["unsupported", "marked"]]);
    }
  });

  test("inter_processor_call's `cpus` that is no array of CPU numbers is a type error, not an internal one (fuzz)", async () => {
    for (const cpus of ["1", "{ address: 16 }", "null", "[1n]", '[Symbol("s")]', "[0.5]"]) {
      const r = await run(`\n /*!*/ M.inter_processor_call(() => {}, ${cpus} as any);`);
      expect(r.found, cpus).toEqual([["unsupported", "marked"]]);
      expect(r.ub[0]!.message, cpus).toMatch(/cpus/);
    }
  });

  test("an address past usize (1e300) and an irq_restore argument that is no bool are type errors, not taken as they come (fuzz)", async () => {
    const big = await run(`\n /*!*/ M.paddr_to_vaddr(1e300);`);
    expect(big.found).toEqual([["unsupported", "marked"]]);
    expect(big.ub[0]!.message).toMatch(/literal out of range for `usize`/);
    for (const was of ["NaN", "1", '"yes"']) {
      const r = await run(`const was = M.irq_disable();\n /*!*/ M.irq_restore(${was} as any); M.irq_restore(was);`);
      expect(r.found, was).toEqual([["unsupported", "marked"]]);
      expect(r.ub[0]!.message, was).toMatch(/expected `bool` for the argument `was_enabled` of `irq_restore`/);
    }
    const ok = await run(`const was = M.irq_disable(); M.irq_restore(was); console.log(M.irqs_enabled());`);
    expect(ok.ub).toEqual([]);
    expect(ok.output).toEqual(["true"]);
  });

  test("cpu_local gives each CPU its own instance", async () => {
    const r = await run(`const c = M.cpu_local(u32, 5); unsafe: { c.as_ptr().write(1); const h = spawn(() => { unsafe: { return c.as_ptr().read(); } }); console.log(h.join(), c.on_cpu(0).read(), c.on_cpu(1).read()); }`);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["5 1 5"]);
  });
});

describe("devices are actors of the race detector", () => {
  test("device registers are no memory: MMIO from two CPUs is no data race", async () => {
    const r = await run(`let last = 0;
      const d = M.attach_device({ name: "r", mmio_read: () => last, mmio_write: (_o: number, _s: number, v: number | bigint) => { last = Number(v); } }, { mmio_len: 4096 });
      M.io_mem_claim(d.mmio!.paddr, 8);
      const h = spawn(() => { unsafe: { M.phys_ptr(d.mmio!.paddr, u32).write_volatile(1); } });
      unsafe: { M.phys_ptr(d.mmio!.paddr + 4, u32).write_volatile(2); }
      h.join(); console.log("done");`, { seed: 1 });
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["done"]);
  });

  const DEV = `const counter = Box.into_raw(Box.new(u32, 0));
    const d = M.attach_device({ name: "ctr", mmio_read: () => 0, mmio_write: () => { unsafe: { counter.write(counter.read() + 1); } } }, { mmio_len: 4096 });
    M.io_mem_claim(d.mmio!.paddr, 8); const reg = M.phys_ptr(d.mmio!.paddr, u32);
    unsafe: { counter.write(1); reg.write_volatile(1); }`;

  test("a doorbell orders the CPU before the device, not the device before the CPU's next write", async () => {
    const r = await run(`${DEV}
 unsafe: { /*!*/ counter.write(counter.read() + 1); }`);
    expect(r.found).toEqual([["data-race", "marked"]]);
    expect(r.ub[0]!.message).toContain("device `ctr`");
  });

  test("a read of the device's register orders the device's past before the CPU", async () => {
    const r = await run(`${DEV} unsafe: { reg.read_volatile(); counter.write(counter.read() + 1); console.log(counter.read()); Box.from_raw(counter).drop(); }`);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["3"]);
  });
});

describe("hostile devices", () => {
  const PROBE = `const d = M.attach_device({ name: "h", mmio_read: (_o: number, _s: number, dev: M.DeviceContext) => dev.choose(8, 16, [9]) }, { mmio_len: 4096, hostile: HOSTILE });
    M.io_mem_claim(d.mmio!.paddr, 4); const vals: number[] = []; unsafe: { for (let i = 0; i < 12; i++) vals.push(M.phys_ptr(d.mmio!.paddr, u16).read_volatile()); } console.log(vals.join(","));`;

  test("an honest device returns honest values; a hostile one lies as the seed decides, the same way for the same seed", async () => {
    const honest = await run(PROBE.replace("HOSTILE", "false"), { seed: 3 });
    expect(honest.output).toEqual([Array(12).fill(8).join(",")]);
    const a = await run(PROBE.replace("HOSTILE", "true"), { seed: 3 });
    const b = await run(PROBE.replace("HOSTILE", "true"), { seed: 3 });
    expect(a.output).toEqual(b.output);
    expect(new Set(a.output[0]!.split(",")).size).toBeGreaterThan(1);
    expect(a.output[0]!.split(",").every((v) => ["8", "0", "65535", "9"].includes(v))).toBe(true);
    const global = await run(PROBE.replace("HOSTILE", "false"), { seed: 3, mirch: { hostile: true } });
    expect(global.output).toEqual(a.output);
  });
});

describe("hostile bugs are found by searching seeds", () => {
  const CASES = ["hostile-used-id-indexes-cookies", "hostile-desc-next-unbounded", "hostile-used-id-double-fetch"];

  test.each(CASES)("%s: some seed of 0..60 reports the annotated out-of-bounds, every failing seed there; the fixed twin is clean on all", async (name) => {
    const file = `test/corpus/fail/mirch/${name}.ts`;
    const line = readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes("//~ ERROR: out-of-bounds")) + 1;
    const bad = await runManySeeds(file, { from: 0, to: 60, workers: 0, typecheck: false });
    expect(bad.failed.length).toBeGreaterThan(0);
    for (const run of bad.seeds.filter((r) => r.exitCode !== 0)) {
      expect([run.ub[0]?.kind, run.ub[0]?.location.line]).toEqual(["out-of-bounds", line]);
    }
    const fixed = await runManySeeds(`test/corpus/pass/mirch/${name}-fixed.ts`, { from: 0, to: 60, workers: 0, typecheck: false });
    expect(fixed.failed).toEqual([]);
  });
});

describe("as a library", () => {
  test("a simulator attaches its own (host) device models at boot; the program finds them in attach order", async () => {
    const seen: number[] = [];
    const model = { name: "host-dev", mmio_read: () => 42, mmio_write: (_o: number, _s: number, v: number | bigint) => void seen.push(Number(v)) };
    const machine = createMachine({ mirch: { devices: [{ model, mmio_len: 4096 }], cpus: 2 }, typecheck: false });
    const r = await machine.run({
      source: `import { u32 } from "kmiri/rt";
        import { io_mem_claim, num_cpus, phys_ptr } from "kmiri/mirch";
        export function main(): void {
          io_mem_claim(0xfe000000, 4);
          unsafe: { phys_ptr(0xfe000000, u32).write_volatile(7); console.log(phys_ptr(0xfe000000, u32).read_volatile(), num_cpus()); }
        }`,
    });
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["42 2"]);
    expect(seen).toEqual([7]);
  });

  test("the engine-free parts: a walk of a table in a simulator's own memory, a TLB, page states", () => {
    const ram = new Map<number, number>();
    const F = mirch.PteFlags;
    const table = (level: number) => 0x1000 * (5 - level);
    const va = mirch.VMALLOC_BASE + 0x3000;
    for (let level = 4; level > 1; level--) ram.set(table(level) + 8 * mirch.pte_index(va, level), mirch.pte_new(table(level - 1), F.VALID | F.READABLE | F.WRITABLE));
    ram.set(table(1) + 8 * mirch.pte_index(va, 1), mirch.pte_new(0x9000, F.VALID | F.READABLE));
    const t = mirch.walk(table(4), va + 5, (p) => ram.get(p) ?? 0);
    expect(t.fault).toBe(false);
    if (!t.fault) {
      expect(t.paddr).toBe(0x9005);
      expect(mirch.checkAccess(t, { write: true, user: false })).not.toBeNull();
      const tlb = new mirch.Tlb();
      tlb.fill(mirch.tlbEntryFor(va, t, 0));
      expect(tlb.lookup(va + 8)?.pbase).toBe(0x9000);
    }
    const pages = new mirch.PhysicalMemoryMap({ ramBytes: 64 * 2 ** 20, bootTableFrames: 4 });
    expect(pages.alloc(0x400000, 1)).toBeNull();
    expect(pages.alloc(0x400000, 1)).not.toBeNull();
  });
});
