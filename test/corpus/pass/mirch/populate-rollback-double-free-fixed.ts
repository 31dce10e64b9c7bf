// Populating a user mapping takes one frame per page from a zone's free list. When the zone runs
// dry, the rollback frees the frames this call took and empties the caller's list, so the
// caller's cleanup frees nothing twice; a smaller retry then succeeds. No UB.
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions } from "kmiri/mirch";

const zone: number[] = [];

function zone_init(count: number): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  for (let i = count - 1; i >= 0; i--) zone.push(base + i * PAGE_SIZE);
}

function zone_alloc(): number | undefined {
  const pa = zone.pop();
  if (pa !== undefined) {
    unsafe: {
      alloc_pages(pa, 1);
    }
  }
  return pa;
}

function zone_free(pa: number): void {
  unsafe: {
    dealloc_pages(pa, 1);
  }
  zone.push(pa);
}

/** Takes `count` frames into `frames`; on failure gives back what it took. */
function populate(frames: number[], count: number): boolean {
  for (let i = 0; i < count; i++) {
    const pa = zone_alloc();
    if (pa === undefined) {
      for (const f of frames) zone_free(f);
      frames.length = 0;
      return false;
    }
    frames.push(pa);
  }
  return true;
}

export function main(): void {
  zone_init(2);
  const frames: number[] = [];
  if (!populate(frames, 3)) {
    for (const f of frames) zone_free(f); // the caller's cleanup: nothing left to free
    console.log("populate failed");
  }
  const ok = populate(frames, 2);
  console.log("retry", ok, frames.length, "frames");
  for (const f of frames) zone_free(f);
}
