// A trace file read a line at a time with synchronous reads into one fixed buffer, so a replay
// holds one chunk of the file, never the file: the simulator pulls its next request while it
// runs, and a million-line trace costs no more memory than a hundred-line one.

import { closeSync, openSync, readSync } from "node:fs";

const CHUNK_BYTES = 64 * 1024;

/** A line longer than this is not a trace record; reading on would only fill memory. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export interface TraceLine {
  /** 1-based. */
  number: number;
  /** Without its line ending (`\n` or `\r\n`). */
  text: string;
}

export class LineTooLong extends Error {
  constructor(readonly lineNumber: number) {
    super(`line ${lineNumber} is longer than ${MAX_LINE_CHARS} characters`);
  }
}

/** A line holds bytes that are not UTF-8 (a real U+FFFD character is fine). */
export class NotUtf8 extends Error {
  constructor(readonly lineNumber: number) {
    super(`line ${lineNumber} holds a byte that is not UTF-8`);
  }
}

export class LineReader {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  /** The last chunk's bytes of a character the chunk did not finish, for finding a bad line. */
  private carry = new Uint8Array(0);
  /** The start of a line whose end has not been read yet. */
  private pending: string[] = [];
  private pendingChars = 0;
  private lines: string[] = [];
  private nextIndex = 0;
  private lineNumber = 0;
  private ended = false;

  constructor(path: string) {
    this.fd = openSync(path, "r");
  }

  /** The next line, or null at the end of the file (a last line without `\n` is still a line). */
  next(): TraceLine | null {
    while (this.nextIndex >= this.lines.length) {
      if (this.ended) return null;
      this.fill();
    }
    const text = this.lines[this.nextIndex++]!;
    this.lineNumber += 1;
    return { number: this.lineNumber, text: text.endsWith("\r") ? text.slice(0, -1) : text };
  }

  close(): void {
    closeSync(this.fd);
  }

  private fill(): void {
    const read = readSync(this.fd, this.buffer, 0, CHUNK_BYTES, null);
    this.nextIndex = 0;
    if (read === 0) {
      this.ended = true;
      let end: string;
      try {
        end = this.decoder.decode();
      } catch {
        throw new NotUtf8(this.lineNumber + 1);
      }
      const last = this.takePending(end);
      this.lines = last === "" ? [] : [last];
      return;
    }
    const chunk = this.buffer.subarray(0, read);
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      throw new NotUtf8(this.badLine(chunk));
    }
    this.carry = Uint8Array.from(incompleteTail(chunk));
    const newline = text.indexOf("\n");
    if (newline < 0) {
      // Kept as pieces: joining a long line chunk by chunk would copy it once per chunk.
      this.pending.push(text);
      this.pendingChars += text.length;
      if (this.pendingChars > MAX_LINE_CHARS) throw new LineTooLong(this.lineNumber + 1);
      this.lines = [];
      return;
    }
    const first = this.takePending(text.slice(0, newline));
    if (first.length > MAX_LINE_CHARS) throw new LineTooLong(this.lineNumber + 1);
    const rest = text.slice(newline + 1).split("\n");
    const open = rest.pop()!;
    this.pending.push(open);
    this.pendingChars = open.length;
    this.lines = [first, ...rest];
  }

  /** The line of the first byte of `chunk` (after the carried ones) that is not UTF-8. */
  private badLine(chunk: Uint8Array): number {
    const bytes = new Uint8Array(this.carry.length + chunk.length);
    bytes.set(this.carry);
    bytes.set(chunk, this.carry.length);
    // Every line before the chunk was read whole, so the chunk starts in line lineNumber + 1.
    let line = this.lineNumber + 1;
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline < 0 ? bytes.length : newline;
      try {
        // The last piece may stop inside a character that the next chunk finishes.
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start, end), {
          stream: newline < 0,
        });
      } catch {
        return line;
      }
      if (newline < 0) return line;
      start = newline + 1;
      line += 1;
    }
  }

  private takePending(tail: string): string {
    const line = this.pending.join("") + tail;
    this.pending = [];
    this.pendingChars = 0;
    return line;
  }
}

/** The bytes at the end of `chunk` that start a character the chunk does not finish. */
function incompleteTail(chunk: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const byte = chunk[chunk.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? chunk.subarray(chunk.length - back) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}
