/**
 * The reference names native `memory.ts` imports (`SharedRef` for `&T`, `UniqueRef` for `&mut T`).
 * The references themselves live in `refs.ts`; this module keeps the old import path working.
 */
export { SharedRef, UniqueRef } from "./refs.js";
