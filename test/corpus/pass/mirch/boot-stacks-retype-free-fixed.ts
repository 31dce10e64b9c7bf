// Early boot carves a kernel stack for each application processor out of the first RAM region of
// the memory map: it allocates the pages (`free → untyped`) and then retypes them to `stack`
// (`untyped → typed`), one allocation per stack. No UB.
import { u64 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const STACK_PAGES = 4;
const CANARY = 0x57ac_ca4a_57ac_ca4an;

function boot_stacks(cpus: number): number[] {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  const stacks: number[] = [];
  for (let cpu = 1; cpu < cpus; cpu++) {
    const pa = base + (cpu - 1) * STACK_PAGES * PAGE_SIZE;
    unsafe: {
      alloc_pages(pa, STACK_PAGES);
      retype_pages(pa, STACK_PAGES, "stack");
      phys_ptr(pa, u64).write(CANARY); // the overflow canary at the lowest word
    }
    stacks.push(pa);
  }
  return stacks;
}

export function main(): void {
  const stacks = boot_stacks(3);
  let intact = 0;
  unsafe: {
    for (const pa of stacks) if (phys_ptr(pa, u64).read() === CANARY) intact++;
  }
  console.log(stacks.length, "AP stacks,", intact, "canaries intact");
}
