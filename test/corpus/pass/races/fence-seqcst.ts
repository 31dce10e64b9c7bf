//@ flags: --many-seeds 0..20
// SeqCst fences on both sides of a relaxed flag: the writer's fence comes after its data write and
// before the flag store; the reader that sees the flag issues its own SeqCst fence before reading.
// A SeqCst fence is an acquire and a release fence, so the pair synchronises.
import { AtomicBool, alloc_zeroed, dealloc, fence, spawn, struct, u64 } from "kmiri/rt";

const Shared = struct("Shared", { data: u64, flag: AtomicBool });

export function main(): void {
  unsafe: {
    const s = alloc_zeroed(Shared);
    const writer = spawn(() => {
      unsafe: {
        s.field("data").write(17n);
        fence("SeqCst");
        s.field("flag").as_ref().store(true, "Relaxed");
      }
    });
    const reader = spawn(() => {
      unsafe: {
        if (!s.field("flag").as_ref().load("Relaxed")) return -1n;
        fence("SeqCst");
        return s.field("data").read();
      }
    });
    writer.join();
    const v = reader.join();
    console.log(v === -1n || v === 17n);
    dealloc(s, Shared);
  }
}
