/**
 * The package version, read from `package.json` (two levels above this module both in `src/interp`
 * and in `dist/driver`).
 */
import { readFileSync } from "node:fs";

/**
 * The version of the kmiri package, or `unknown` when `package.json` cannot be read.
 * @returns e.g. `0.1.0`.
 */
export function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
