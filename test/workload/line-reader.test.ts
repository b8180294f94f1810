import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import {
  LineReader,
  LineTooLong,
  MAX_LINE_CHARS,
  NotUtf8,
} from "../../src/workload/trace/line-reader.ts";
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

it("names the line of a byte that is not UTF-8, wherever the chunks split, and reads U+FFFD as text", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: fc.constantFrom("a", "é", "😀", "\uFFFD"), maxLength: 30_000 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.nat(),
      fc.nat(),
      fc.constantFrom([0xff], [0xe9, 0x41], [0xc3], [0xed, 0xa0, 0x80]),
      (lines, pickLine, pickAt, bad) => {
        const file = path.join(dir, "bad.txt");
        fs.writeFileSync(file, `${lines.join("\n")}\n`);
        expect(readAll(file)).toEqual(lines);
        const line = pickLine % lines.length;
        const encoded = lines.map((l) => Buffer.from(l, "utf8"));
        // Between two characters of the line: a lone continuation, a truncated lead, a surrogate.
        const chars = [...lines[line]!];
        const at = Buffer.byteLength(chars.slice(0, pickAt % (chars.length + 1)).join(""), "utf8");
        const target = encoded[line]!;
        encoded[line] = Buffer.concat([
          target.subarray(0, at),
          Buffer.from(bad),
          target.subarray(at),
        ]);
        fs.writeFileSync(file, Buffer.concat(encoded.flatMap((b) => [b, Buffer.from("\n")])));
        let error: unknown = null;
        try {
          readAll(file);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(NotUtf8);
        expect((error as NotUtf8).lineNumber).toBe(line + 1);
      },
    ),
    { numRuns: 60, seed: 19 },
  );
});
