//@ flags: --many-seeds 0..20
// A ticket lock: `fetch_add` on `next` draws a ticket, the owner spins until `serving` reaches it
// (Acquire), and the release bumps `serving` (Release). It protects a plain log of CPU ids.
import { AtomicU32, alloc_zeroed, array, dealloc, lock_acquired, lock_released, spawn, spin_loop, struct, u32, type Ptr } from "kmiri/rt";

const Ticket = struct("TicketLock", { next: AtomicU32, serving: AtomicU32, len: u32, log: array(u32, 8) });
type TicketV = { next: number; serving: number; len: number; log: number[] };

function append(t: Ptr<TicketV>, cpu: number): void {
  unsafe: {
    const mine = t.field("next").as_ref().fetch_add(1, "Relaxed");
    while (t.field("serving").as_ref().load("Acquire") !== mine) spin_loop();
    lock_acquired(t, "ticket_lock");
    const len = t.field("len").read();
    t.field("log").index(len).write(cpu);
    t.field("len").write(len + 1);
    lock_released(t);
    t.field("serving").as_ref().store(mine + 1, "Release");
  }
}

export function main(): void {
  unsafe: {
    const t = alloc_zeroed(Ticket);
    const cpus = [1, 2, 3, 4].map((cpu) => spawn(() => append(t, cpu)));
    for (const c of cpus) c.join();
    console.log(t.field("len").read(), t.field("log").read().slice(0, 4).sort().join(","));
    dealloc(t, Ticket);
  }
}
