// OSTD's `mm/page_prop.rs` (asterinas/asterinas, ostd/src/mm/page_prop.rs): the properties of a
// mapped page. Bit flags are numbers with OSTD's bit values; `PageProperty` is a plain value.
// (OSTD keeps it at `mm/page_prop.rs`; it lives here with the page table that encodes it.)

/** Page protection permissions and access status (OSTD's `PageFlags`, a `u8` bit set). */
export const PageFlags = Object.freeze({
  /** Readable. */
  R: 0b0000_0001,
  /** Writable. */
  W: 0b0000_0010,
  /** Executable. */
  X: 0b0000_0100,
  RW: 0b0000_0011,
  RX: 0b0000_0101,
  RWX: 0b0000_0111,
  /** Has the page been read or written. */
  ACCESSED: 0b0000_1000,
  /** Has the page been written. */
  DIRTY: 0b0001_0000,
  /** The second bit available for software use. */
  AVAIL2: 0b1000_0000,
  /** `PageFlags::all()`. */
  all(): number {
    return 0b1001_1111;
  },
});
export type PageFlags = number;

/** Properties only OSTD may set (OSTD's `pub(crate) PrivilegedPageFlags`). */
export const PrivilegedPageFlags = Object.freeze({
  /** Accessible from user mode. */
  USER: 0b0000_0001,
  /** A global page, kept in the TLB by a normal flush. */
  GLOBAL: 0b0000_0010,
  /** The first software bit: OSTD marks tracked vs untracked mappings with it. */
  AVAIL1: 0b0100_0000,
  /** `all()` (no `SHARED`: Mirch has no confidential-VM mode). */
  all(): number {
    return 0b0100_0011;
  },
});
export type PrivilegedPageFlags = number;

/** Flags an intermediate (table) entry may hold (OSTD's `PageTableFlags`). */
export const PageTableFlags = Object.freeze({
  AVAIL1: 0b0100_0000,
  AVAIL2: 0b1000_0000,
  all(): number {
    return 0b1100_0000;
  },
  empty(): number {
    return 0;
  },
});
export type PageTableFlags = number;

/** The cacheability of memory (AMD64's memory types, as OSTD's `CachePolicy`). */
export enum CachePolicy {
  Uncacheable = "Uncacheable",
  WriteCombining = "WriteCombining",
  WriteProtected = "WriteProtected",
  Writethrough = "Writethrough",
  Writeback = "Writeback",
}

/** The property of a mapped virtual page. */
export interface PageProperty {
  flags: PageFlags;
  cache: CachePolicy;
  priv_flags: PrivilegedPageFlags;
}

export const PageProperty = Object.freeze({
  /** `PageProperty::new_user(flags, cache)`: a user page. */
  new_user(flags: PageFlags, cache: CachePolicy): PageProperty {
    return { flags, cache, priv_flags: PrivilegedPageFlags.USER };
  },
  /** `==` of two properties. */
  eq(a: PageProperty, b: PageProperty): boolean {
    return a.flags === b.flags && a.cache === b.cache && a.priv_flags === b.priv_flags;
  },
  /** A copy (`PageProperty` is `Copy`). */
  copy(p: PageProperty): PageProperty {
    return { flags: p.flags, cache: p.cache, priv_flags: p.priv_flags };
  },
});
