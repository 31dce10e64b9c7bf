/**
 * The borrow tracker: Stacked Borrows, as Miri implements it, as a library. It imports nothing
 * from the engine, the shims or the CLI (only `src/data-structures`), so another simulator can
 * check its guests' pointers with it.
 *
 * @example
 * ```ts
 * import { StackedBorrows, isFinding } from "./borrowtracker/index.js";
 *
 * const sb = new StackedBorrows();
 * const root = sb.newAllocation(1, 4, "stack", 100);              // `let mut x = 0;` at site 100
 * const raw = sb.retag(1, root, 0, 4, "raw-mut", 101);            // `&mut x as *mut i32`
 * const shr = sb.retag(1, root, 0, 4, "shared", 102);             // `&x`
 * if (isFinding(raw) || isFinding(shr)) throw new Error("unexpected");
 * sb.access(1, root, 0, 4, "write", 103);                         // `x = 1;` pops both
 * const f = sb.access(1, shr, 0, 4, "read", 104);                 // `*shr`
 * // f.message: "attempting a read access using <3> at alloc1[0x0], but that tag does not exist in the borrow stack for this location"
 * // f.help: …, { message: "<3> was created by a SharedReadOnly retag at offsets [0x0..0x4]", site: 102 },
 * //            { message: "<3> was later invalidated at offsets [0x0..0x4] by a write access", site: 103 }
 * ```
 */
export {
  StackedBorrows,
  type AccessKindName,
  type AllocationKind,
  type ProtectorOption,
  type RetagKind,
  type RetagOptions,
  type StackedBorrowsOptions,
  type StackedBorrowsStats,
  type StackView,
} from "./stacked-borrows/tracker.js";
export { AllocationState, type CellRanges, type NewPermission } from "./stacked-borrows/allocation-state.js";
export { Stack, type StackHost, type StackStatus } from "./stacked-borrows/stack.js";
export {
  formatItem,
  permissionName,
  type ItemView,
  type PermissionCode,
  type PermissionName,
  type ProtectorKind,
} from "./stacked-borrows/item.js";
export {
  AllocHistory,
  formatRange,
  HELP_EXPERIMENTAL,
  HELP_SEE_ALSO,
  type Finding,
  type FindingHelp,
  type RetagCause,
  type Site,
  type TagEvent,
} from "./stacked-borrows/diagnostics.js";
export { GlobalState } from "./stacked-borrows/global-state.js";
export { formatTag, TagAllocator, WILDCARD, type BorTag, type TagOrWildcard, type TagSet } from "./tags.js";
export { StackedBorrowsHooks, type FindingReporter } from "./hooks-adapter.js";
export { retagKind, retagOptions, isFnEntry, entryProtector } from "./retag-policy.js";

import type { Finding } from "./stacked-borrows/diagnostics.js";

/** Whether a retag's result is a finding (rather than the new tag). */
export function isFinding(result: number | Finding | null): result is Finding {
  return typeof result === "object" && result !== null;
}
