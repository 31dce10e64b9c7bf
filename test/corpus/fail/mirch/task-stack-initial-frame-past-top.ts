// Creating a kernel task stores its entry point *at* `stack_top` instead of just below it. The
// 4-page stack is one allocation of typed pages (the next task's stack follows it in memory), so
// that word is past its end: `out-of-bounds`.
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
    top.write(entry); //~ ERROR: out-of-bounds
    top.sub(1).write(arg);
  }
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  const idle = alloc_stack(base);
  const worker = alloc_stack(base + STACK_PAGES * PAGE_SIZE);
  init_context(idle, 0xffff_8000_0010_0000n, 0n);
  init_context(worker, 0xffff_8000_0020_0000n, 7n);
  console.log("two tasks ready");
}
