// Helpers for the end-to-end tests: run the `pdsim` command line (in this process, or as a real
// child process for the few tests about the process itself), make scratch directories, write
// scenario files, read what a run wrote.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { BufferedSink } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";

/** The repository root: the CLI runs from here, as `npx pdsim` would. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pdsim ARGS…` to completion in this process, as `main` runs under bin.js: what it writes
 * and its exit code. An error that escapes `main` is what Node would print for it, with exit 1.
 */
export async function pdsim(...args: string[]): Promise<CliResult> {
  // Scenario paths in the tests are relative to the repository, as for `npx pdsim` run there.
  expect(process.cwd()).toBe(REPO.replace(/\/$/, ""));
  const stdout = new BufferedSink();
  const stderr = new BufferedSink();
  let status: number;
  try {
    status = await main(args, { stdout, stderr });
  } catch (err) {
    stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    status = 1;
  }
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs `pdsim ARGS…` to completion as a child process, as a user's shell would. */
export function pdsimProcess(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, ["src/cli/bin.js", ...args], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    timeout: 60_000,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A fresh, empty directory under the system temp dir; remove it with `removeDir`. */
export function scratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-e2e-"));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes a scenario from lines (so line numbers read off the array) and returns its path. */
export function writeScenario(dir: string, name: string, lines: readonly string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** Every file under `dir`, as sorted paths relative to it. */
export function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** A directory's files and their contents, to check that something left it untouched. */
export function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(dir).map((file) => [file, fs.readFileSync(path.join(dir, file), "utf8")]),
  );
}

export function readJsonLines(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A line of a stack trace, as Node prints them. */
export const STACK_LINE = /^ {4}at /m;

/**
 * Bad input: exit 2, nothing on stdout, a message on stderr holding every fragment given, and no
 * stack trace.
 */
export function expectBadInput(result: CliResult, ...fragments: string[]): void {
  expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 2, stdout: "" });
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
  expect(result.stderr).not.toMatch(STACK_LINE);
}
