import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { LineReader, LineTooLong, MAX_LINE_CHARS } from "../../src/workload/trace/line-reader.ts";
import { removeDir, scratchDir } from "../e2e/cli.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

function readAll(file: string): string[] {
  const reader = new LineReader(file);
  const lines: string[] = [];
  try {
    for (let line = reader.next(); line !== null; line = reader.next()) {
      expect(line.number).toBe(lines.length + 1);
      lines.push(line.text);
    }
  } finally {
    reader.close();
  }
  return lines;
}

it("reads lines across 64 KiB chunks, with CRLF endings and characters split between chunks", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.string({ unit: fc.constantFrom("a", "é", "😀", "語", "\r"), maxLength: 40_000 }),
        {
          maxLength: 6,
        },
      ),
      fc.boolean(),
      fc.boolean(),
      (lines, crlf, trailing) => {
        const clean = lines.map((l) => l.replaceAll("\r", ""));
        const ending = crlf ? "\r\n" : "\n";
        const file = path.join(dir, "lines.txt");
        fs.writeFileSync(
          file,
          clean.map((l, i) => (i < clean.length - 1 || trailing ? l + ending : l)).join(""),
        );
        // A file's last line needs no ending, but an ending does not start another line.
        const expected = !trailing && clean.at(-1) === "" ? clean.slice(0, -1) : clean;
        expect(readAll(file)).toEqual(expected);
      },
    ),
    { numRuns: 40, seed: 18 },
  );
});

it("stops at a line too long to be a record instead of filling memory", () => {
  const file = path.join(dir, "long.txt");
  fs.writeFileSync(file, `ok\n${"x".repeat(MAX_LINE_CHARS + 10)}\n`);
  expect(() => readAll(file)).toThrow(LineTooLong);
  try {
    readAll(file);
  } catch (error) {
    expect((error as LineTooLong).lineNumber).toBe(2);
  }
});
