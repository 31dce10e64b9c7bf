// Walks an array of run-queue lengths backwards from its one-past-the-end pointer, stepping with
// `sub` before each read, and compares pointers against both ends. The one-past-the-end pointer is
// formed and compared but never dereferenced: no UB.
import { alloc, dealloc, array, u32 } from "kmiri/rt";

const CPUS = 4;

export function main(): void {
  unsafe: {
    const rq = alloc(array(u32, CPUS));
    const first = rq.cast(u32);
    for (let i = 0; i < CPUS; i++) first.add(i).write(i * 3 + 1);
    const end = first.add(CPUS);
    const order: number[] = [];
    let q = end;
    while (q.addr() > first.addr()) {
      q = q.sub(1);
      order.push(q.read());
    }
    console.log(order.join(" "), q.addr() === first.addr(), end.addr() - first.addr());
    dealloc(rq, array(u32, CPUS));
  }
}
