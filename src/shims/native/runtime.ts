/**
 * The native runtime's modules by import name, one per guest API of the manifest
 * (src/shims/manifest.ts): what a program imports when it runs on plain Node (`--native`).
 */
import { GUEST_APIS } from "../manifest.js";
import * as rt from "./index.js";
import * as mirch from "./mirch.js";

const NAMESPACES: Readonly<Record<string, object>> = { "kmiri/rt": rt, "kmiri/mirch": mirch };

/** The native namespace of each guest API, by import name. */
export const nativeModules: Readonly<Record<string, object>> = Object.freeze(
  Object.fromEntries(GUEST_APIS.map((api) => [api.name, NAMESPACES[api.name] ?? {}])),
);
