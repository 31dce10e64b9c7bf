// Creating a kernel task writes its initial context (entry point, then argument) in the two words
// just below the top of a fresh 4-page stack (one allocation of four typed pages), so every
// access stays inside the stack. No UB.
import { u64, type Ptr } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const STACK_PAGES = 4;
const STACK_WORDS = (STACK_PAGES * PAGE_SIZE) / 8;

function alloc_stack(pa: number): Ptr<bigint> {
  unsafe: {
    alloc_pages(pa, STACK_PAGES);
    retype_pages(pa, STACK_PAGES, "stack");
  }
  return phys_ptr(pa, u64);
}

function init_context(stack: Ptr<bigint>, entry: bigint, arg: bigint): void {
  unsafe: {
    const top = stack.add(STACK_WORDS);
    top.sub(1).write(entry);
    top.sub(2).write(arg);
  }
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  const idle = alloc_stack(base);
  const worker = alloc_stack(base + STACK_PAGES * PAGE_SIZE);
  init_context(idle, 0xffff_8000_0010_0000n, 0n);
  init_context(worker, 0xffff_8000_0020_0000n, 7n);
  unsafe: {
    const top = worker.add(STACK_WORDS);
    console.log("worker entry", top.sub(1).read().toString(16), "arg", String(top.sub(2).read()));
  }
}
