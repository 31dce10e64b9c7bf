// Native `kmiri/mirch` (src/shims/native/mirch.ts, mirch-state.ts): small Mirch programs print the
// same natively as on the Machine, where they run clean — RAM through the linear map, a vmalloc
// mapping built by hand, fallible copies with the page-fault handler, an MMIO device (through the
// linear map and through a vmalloc mapping) with DMA and its interrupt, the console on COM1,
// interrupt lines, inter-processor calls, CPUs and per-CPU storage.
import { describe, expect, test } from "vitest";
import path from "node:path";
import { runFile } from "../../src/driver/run.js";
import { tempProgram } from "../support/temp-programs.js";

/** Runs `source` checked (no preemption) and natively; both outputs, and the checked run's findings. */
async function both(source: string, options: { cpus?: number } = {}) {
  const { dir } = tempProgram({ "main.ts": source }, "kmiri-mirch-native-");
  const file = path.join(dir, "main.ts");
  const mirch = options.cpus === undefined ? undefined : { cpus: options.cpus };
  const checked = await runFile(file, { cwd: dir, preemptionRate: 0, typecheck: false, mirch });
  const native = await runFile(file, { cwd: dir, native: true, typecheck: false, mirch });
  return { checked, native };
}

/** Expects a clean checked run, the same output natively, and returns it. */
async function same(source: string, options: { cpus?: number } = {}): Promise<string[]> {
  const { checked, native } = await both(source, options);
  expect(checked.ub.map((u) => `${u.kind}: ${u.message}`)).toEqual([]);
  expect(checked.panic).toBeUndefined();
  expect(native.panic).toBeUndefined();
  expect(native.output).toEqual(checked.output);
  return native.output;
}

/** A bump frame allocator over the first free RAM region, shared by the programs. */
const FRAMES = `
let next_pa = 0;
function alloc_frames(count: number): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += count * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, count);
    memset_volatile(paddr_to_vaddr(pa), 0, count * PAGE_SIZE);
  }
  return pa;
}
function new_table(): number {
  const pa = alloc_frames(1);
  unsafe: {
    retype_pages(pa, 1, "page-table");
  }
  return pa;
}
/** The level-1 entry of \`va\` under \`root\`, with the tables on the way made (flags on each level). */
function leaf(root: number, va: number, flags: number): Ref<number> {
  let table = root;
  for (let level = 4; ; level--) {
    let e: Ref<number>;
    unsafe: {
      e = phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
    }
    if (level === 1) return e;
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), flags), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
}
`;

