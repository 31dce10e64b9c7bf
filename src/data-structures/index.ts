/**
 * Data structures shared by the analyses; nothing here knows about the engine.
 */
export { RangeMap, primitiveOps, type RangeMapOps, type RunUpdater, type RunVisitor } from "./range-map.js";
