//@ flags: --many-seeds 0..30
// `Arc` done right: clones increment Relaxed; drops decrement Release, and the last owner issues
// `fence(Acquire)` before freeing, so every owner's use of the value happens before the free.
// As Rust's `Arc`, the handles are raw pointers (`NonNull`), not `Box`es: a `Box` is unique, and
// three live `Box`es of one allocation would be Stacked Borrows violations of their own.
import { AtomicUsize, Box, fence, spawn, struct, u64, type Ptr } from "kmiri/rt";

const Inner = struct("ArcInner", { strong: AtomicUsize, value: u64 });
type InnerV = { strong: number; value: bigint };

function clone(arc: Ptr<InnerV>): Ptr<InnerV> {
  unsafe: {
    arc.as_ref().field("strong").fetch_add(1, "Relaxed");
  }
  return arc;
}

function drop(arc: Ptr<InnerV>): void {
  unsafe: {
    if (arc.as_ref().field("strong").fetch_sub(1, "Release") === 1) {
      fence("Acquire");
      Box.from_raw(arc).drop();
    }
  }
}

export function main(): void {
  const arc = Box.into_raw(Box.new(Inner, { strong: 1, value: 5n }));
  const owners = [clone(arc), clone(arc), clone(arc)];
  const cpus = owners.map((a) =>
    spawn(() => {
      let v = 0n;
      unsafe: {
        v = a.as_ref().field("value").read();
      }
      drop(a);
      return v;
    }),
  );
  drop(arc);
  let sum = 0n;
  for (const c of cpus) sum += c.join();
  console.log(sum);
}
