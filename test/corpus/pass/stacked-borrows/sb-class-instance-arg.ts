// A class instance passed to a function is passed as Rust passes `&self`: its fields are not
// retagged on entry. This lock object holds the `Box` of its word and a reference into it; were
// its fields retagged as a struct passed by value, the `Box`'s protected retag and the
// reference's would be in each other's way at the store that releases the lock.
import { AtomicBool, Box, type Box as BoxT, type Ref } from "kmiri/rt";

class Flag {
  readonly owned: BoxT<boolean>;
  readonly word: Ref<boolean>;
  constructor() {
    this.owned = Box.new(AtomicBool, false);
    this.word = this.owned.as_ref();
  }
}

function set(f: Flag, v: boolean): void {
  f.word.store(v, "Release");
}

export function main(): void {
  const f = new Flag();
  set(f, true);
  set(f, false);
  console.log(f.word.load("Acquire"));
  f.owned.drop();
}
