/**
 * The items of a borrow stack: a tag, the permission it grants, and whether it may be protected.
 *
 * A stack stores its items as two parallel arrays of small integers (tags, and *permission bits*:
 * the permission in the low two bits plus {@link MAYBE_PROTECTED}); these helpers read and print
 * them. Miri packs the same three fields into one `u64` (`item.rs`).
 */
import { formatTag, type BorTag } from "../tags.js";

/**
 * What an item grants (Miri's `Permission`), as a small integer (a {@link PermissionCode}):
 * - `Unique` (0): reads and writes, exclusively (`&mut T`, `Box<T>`, the root of a local);
 * - `SharedReadWrite` (1): reads and writes, shared with the adjacent `SharedReadWrite` items
 *   (raw pointers, `&T` inside an `UnsafeCell`, the root of heap and static memory);
 * - `SharedReadOnly` (2): reads only (`&T` outside `UnsafeCell`, `*const T` from it);
 * - `Disabled` (3): nothing; it only separates two groups of `SharedReadWrite` (a `Unique` that a
 *   read disabled).
 */
export type PermissionCode = 0 | 1 | 2 | 3;

/** {@link PermissionCode} of `Unique`. */
export const UNIQUE = 0;
/** {@link PermissionCode} of `SharedReadWrite`. */
export const SHARED_READ_WRITE = 1;
/** {@link PermissionCode} of `SharedReadOnly`. */
export const SHARED_READ_ONLY = 2;
/** {@link PermissionCode} of `Disabled`. */
export const DISABLED = 3;

/** Permission bit: the item's tag was protected when it was made (check the protector table). */
export const MAYBE_PROTECTED = 4;

/** Mask of the permission in a permission-bits value. */
export const PERMISSION_MASK = 3;

/** The kind of a memory access as a small integer ({@link READ} or {@link WRITE}): the hot path compares numbers, not strings. */
export type AccessCode = 0 | 1;

/** {@link AccessCode} of a read. */
export const READ = 0;
/** {@link AccessCode} of a write. */
export const WRITE = 1;

/**
 * How strongly a protected item is protected while its function runs (Miri's `ProtectorKind`):
 * - `weak`: the item may not be invalidated, but the memory may be deallocated through the
 *   pointer itself (`Box` arguments: `noalias` without `dereferenceable`);
 * - `strong`: the item may neither be invalidated nor its memory deallocated (reference
 *   arguments: `noalias` and `dereferenceable`).
 */
export type ProtectorKind = "weak" | "strong";

const PERMISSION_NAMES = ["Unique", "SharedReadWrite", "SharedReadOnly", "Disabled"] as const;

/** Miri's name of a permission: `Unique`, `SharedReadWrite`, `SharedReadOnly`, `Disabled`. */
export type PermissionName = (typeof PERMISSION_NAMES)[number];

/** The name of `perm` (permission bits are accepted: the protection bit is ignored). */
export function permissionName(perm: number): PermissionName {
  return PERMISSION_NAMES[perm & PERMISSION_MASK]!;
}

/** Whether an item with permission bits `bits` grants an access of kind `access`. */
export function grants(bits: number, access: AccessCode): boolean {
  const p = bits & PERMISSION_MASK;
  // Disabled grants nothing; everything else grants reads; all but SharedReadOnly grant writes.
  return p !== DISABLED && (access === READ || p !== SHARED_READ_ONLY);
}

/** `[Unique for <12>]`: how Miri prints an item. */
export function formatItem(tag: BorTag, bits: number): string {
  return `[${permissionName(bits)} for ${formatTag(tag)}]`;
}

/** `read access` / `write access`: how Miri names an access kind in messages. */
export function accessName(access: AccessCode): string {
  return access === READ ? "read access" : "write access";
}

/** One item of a stack, as the inspection API returns it. */
export interface ItemView {
  /** The tag the item grants to. */
  readonly tag: BorTag;
  /** The permission it grants. */
  readonly permission: PermissionName;
  /** Whether its tag was protected when it was made (it may have been released since). */
  readonly protected: boolean;
}
