// A getter that returns a stored `Box` hands out a handle, as Rust's `Deref` hands out `&Box<T>`:
// it is no move, so the returned `Box` is not retagged (a `Unique` retag per call would make the
// second `g.value` invalidate the first before its `write` runs).
import { Box, u64, type Box as BoxT } from "kmiri/rt";

class Guard {
  constructor(private readonly inner: BoxT<bigint>) {}
  get value(): BoxT<bigint> {
    return this.inner;
  }
}

export function main(): void {
  const g = new Guard(Box.new(u64, 1n));
  g.value.write(g.value.read() + 1n);
  console.log(String(g.value.read()));
  g.value.drop();
}
