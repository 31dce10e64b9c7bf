// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): `JoinHandle.join` called on something that is not a
// JoinHandle — detached (`const j = h.join; j()`), or `h.join.call(x)` — fails inside kmiri:
// `internal error in kmiri: TypeError: Cannot read properties of undefined (reading 'thread')` (or
// `'state'` when `x` is a number, a string, an array...), exit status 2.
//
// src/shims/checked/threads.ts: the generator version of `join` installed on
// `JoinHandle.prototype.join[GEN]` (≈ line 52) and the plain `join` (≈ line 23) read `this.thread`
// / `t.state` without checking `this instanceof JoinHandle`.
//
// Generator features: `misuse.spawn.join-detached`, `misuse.arg.JoinHandle.join.*`.
import { spawn } from "kmiri/rt";

export function main(): void {
  const h = spawn(() => 1);
  h.join.call(undefined as any);
}
