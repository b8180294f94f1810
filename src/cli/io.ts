// Where a command's text goes: the process's stdout and stderr when `pdsim` runs as a program,
// strings in memory when a test runs `main` in its own process.

/** A stream of text: `process.stdout`, or a buffer. */
export interface TextSink {
  write(text: string): unknown;
  /** True for a terminal: only then does a long run draw a progress bar. */
  readonly isTTY?: boolean;
}

export interface CliIo {
  /** Deterministic results: log lines, the summary, JSON. */
  readonly stdout: TextSink;
  /** Diagnostics: errors, timings, the progress bar. */
  readonly stderr: TextSink;
}

export const PROCESS_IO: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** A sink that keeps what is written, for `main` called in-process. */
export class BufferedSink implements TextSink {
  private readonly chunks: string[] = [];

  write(text: string): boolean {
    this.chunks.push(text);
    return true;
  }

  text(): string {
    return this.chunks.join("");
  }
}
