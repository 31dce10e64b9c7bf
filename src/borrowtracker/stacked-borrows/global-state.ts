/**
 * The state Stacked Borrows shares across allocations (Miri's `GlobalStateInner`): the tag
 * counter, the table of protected tags, and the tags being tracked (`--track-tag`).
 */
import { TagAllocator, type BorTag } from "../tags.js";
export type { TagSet } from "../tags.js";
import type { Site, TagEvent } from "./diagnostics.js";
import type { ProtectorKind } from "./item.js";

/** The tracker-wide state of Stacked Borrows. */
export class GlobalState {
  /** Hands out every tag (root tags and retags). */
  readonly tags = new TagAllocator();
  /**
   * The tags protected by a running call, with the kind of protection. An item carries a
   * "maybe protected" bit so that only items made with a protector ever look here; the entry is
   * removed when the call ends ({@link GlobalState.releaseProtector}).
   */
  readonly protectedTags = new Map<BorTag, ProtectorKind>();
  /** The tags whose events are reported (`--track-tag N`). */
  readonly trackedTags = new Set<BorTag>();
  /** Receives the events of tracked tags. */
  onTagEvent: ((event: TagEvent) => void) | null = null;
  /**
   * Whether allocations keep the history their findings' help lines draw on (where a tag was
   * created, invalidated, protected). Off, a finding has no history lines: a caller that wants
   * them repeats the (deterministic) run with it on, as kmiri's driver does.
   */
  history = true;

  /** Protects `tag` with `kind` until {@link GlobalState.releaseProtector}. */
  protect(tag: BorTag, kind: ProtectorKind): void {
    this.protectedTags.set(tag, kind);
  }

  /** Ends the protection of `tag` (its call returned). */
  releaseProtector(tag: BorTag): void {
    this.protectedTags.delete(tag);
  }

  /** Whether `tag` is tracked (cheap when nothing is). */
  isTracked(tag: BorTag): boolean {
    return this.trackedTags.size !== 0 && this.trackedTags.has(tag);
  }

  /** Reports an event of a tracked tag to the listener. */
  emit(tag: BorTag, event: TagEvent["event"], message: string, site: Site): void {
    this.onTagEvent?.({ tag, event, message, site });
  }
}
