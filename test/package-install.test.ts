/**
 * The README's "Use it in your project", done as a user does it: `npm pack` of the built package,
 * a fresh temporary project, a real `npm install` of the tarball (kmiri's dependencies come from
 * npm's cache, which the repository's own `npm install` filled; the registry if not), then every
 * command of the section's ```sh blocks, in order, in that project, with the files its ```ts/```js
 * blocks name in their first line (`// kernel.ts`) written as shown. Each command's comment says its
 * exit status (`exit status N`), which is checked; what the commands print is checked below.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECTION = "## Use it in your project";

interface Result {
  command: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The README section's files (`// name` blocks) and shell commands (with their comments). */
function readmeSection(readme: string): { files: Map<string, string>; commands: { command: string; comment: string }[] } {
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const end = readme.indexOf("\n## ", start + SECTION.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const files = new Map<string, string>();
  const commands: { command: string; comment: string }[] = [];
  for (const m of section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
    const [, lang, body] = m;
    if (lang === "sh") {
      for (const line of body.split("\n").filter((l) => l.trim() !== "")) {
        const c = /^(.*?)\s+#\s(.*)$/.exec(line);
        commands.push({ command: (c ? c[1] : line).trim(), comment: c ? c[2] : "" });
      }
    } else {
      const name = /^\/\/ ([\w.-]+\.[cm]?[jt]s)\n/.exec(body);
      if (name) files.set(name[1], body.slice(name[0].length));
    }
  }
  return { files, commands };
}

/** Runs a shell command line in `cwd`, asynchronously; never rejects on a non-zero exit. */
function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("sh", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ command, code, stdout, stderr });
    });
  });
}

