// Early boot carves a kernel stack for each application processor out of the first RAM region of
// the memory map and retypes the pages to `stack`, but never allocates them: the pages are still
// free, and `retype_pages` of a page that is not allocated is `page-state`.
import { u64 } from "kmiri/rt";
import { PAGE_SIZE, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const STACK_PAGES = 4;
const CANARY = 0x57ac_ca4a_57ac_ca4an;

function boot_stacks(cpus: number): number[] {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  const stacks: number[] = [];
  for (let cpu = 1; cpu < cpus; cpu++) {
    const pa = base + (cpu - 1) * STACK_PAGES * PAGE_SIZE;
    unsafe: {
      retype_pages(pa, STACK_PAGES, "stack"); //~ ERROR: page-state
      phys_ptr(pa, u64).write(CANARY); // the overflow canary at the lowest word
    }
    stacks.push(pa);
  }
  return stacks;
}

export function main(): void {
  const stacks = boot_stacks(3);
  console.log(stacks.length, "AP stacks");
}
