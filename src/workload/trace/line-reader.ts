// A trace file read a line at a time with synchronous reads into one fixed buffer, so a replay
// holds one chunk of the file, never the file: the simulator pulls its next request while it
// runs, and a million-line trace costs no more memory than a hundred-line one.

import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

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

export class LineReader {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly decoder = new StringDecoder("utf8");
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
      const last = this.takePending(this.decoder.end());
      this.lines = last === "" ? [] : [last];
      return;
    }
    const text = this.decoder.write(this.buffer.subarray(0, read));
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

  private takePending(tail: string): string {
    const line = this.pending.join("") + tail;
    this.pending = [];
    this.pendingChars = 0;
    return line;
  }
}
