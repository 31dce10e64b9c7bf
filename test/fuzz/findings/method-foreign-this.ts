// FINDING (fuzz): a `kmiri/rt` method called on something that is not its own object fails inside
// kmiri: `const rd = p.read; rd()` gives `internal error in kmiri: TypeError: Cannot read
// properties of undefined (reading 'address')`, exit status 2. So do `box.drop.call(p)` (a `Box`
// method on a pointer: `reading 'address'`) and a pointer whose `layout` field the program
// overwrote (`(p as any).layout = undefined; p.read()`: `reading 'size'`).
//
// Commit 771fdc9 turned most foreign receivers into an `unsupported` report (src/interp/machine.ts
// `isForeignReceiver`, ≈ line 1157, recognises the TypeError of a private field read: `Cannot read
// private member #… from an object whose class did not declare it`). These three fail before any
// private field is read: `Ptr.read` reads the public `this.address` first
// (src/shims/checked/memory.ts ≈ line 239: `load(mem, this.address, this.#provenance, …)`, with
// `this` undefined), `BoxImpl.drop` reads `this.raw.address` (≈ line 610: `raw` is public), and
// `Ptr.layout` is a public field that only TypeScript keeps `readonly` (≈ line 66). At HEAD
// 093636b every form failed (`p.read.call({})`, forged pointers, `Ref.read.call(undefined)`, a
// detached `join`, and writes to `provenance`).
//
// Generator features: `misuse.this.detached`, `misuse.this.box-detached`, `misuse.tamper.layout`.
import { alloc, dealloc, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    p.write(1);
    const rd = p.read;
    console.log((rd as any)());
    dealloc(p, u32);
  }
}