describe("native kmiri/mirch prints what the Machine prints", () => {
  test("frames through the linear map: volatile accesses, page states, memory map, copies, addresses", async () => {
    const out = await same(`
import { AtomicUsize, Box, u8, u32, u64, array, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, LINEAR_MAPPING_BASE, KERNEL_CODE_BASE, alloc_pages, dealloc_pages, retype_pages, memory_regions, memset_volatile,
  memcpy_volatile, paddr_to_vaddr, phys_ptr, page_state, pte_index, pte_new, pte_paddr, boot_page_table, page_walk,
} from "kmiri/mirch";
${FRAMES}
export function main(): void {
  console.log(memory_regions().map((r) => r.kind + "@" + r.start.toString(16)).join(" "));
  const a = alloc_frames(2);
  console.log("frame", a.toString(16), JSON.stringify(page_state(a)), JSON.stringify(page_state(a + 2 * PAGE_SIZE)));
  unsafe: {
    phys_ptr(a + 16, u32).write_volatile(0xdeadbeef);
    phys_ptr(a + PAGE_SIZE + 8, u64).write_volatile(0x1234_5678_9abcn);
    console.log(phys_ptr(a + 16, u32).read_volatile().toString(16), phys_ptr(a + 17, u8).read_volatile().toString(16));
    console.log(phys_ptr(a + PAGE_SIZE + 8, u64).read_volatile().toString(16));
    phys_ptr(a + 28, u32).write_volatile(77);
    console.log(phys_ptr(a + 28, u32).read_volatile());
    memset_volatile(paddr_to_vaddr(a) + 100, 0xab, 5);
    memcpy_volatile(paddr_to_vaddr(a + PAGE_SIZE) + 200, paddr_to_vaddr(a) + 98, 9);
    const got: number[] = [];
    for (let i = 0; i < 9; i++) got.push(phys_ptr(a + PAGE_SIZE + 200 + i, u8).read_volatile());
    console.log(got.join(","));
    // A kmiri/rt allocation lives in the kernel image's area; copies reach it too.
    const b = Box.into_raw(Box.new(array(u8, 4), [1, 2, 3, 4]));
    console.log("box in kernel area", b.addr() >= KERNEL_CODE_BASE, b.addr() < KERNEL_CODE_BASE + 0x1000);
    memcpy_volatile(paddr_to_vaddr(a) + 300, b.expose_provenance(), 4);
    console.log(phys_ptr(a + 300, u32).read_volatile().toString(16));
    Box.from_raw(b).drop();
    retype_pages(a + PAGE_SIZE, 1, "slab");
    console.log(JSON.stringify(page_state(a + PAGE_SIZE)));
    dealloc_pages(a, 2);
    console.log(JSON.stringify(page_state(a)));
  }
  const w = page_walk(LINEAR_MAPPING_BASE + a + 5)!;
  console.log("walk", w.paddr.toString(16), w.flags.toString(16), "boot root", boot_page_table().toString(16));
}
`);
    expect(out).toEqual([
      "reserved@0 boot-page-table@1000 reserved@7000 kernel@100000 ram@300000 mmio@fe000000 mmio@10000000000",
      'frame 300000 {"state":"untyped"} {"state":"free"}',
      "deadbeef be",
      "123456789abc",
      "77",
      "0,0,171,171,171,171,171,0,0",
      "box in kernel area true true",
      "4030201",
      '{"state":"typed","type":"slab"}',
      '{"state":"free"}',
      "walk 300005 a7 boot root 1000",
    ]);
  });

  test("a vmalloc mapping built by hand through four levels, read and written through it", async () => {
    const out = await same(`
import { AtomicUsize, ptr_from_exposed, u16, u32, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, current_page_table, memory_regions, memset_volatile,
  memcpy_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages, page_walk, boot_page_table,
} from "kmiri/mirch";
${FRAMES}
const KERNEL_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;
export function main(): void {
  const root = new_table();
  const va = VMALLOC_BASE + 0x12_3456_7000;
  const frame = alloc_frames(2);
  leaf(root, va, KERNEL_RW).store(pte_new(frame + PAGE_SIZE, KERNEL_RW), "Release");
  leaf(root, va + PAGE_SIZE, KERNEL_RW).store(pte_new(frame, KERNEL_RW), "Release");
  unsafe: {
    activate_page_table(root);
    console.log("cr3", current_page_table() === root, current_page_table() !== boot_page_table());
    ptr_from_exposed(va + 8, u32).write_volatile(0xcafe);
    ptr_from_exposed(va + PAGE_SIZE + 4, u32).write_volatile(0xf00d);
    console.log(phys_ptr(frame + PAGE_SIZE + 8, u32).read_volatile().toString(16), phys_ptr(frame + 4, u32).read_volatile().toString(16));
    phys_ptr(frame + PAGE_SIZE + 12, u32).write_volatile(99);
    console.log(ptr_from_exposed(va + 12, u32).read_volatile());
    // A copy across the two virtual pages (physically in the other order).
    memset_volatile(va + PAGE_SIZE - 2, 0x5a, 4);
    memcpy_volatile(paddr_to_vaddr(frame) + 64, va + PAGE_SIZE - 2, 4);
    console.log(phys_ptr(frame + 64, u32).read_volatile().toString(16), phys_ptr(frame + 2 * PAGE_SIZE - 2, u16).read_volatile().toString(16));
    const w = page_walk(va + 0x10)!;
    console.log("walk", (w.paddr - frame).toString(16), w.flags.toString(16), page_walk(va + 2 * PAGE_SIZE));
  }
}
`);
    expect(out).toEqual(["cr3 true true", "cafe f00d", "99", "5a5a5a5a 5a5a", "walk 1010 7 null"]);
  });

  test("fallible copies to and from user memory, the page-fault handler mapping a missing page", async () => {
    const out = await same(`
import { AtomicUsize, alloc, array, dealloc, u8, u32, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, pte_index,
  pte_new, pte_paddr, retype_pages, memcpy_fallible, memset_fallible, atomic_load_fallible, atomic_cmpxchg_fallible,
  set_user_page_fault_handler,
} from "kmiri/mirch";
${FRAMES}
const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;
export function main(): void {
  const root = new_table();
  const ua = 0x40_0000;
  const f1 = alloc_frames(1);
  leaf(root, ua, USER_RW).store(pte_new(f1, USER_RW), "Release");
  let faults = 0;
  set_user_page_fault_handler((fault) => {
    faults++;
    console.log("fault", fault.vaddr.toString(16), fault.write, fault.present);
    if (fault.vaddr >= ua + 2 * PAGE_SIZE) return false;
    leaf(root, fault.vaddr, USER_RW).store(pte_new(alloc_frames(1), USER_RW), "Release");
    return true;
  });
  unsafe: {
    const buf = alloc(array(u8, 64));
    activate_page_table(root);
    phys_ptr(f1 + PAGE_SIZE - 4, u32).write_volatile(0x04030201);
    // Across the end of the mapped page: the handler maps the next one.
    console.log("set", memset_fallible(ua + PAGE_SIZE - 2, 0x77, 8));
    console.log("copy", memcpy_fallible(buf.expose_provenance(), ua + PAGE_SIZE - 4, 8));
    const got: number[] = [];
    for (let i = 0; i < 8; i++) got.push(buf.index(i).read());
    console.log(got.join(","));
    // Past the second page: the handler gives up, the copy stops at the page boundary.
    console.log("short", memcpy_fallible(ua + 2 * PAGE_SIZE - 3, buf.expose_provenance(), 10));
    console.log("load", atomic_load_fallible(ua + PAGE_SIZE).toString(16), atomic_load_fallible(ua + 5 * PAGE_SIZE));
    console.log("cas", atomic_cmpxchg_fallible(ua, 0, 7), atomic_cmpxchg_fallible(ua, 0, 9), atomic_load_fallible(ua));
    console.log("kernel side", atomic_load_fallible(paddr_to_vaddr(f1)));
    dealloc(buf, array(u8, 64));
  }
  console.log("faults", faults);
}
`);
    expect(out).toContain("copy 0");
    expect(out).toContain("short 7");
    expect(out).toContain("cas 0 7 7");
  });

  test("an MMIO device written in the program: registers through the linear map and a vmalloc mapping, DMA, its interrupt", async () => {
    const out = await same(`
import { AtomicU32, AtomicUsize, ptr_from_exposed, static_, u8, u16, u32, u64, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, attach_device, iommu, io_mem_claim, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages, page_state, type DeviceModel,
} from "kmiri/mirch";
${FRAMES}
const IRQS = static_(AtomicU32, 0, { name: "IRQS" });
const IOVA = 0x10_0000;
function scratchpad(): DeviceModel {
  const regs = new Array<number>(16).fill(0);
  let pending = false;
  return {
    name: "scratchpad",
    mmio_read: (off, size) => (off === 0x40 ? 0x1234_5678_9abc_def0n : off === 0x3c ? 0xabcd : size === 1 ? regs[off >> 2]! & 0xff : regs[off >> 2]!),
    mmio_write(off, _size, value) {
      regs[off >> 2] = Number(value);
      if (off === 0x20) pending = true;
    },
    run(dev) {
      if (!pending) return;
      pending = false;
      const n = dev.dma_read_u32(IOVA);
      dev.dma_write_u32(IOVA + 4, n * 2);
      dev.dma_write(IOVA + 8, new Uint8Array([9, 8, 7]));
      dev.raise_irq();
    },
  };
}
export function main(): void {
  const dev = attach_device(scratchpad(), { irq: true, mmio_len: 2 * PAGE_SIZE });
  const mmio = dev.mmio!;
  console.log(dev.name, mmio.paddr.toString(16), mmio.len, dev.irq!.num, JSON.stringify(page_state(mmio.paddr)));
  // Natively a device's interrupt runs as soon as the device raises it; on the Machine at the
  // next preemption point (after the next output): the handler prints nothing, so both agree.
  const seen: number[] = [];
  dev.irq!.on_active((line) => {
    IRQS.as_ref().fetch_add(1, "Relaxed");
    seen.push(line.num);
  });
  io_mem_claim(mmio.paddr, mmio.len);
  const buf = alloc_frames(1);
  unsafe: {
    iommu.map(IOVA, buf);
    phys_ptr(mmio.paddr + 4, u32).write_volatile(0x55);
    console.log(phys_ptr(mmio.paddr + 4, u32).read_volatile().toString(16), phys_ptr(mmio.paddr + 4, u8).read_volatile());
    console.log(phys_ptr(mmio.paddr + 0x3c, u16).read_volatile().toString(16), phys_ptr(mmio.paddr + 0x40, u64).read_volatile().toString(16));
    phys_ptr(buf, u32).write_volatile(21);
    phys_ptr(mmio.paddr + 0x20, u32).write_volatile(1); // doorbell: the device runs, DMA, interrupt
    console.log("dma", phys_ptr(buf + 4, u32).read_volatile(), phys_ptr(buf + 8, u8).read_volatile(), phys_ptr(buf + 10, u8).read_volatile());
  }
  console.log("irqs", IRQS.as_ref().load("Relaxed"));
  // The same registers through a vmalloc mapping (ioremap), uncacheable.
  const root = new_table();
  const va = VMALLOC_BASE + 0x4000_0000;
  const IO = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.UNCACHEABLE | PteFlags.WRITE_THROUGH;
  leaf(root, va, PteFlags.VALID | PteFlags.WRITABLE).store(pte_new(mmio.paddr, IO), "Release");
  leaf(root, va + PAGE_SIZE, PteFlags.VALID | PteFlags.WRITABLE).store(pte_new(mmio.paddr + PAGE_SIZE, IO), "Release");
  unsafe: {
    activate_page_table(root);
    ptr_from_exposed(va + 8, u32).write_volatile(0x66);
    console.log("ioremap", ptr_from_exposed(va + 8, u32).read_volatile().toString(16), phys_ptr(mmio.paddr + 8, u32).read_volatile().toString(16));
    ptr_from_exposed(va + 0x20, u32).write_volatile(1);
    console.log("dma again", phys_ptr(buf + 4, u32).read_volatile());
  }
  console.log("irqs", IRQS.as_ref().load("Relaxed"), seen.join(","));
}
`);
    expect(out).toContain("55 85");
    expect(out).toContain("abcd 123456789abcdef0");
    expect(out).toContain("dma 42 9 7");
    expect(out).toContain("ioremap 66 66");
    expect(out).toContain("irqs 2 32,32");
  });

  test("the console on COM1 (0x3f8) prints the bytes written to it as lines", async () => {
    const out = await same(`
import { port_read, port_write, io_port_claim } from "kmiri/mirch";
function putc(c: number): void {
  unsafe: {
    while ((port_read(0x3f8 + 5, 1) & 0x20) === 0) {}
    port_write(0x3f8, 1, c);
  }
}
export function main(): void {
  io_port_claim(0x3f8, 8);
  for (const ch of "hello from COM1\\r\\nsecond line\\n") putc(ch.charCodeAt(0));
  console.log("after");
  unsafe: {
    console.log("lsr", port_read(0x3f8 + 5, 1).toString(16));
  }
}
`);
    expect(out).toEqual(["hello from COM1", "second line", "after", "lsr 60"]);
  });

  test("interrupt lines, IPIs, CPUs and per-CPU storage", async () => {
    const out = await same(`
import { AtomicU32, spawn, spin_loop, static_, u32 } from "kmiri/rt";
import {
  alloc_irq_line, cpu_local, current_cpu, in_interrupt_context, inter_processor_call, irq_disable, irq_enable, irq_restore,
  irqs_enabled, num_cpus,
} from "kmiri/mirch";
const COUNT = static_(AtomicU32, 0, { name: "COUNT" });
const ACKS = static_(AtomicU32, 0, { name: "ACKS" });
export function main(): void {
  const line = alloc_irq_line();
  const other = alloc_irq_line(100);
  console.log("lines", line.num, other.num, num_cpus());
  const hits = cpu_local(AtomicU32, 0);
  line.on_active((l) => {
    COUNT.as_ref().fetch_add(1, "Relaxed");
    unsafe: {
      hits.as_ptr().as_ref().fetch_add(1, "Relaxed");
    }
    console.log("handler", l.num, "cpu", current_cpu(), "in irq", in_interrupt_context(), "enabled", irqs_enabled());
  });
  line.raise();
  console.log("count", COUNT.as_ref().load("Relaxed"), "in irq", in_interrupt_context());
  const was = irq_disable();
  line.raise();
  console.log("masked", COUNT.as_ref().load("Relaxed"), was, irqs_enabled());
  irq_restore(was);
  console.log("unmasked", COUNT.as_ref().load("Relaxed"));
  irq_disable();
  irq_enable();
  inter_processor_call(() => {
    console.log("ipi on", current_cpu(), in_interrupt_context(), irqs_enabled());
    unsafe: {
      hits.as_ptr().as_ref().fetch_add(10, "Relaxed");
    }
    ACKS.as_ref().fetch_add(1, "Release");
  }, [2, 3]);
  // The idle CPUs run the call concurrently (natively: at once): wait for both.
  while (ACKS.as_ref().load("Acquire") < 2) spin_loop();
  line.set_affinity(1);
  line.raise();
  const t = spawn(() => current_cpu());
  console.log("thread cpu", t.join());
  unsafe: {
    console.log("hits", [0, 1, 2, 3].map((c) => hits.on_cpu(c).as_ref().load("Relaxed")).join(","), "total", COUNT.as_ref().load("Relaxed"));
  }
}
`);
    expect(out[0]).toBe("lines 32 100 4");
    expect(out).toContain("count 1 in irq false");
    expect(out).toContain("masked 1 true false");
    expect(out).toContain("unmasked 2");
    expect(out).toContain("thread cpu 1");
    expect(out.at(-1)).toBe("hits 2,1,10,10 total 3");
  });

  test("the cpus option reaches native Mirch", async () => {
    const out = await same(`
import { num_cpus, current_cpu } from "kmiri/mirch";
export function main(): void {
  console.log(num_cpus(), current_cpu());
}
`, { cpus: 2 });
    expect(out).toEqual(["2 0"]);
  });

  test("each native run boots afresh: RAM, page states and devices from scratch", async () => {
    const src = `
import { u32 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, attach_device, memory_regions, page_state, phys_ptr } from "kmiri/mirch";
export function main(): void {
  const pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  console.log(page_state(pa).state);
  unsafe: {
    alloc_pages(pa, 1);
    phys_ptr(pa, u32).write_volatile(phys_ptr(pa, u32).read_volatile() + 1);
    console.log(phys_ptr(pa, u32).read_volatile());
  }
  console.log(attach_device({ name: "d", mmio_read: () => 0 }).mmio!.paddr.toString(16));
}
`;
    const { dir } = tempProgram({ "main.ts": src }, "kmiri-mirch-native-");
    const file = path.join(dir, "main.ts");
    const a = await runFile(file, { cwd: dir, native: true, typecheck: false });
    const b = await runFile(file, { cwd: dir, native: true, typecheck: false });
    expect(a.output).toEqual(["free", "1", "fe000000"]);
    expect(b.output).toEqual(a.output);
  });
});

describe("the models that ship with Mirch, as the program gets them", () => {
  test("their DeviceModel methods only, in the program's realm, checked and natively", async () => {
    const out = await same(`import { console_device, virtio_device } from "kmiri/mirch";
      export function main(): void {
        for (const m of [virtio_device() as any, console_device() as any]) {
          let codegen = "refused";
          try { (m.run ?? m.port_write).constructor("return 1")(); codegen = "allowed"; } catch { }
          console.log(m.name, Object.keys(m).sort().join(","), m.disk === undefined, codegen);
        }
      }`);
    expect(out).toEqual(["virtio-blk mmio_read,mmio_write,name,run true refused", expect.stringMatching(/^console [a-z_,]*port_write[a-z_,]* true refused$/)]);
  });
});
