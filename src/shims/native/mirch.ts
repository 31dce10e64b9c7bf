/**
 * `kmiri/mirch` on plain Node: the Mirch shims without checks. Empty until the Mirch issue.
 */
export {};
