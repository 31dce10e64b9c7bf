/**
 * Helpers of the borrow-tracker tests: unwrap a retag's tag, assert a finding, and read the
 * history part of a finding's help.
 */
import { expect } from "vitest";
import { HELP_EXPERIMENTAL, HELP_SEE_ALSO, type Finding, type FindingHelp } from "../../src/borrowtracker/index.js";

/** The tag a retag returned; fails the test with the message if it returned a finding. */
export function tagOf(result: number | Finding): number {
  if (typeof result !== "number") throw new Error(`unexpected finding: ${result.message}`);
  return result;
}

/** The finding an operation returned; fails the test if it returned none. */
export function findingOf(result: number | Finding | null): Finding {
  if (result === null || typeof result === "number") throw new Error(`expected a finding, got ${result}`);
  expect(result.kind).toBe("stacked-borrows");
  expect(result.title).toBe("Undefined Behavior");
  expect(result.help.slice(0, 2)).toEqual([{ message: HELP_EXPERIMENTAL }, { message: HELP_SEE_ALSO }]);
  return result;
}

/** The help lines after Miri's two general ones: the tag's history. */
export function history(f: Finding): readonly FindingHelp[] {
  return f.help.slice(2);
}

/** Expects that an operation found nothing. */
export function clean(result: Finding | null): void {
  if (result !== null) throw new Error(`unexpected finding: ${result.message}`);
}
