/**
 * Where each source file's page lives in the report directory: `files/<name>.html`, one flat
 * folder, so that every page links to every other with a bare name and to the index with `../`.
 */

/** The folder of the source pages, relative to the report directory. */
export const FILES_DIR = "files";

/**
 * The page name of each source file (without the folder), unique among them.
 * @param files - source paths relative to the working directory, with `/` separators.
 * @returns file → page name (`test_fixtures_a.ts.html`); a second file that would get the same
 *   name gets `-2`, `-3`… before `.html`.
 */
export function pageNames(files: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const file of [...files].sort()) {
    const base = file.replace(/^(\.\.\/)+/, "").replace(/[^A-Za-z0-9._-]/g, "_") || "source";
    let name = `${base}.html`;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}.html`;
    taken.add(name);
    names.set(file, name);
  }
  return names;
}

/**
 * The anchor of a line on a source page (`L12`), as GitHub names them.
 * @param line - the 1-based line.
 */
export function lineAnchor(line: number): string {
  return `L${line}`;
}
