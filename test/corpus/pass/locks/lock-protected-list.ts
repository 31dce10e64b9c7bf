//@ flags: --many-seeds 0..20
// A free list of frames behind a spin lock: CPUs pop a node, allocate a replacement and push it
// back, all under the lock; the nodes themselves are plain memory. Main frees the list at the end.
import { AtomicBool, Box, lock_acquired, lock_released, null_mut, ptr, spawn, spin_loop, static_, struct, u32, type Ptr } from "kmiri/rt";

type NodeV = { next: Ptr<NodeV>; pfn: number };
const Node: ReturnType<typeof struct<any>> = struct("FreeNode", { next: ptr(() => Node), pfn: u32 });
const FreeList = struct("FreeList", { lock: AtomicBool, head: ptr(Node) });
const FREE_LIST = static_(FreeList, { lock: false, head: null_mut(Node) }, { mut: true, name: "FREE_LIST" });

function with_list<R>(f: (head: Ptr<Ptr<NodeV>>) => R): R {
  unsafe: {
    const l = FREE_LIST.as_ptr();
    const lock = l.field("lock").as_ref();
    while (!lock.compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
    lock_acquired(lock);
    const r = f(l.field("head") as Ptr<Ptr<NodeV>>);
    lock_released(lock);
    lock.store(false, "Release");
    return r;
  }
}

function push(pfn: number): void {
  const node = Box.into_raw(Box.new(Node, { next: null_mut(Node), pfn })) as Ptr<NodeV>;
  with_list((head) => {
    unsafe: {
      node.field("next").write(head.read());
      head.write(node);
    }
  });
}

function pop(): number {
  return with_list((head) => {
    unsafe: {
      const n = head.read();
      if (n.is_null()) return -1;
      head.write(n.field("next").read());
      const b = Box.from_raw(n);
      const pfn = b.read().pfn;
      b.drop();
      return pfn;
    }
  });
}

export function main(): void {
  for (let pfn = 0; pfn < 4; pfn++) push(pfn);
  const cpus = [10, 20].map((base) =>
    spawn(() => {
      const got = pop();
      push(base + got);
    }),
  );
  for (const c of cpus) c.join();
  let n = 0;
  while (pop() >= 0) n++;
  console.log(n);
}
