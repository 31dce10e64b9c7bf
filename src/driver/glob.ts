/**
 * A small glob matcher for `kmiri test --include/--exclude` (Node 20 has no `path.matchesGlob`).
 *
 * A pattern is matched against a path relative to the working directory, with `/` separators:
 *
 * - `*` matches any run of characters but `/`; `?` one character but `/`;
 * - `**` as a whole segment matches any number of segments, none included (`src/**\/*.ts` matches
 *   `src/a.ts` and `src/mm/frame.ts`);
 * - `{a,b}` matches either alternative (nested braces too): `**\/*.{test,spec}.ts`;
 * - `[abc]`, `[a-z]`, `[!a]` match one character of a class; `\` escapes the next character;
 * - a leading `./` is ignored.
 *
 * As in `.gitignore`, a pattern also matches every path under a directory it matches
 * (`--exclude src/legacy` excludes `src/legacy/a.ts`), and a pattern without a `/` is matched
 * against each file or directory name on the way (`--exclude '*.js'`, `--exclude fixtures`).
 *
 * The pattern is compiled once to a regular expression: braces are expanded first (as a shell
 * does), then each alternative is translated character by character.
 */

/** A compiled glob: {@link Glob.matches} a relative path. */
export interface Glob {
  /** The pattern as given. */
  readonly pattern: string;
  /** Whether `relativePath` (`/`-separated; a `\` is read as `/`) or a directory above it matches. */
  matches(relativePath: string): boolean;
}

/**
 * Compiles a glob pattern.
 * @param pattern - the glob (`src/**\/*.ts`, `*.{test,spec}.ts`).
 * @returns the compiled glob.
 * @throws SyntaxError when the pattern is empty or has an unclosed `{`.
 * @example
 * compileGlob("**\/*.{test,spec}.ts").matches("src/mm/frame.test.ts") // true
 * compileGlob("src/legacy").matches("src/legacy/old.ts")             // true
 */
export function compileGlob(pattern: string): Glob {
  const p = pattern.replace(/^(\.\/)+/, "");
  if (p === "") throw new SyntaxError(`empty glob pattern \`${pattern}\``);
  const alternatives = expandBraces(p, pattern);
  // Without a `/`, the pattern may match any segment (a name); with one, it is anchored.
  const sources = alternatives.map((a) => (a.replace(/\/+$/, "").includes("/") ? `^${translate(a.replace(/\/+$/, ""))}` : `(?:^|/)${translate(a)}`));
  const re = new RegExp(`(?:${sources.join("|")})(?:/|$)`, "s");
  return {
    pattern,
    matches: (relativePath) => re.test(relativePath.replace(/\\/g, "/").replace(/^(\.\/)+/, "")),
  };
}

/**
 * Whether a path matches a glob pattern (compiles it each time: for a list of paths, use
 * {@link compileGlob}).
 * @param relativePath - a `/`-separated path relative to where the pattern is meant.
 * @param pattern - the glob.
 */
export function matchesGlob(relativePath: string, pattern: string): boolean {
  return compileGlob(pattern).matches(relativePath);
}

/** `a{b,c{d,e}}f` → `abf`, `acdf`, `acef` (escaped braces and commas stay as they are). */
function expandBraces(p: string, original: string): string[] {
  let open = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "{") {
      open = i;
      break;
    }
  }
  if (open < 0) return [p];
  const parts: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      parts.push(p.slice(start, i));
      const head = p.slice(0, open);
      const tails = expandBraces(p.slice(i + 1), original);
      return parts.flatMap((part) => expandBraces(part, original).flatMap((x) => tails.map((t) => head + x + t)));
    } else if (c === "," && depth === 1) {
      parts.push(p.slice(start, i));
      start = i + 1;
    }
  }
  throw new SyntaxError(`unclosed \`{\` in the glob pattern \`${original}\``);
}

/** One brace-free glob as the source of a regular expression. */
function translate(g: string): string {
  let out = "";
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    const atSegmentStart = i === 0 || g[i - 1] === "/";
    if (c === "*" && g[i + 1] === "*" && atSegmentStart && (i + 2 === g.length || g[i + 2] === "/")) {
      // `**/` is any number of whole segments; a final `**` anything at all.
      if (i + 2 === g.length) out += ".*";
      else out += "(?:[^/]*/)*";
      i += 2;
    } else if (c === "*") {
      while (g[i + 1] === "*") i++;
      out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "\\" && i + 1 < g.length) out += escapeRegExp(g[++i]!);
    else if (c === "[") {
      const end = g.indexOf("]", i + 2);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = g.slice(i + 1, end);
      const negated = body[0] === "!" || body[0] === "^";
      if (negated) body = body.slice(1);
      out += `[${negated ? "^/" : ""}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
      i = end;
    } else out += escapeRegExp(c);
  }
  return out;
}

function escapeRegExp(c: string): string {
  return /[.+^${}()|[\]\\*?]/.test(c) ? `\\${c}` : c;
}
