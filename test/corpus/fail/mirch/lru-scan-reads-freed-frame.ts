// Page reclaim keeps the physical addresses of user frames on an LRU list. `munmap` frees a frame
// but forgets to take it off the list, so the next scan makes a pointer to it through the linear
// map: a pointer made at a free page has no allocation, and reading through it is `page-state`.
import { u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

const lru: number[] = [];

function fault_in(pa: number, fill: number): void {
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), fill, PAGE_SIZE);
  }
  lru.push(pa);
}

function munmap(pa: number): void {
  unsafe: {
    dealloc_pages(pa, 1); // bug: still on the LRU list
  }
}

function scan(): number {
  let sum = 0;
  for (const pa of lru) {
    let first: number;
    unsafe: {
      first = phys_ptr(pa, u8).read_volatile(); //~ ERROR: page-state
    }
    sum += first;
  }
  return sum;
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  for (let i = 0; i < 3; i++) fault_in(base + i * PAGE_SIZE, i + 1);
  munmap(base + PAGE_SIZE);
  console.log("scan", scan());
}