function failure(r: Result): string {
  return `\`${r.command}\` exited with ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

let tmp = "";
let project = "";
/** The child processes' environment: this one without npm's per-script variables (the nested npm must not see the outer `npm test`'s). */
const env: NodeJS.ProcessEnv = {};
/** The section's commands and what each did, in order. */
const results: Result[] = [];
let commands: { command: string; comment: string }[] = [];

beforeAll(async () => {
  const missing = ["dist/index.js", "dist/cli/main.js", "dist/shims/rt.js"].filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length > 0) throw new Error(`the install test packs the built dist/, but ${missing.join(", ")} is missing: run \`npm run build\` first (\`npm test\` does)`);
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("npm_") || /^npm_config_(cache|registry|userconfig|globalconfig|offline|prefer_offline)$/i.test(k)) env[k] = v;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter);
  env.NO_COLOR = "1";

  tmp = realpathSync(mkdtempSync(join(tmpdir(), "kmiri-install-")));
  // `--ignore-scripts`: `prepare` would rebuild dist/; the test packs what the build left.
  const packed = await sh(`npm pack --ignore-scripts --json --pack-destination "${tmp}"`, ROOT, env);
  if (packed.code !== 0) throw new Error(failure(packed));
  const tarball = join(tmp, JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")))[0].filename);

  project = join(tmp, "my-kernel");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-kernel", private: true, type: "module" }, null, 2));
  const section = readmeSection(readFileSync(join(ROOT, "README.md"), "utf8"));
  for (const [name, text] of section.files) writeFileSync(join(project, name), text);
  commands = section.commands;

  for (const { command } of commands) {
    // `npm install … kmiri`: the tarball instead of the registry's kmiri, from the cache when it can.
    const line = command.startsWith("npm install")
      ? `${command.replace(/(\s)kmiri(\s|$)/, `$1"${tarball}"$2`)} --prefer-offline --no-audit --no-fund`
      : command;
    let r = await sh(line, project, env);
    // One retry of the install: a registry or cache hiccup is not the package's fault.
    if (command.startsWith("npm install") && r.code !== 0) r = await sh(line, project, env);
    results.push({ ...r, command });
    if (command.startsWith("npm install") && r.code !== 0) throw new Error(failure(r));
  }
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The result of the README command that matches `pattern` (there must be one). */
function result(pattern: RegExp): Result {
  const r = results.find((x) => pattern.test(x.command));
  if (!r) throw new Error(`README's "${SECTION}" has no command matching ${pattern}; it has: ${commands.map((c) => c.command).join(" | ")}`);
  return r;
}

describe("README: Use it in your project, from the packed tarball", () => {
  test("the section installs kmiri, writes a program and runs kmiri run, kmiri test, --json and the library", () => {
    expect(commands[0]?.command).toMatch(/^npm install --save-dev kmiri$/);
    expect([...readmeSection(readFileSync(join(ROOT, "README.md"), "utf8")).files.keys()]).toEqual(expect.arrayContaining(["kernel.ts", "check.mjs"]));
    const installed = JSON.parse(readFileSync(join(project, "node_modules", "kmiri", "package.json"), "utf8"));
    expect(installed.name).toBe("kmiri");
    expect(existsSync(join(project, "node_modules", ".bin", "kmiri"))).toBe(true);
  });

  test("every command exits with the status its comment gives", () => {
    for (const [i, { command, comment }] of commands.entries()) {
      if (command.startsWith("npm install")) continue;
      const expected = /exit status (\d+)/.exec(comment);
      expect(expected, `the README's comment of \`${command}\` gives no exit status`).not.toBeNull();
      expect(results[i].code, failure(results[i])).toBe(Number(expected![1]));
    }
  });

  test("kmiri run: the program's output", () => {
    const r = result(/^npx kmiri run kernel\.ts$/);
    expect(r.stdout.trim(), failure(r)).toBe("42");
  });

  test("kmiri test: one ktest passes, the other is Undefined Behavior reported at its line", () => {
    const r = result(/^npx kmiri test kernel\.ts$/);
    const out = r.stdout + r.stderr;
    expect(out, failure(r)).toMatch(/^test kernel\.ts::write_then_read \.\.\. ok$/m);
    expect(out).toMatch(/^test kernel\.ts::read_after_free \.\.\. UB$/m);
    expect(out).toContain("error: Undefined Behavior: memory access failed: alloc1 has been freed, so this pointer is dangling");
    expect(out).toContain("--> kernel.ts:26:15");
    expect(out).toContain("test result: FAILED. 1 passed; 0 failed; 1 ub;");
  });

  test("kmiri test --json: one JSON object with both tests", () => {
    result(/^npx kmiri test kernel\.ts --json/);
    const json = JSON.parse(readFileSync(join(project, "report.json"), "utf8"));
    expect(json.tests).toMatchObject([
      { name: "write_then_read", status: "pass" },
      { name: "read_after_free", status: "ub", ub: [{ kind: "use-after-free", title: "Undefined Behavior" }] },
    ]);
  });

  test("the examples shipped in the package run from the consumer project", () => {
    const t = result(/^npx kmiri test node_modules\/kmiri\/examples$/);
    expect(t.stdout, failure(t)).toMatch(/^test result: ok\. 6 passed; 0 failed; 0 ub;/m);
    const r = result(/^npx kmiri run node_modules\/kmiri\/examples\/use-after-free\.ts$/);
    expect(r.stderr, failure(r)).toMatch(/^error: Undefined Behavior: memory access failed/m);
  });

  test("the library: runFile and testPath as data", () => {
    const r = result(/^node check\.mjs$/);
    expect(r.stdout.trim().split("\n"), failure(r)).toEqual(["0 42", "write_then_read pass ", "read_after_free ub use-after-free"]);
  });

  test("the installed package has no source maps, and its API reference", () => {
    const maps: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith(".map")) maps.push(e.name);
      }
    };
    walk(join(project, "node_modules", "kmiri"));
    expect(maps).toEqual([]);
    expect(existsSync(join(project, "node_modules", "kmiri", "docs", "api", "rt.md"))).toBe(true);
  });
});
