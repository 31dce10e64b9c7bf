/**
 * Synchronous position mapping from compiled JavaScript back to the `.ts` source.
 *
 * A source map is decoded once (with the `source-map` package, which is asynchronous and backed by
 * WebAssembly) into flat typed arrays sorted by generated position; the consumer is destroyed right
 * after. Lookups are then a binary search over one generated line, with no allocation besides the
 * returned object.
 */
import { SourceMapConsumer, type RawSourceMap } from "source-map";

/** A position in a source file: line 1-based, column 1-based. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Maps a position in generated JS (line 1-based, column 0-based, as acorn's `loc` gives) to the
 * source position (line and column 1-based).
 */
export type PositionMapper = (line: number, column: number) => SourcePosition;

/** The identity mapping of a `.js` file: same line, column + 1. */
export const identityMapper: PositionMapper = (line, column) => ({ line, column: column + 1 });

/**
 * The decoded mappings of one source map, sorted by generated position. Mapping `i` of generated
 * line `l` (1-based) is at index `lineStart[l] + i`, for indices below `lineStart[l + 1]`.
 * Source lines are 1-based, source columns 0-based (the source-map convention).
 */
export interface MappingTables {
  /** Offsets into the arrays below, indexed by generated line; length = generated lines + 2. */
  readonly lineStart: Int32Array;
  readonly genColumn: Int32Array;
  readonly srcLine: Int32Array;
  readonly srcColumn: Int32Array;
}

/**
 * Decodes a raw source map (the JSON text or the parsed object) into {@link MappingTables}.
 * Segments without an original position are skipped: a lookup in them falls back to the mapping
 * before them.
 */
export async function decodeSourceMap(map: string | RawSourceMap): Promise<MappingTables> {
  const raw: RawSourceMap = typeof map === "string" ? (JSON.parse(map) as RawSourceMap) : map;
  const consumer = await new SourceMapConsumer(raw);
  const genLine: number[] = [];
  const genColumn: number[] = [];
  const srcLine: number[] = [];
  const srcColumn: number[] = [];
  try {
    // GENERATED_ORDER (the default): sorted by generated line, then column.
    consumer.eachMapping((m) => {
      if (m.source == null || m.originalLine == null) return;
      genLine.push(m.generatedLine);
      genColumn.push(m.generatedColumn);
      srcLine.push(m.originalLine);
      srcColumn.push(m.originalColumn);
    });
  } finally {
    consumer.destroy();
  }
  const lastLine = genLine.length > 0 ? genLine[genLine.length - 1]! : 0;
  const lineStart = new Int32Array(lastLine + 2);
  // lineStart[l] = index of the first mapping on a line >= l.
  let index = 0;
  for (let line = 0; line <= lastLine + 1; line++) {
    while (index < genLine.length && genLine[index]! < line) index++;
    lineStart[line] = index;
  }
  return {
    lineStart,
    genColumn: Int32Array.from(genColumn),
    srcLine: Int32Array.from(srcLine),
    srcColumn: Int32Array.from(srcColumn),
  };
}

/**
 * A synchronous {@link PositionMapper} over decoded tables. A position maps to the last mapping at
 * or before it on the same generated line; if that line has none before it, to the last mapping of
 * the nearest earlier line that has one; if there is none at all, to line 1 column 1. O(log n).
 */
export function createPositionMapper(tables: MappingTables): PositionMapper {
  const { lineStart, genColumn, srcLine, srcColumn } = tables;
  const lastLine = lineStart.length - 2;
  return (line, column) => {
    let found = -1;
    if (line > lastLine) {
      found = genColumn.length - 1;
    } else if (line >= 1) {
      const start = lineStart[line]!;
      // Binary search for the last mapping on `line` with genColumn <= column.
      let lo = start;
      let hi = lineStart[line + 1]! - 1;
      found = start - 1; // the last mapping of an earlier line, if any
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (genColumn[mid]! <= column) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
    }
    if (found < 0) return { line: 1, column: 1 };
    return { line: srcLine[found]!, column: srcColumn[found]! + 1 };
  };
}
