// A task control block is constructed in place in freshly allocated memory, field by field,
// including the fields of its nested saved-register context, and only then read as a whole. Every
// field is written before the struct is read, so no UB.
import { alloc, dealloc, struct, u8, u32, u64 } from "kmiri/rt";

const Context = struct("Context", { sp: u64, ip: u64, flags: u32 });
const Tcb = struct("Tcb", { tid: u32, state: u8, ctx: Context, prio: u8 });

export function main(): void {
  unsafe: {
    const t = alloc(Tcb);
    t.field("tid").write(7);
    t.field("state").write(1);
    const ctx = t.field("ctx");
    ctx.field("sp").write(0xffff_8000_0000n);
    ctx.field("ip").write(0x40_1000n);
    ctx.field("flags").write(0x202);
    t.field("prio").write(120);
    const tcb = t.read();
    console.log(tcb.tid, tcb.state, tcb.ctx.sp.toString(16), tcb.ctx.ip.toString(16), tcb.ctx.flags.toString(16), tcb.prio);
    dealloc(t, Tcb);
  }
}
