// Writes a run's `--out` directory so that it appears whole or not at all: everything goes to a
// sibling staging directory that is renamed into place only when the run completed.

import * as fs from "node:fs";
import * as path from "node:path";
import { makeDirs } from "./make-dirs.ts";

/** Bad `--out` argument; reported like bad input (exit 2). */
export class OutputDirError extends Error {}

const FLUSH_BYTES = 1 << 16;

/** A file written as the run goes, in chunks of at least FLUSH_BYTES. */
export class StreamedFile {
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(private fd: number) {}

  write(chunk: string): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    fs.writeSync(this.fd, this.pending.join(""));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export class OutputDir {
  private readonly staging: string;
  private readonly streams = new Map<string, StreamedFile>();
  private readonly requests: StreamedFile;

  constructor(readonly dir: string) {
    if (dir === "") throw new OutputDirError("--out needs a directory name");
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory())
        throw new OutputDirError(`--out ${dir}: exists and is not a directory`);
      const entries = fs.readdirSync(dir);
      if (entries.length > 0 && !entries.includes("summary.json")) {
        throw new OutputDirError(
          `--out ${dir}: directory is not empty and does not hold a previous pdsim run; refusing to overwrite it`,
        );
      }
    }
    const parent = path.dirname(path.resolve(dir));
    this.staging = path.join(parent, `.${path.basename(dir)}.partial-${process.pid}`);
    let stagingCreated = false;
    try {
      makeDirs(parent);
      fs.rmSync(this.staging, { recursive: true, force: true });
      fs.mkdirSync(this.staging);
      fs.mkdirSync(path.join(this.staging, "metrics"));
      stagingCreated = true;
      this.requests = this.stream("requests.jsonl");
    } catch (error) {
      if (stagingCreated) fs.rmSync(this.staging, { recursive: true, force: true });
      throw new OutputDirError(`--out ${dir}: cannot write there: ${(error as Error).message}`);
    }
  }

  appendRequest(record: unknown): void {
    this.requests.write(JSON.stringify(record) + "\n");
  }

  /** A file written chunk by chunk as the run goes; closed by commit or abort. */
  stream(name: string): StreamedFile {
    const file = new StreamedFile(fs.openSync(path.join(this.staging, name), "w"));
    this.streams.set(name, file);
    return file;
  }

  /** `name` is an instance, or `<profile>/<instance>` for a profile's side-by-side copy. */
  writeMetrics(name: string, exposition: string): void {
    const file = path.join(this.staging, "metrics", `${name}.prom`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, exposition);
  }

  /**
   * Writes `name` from the chunks `produce` hands to `write`, in writes of at least FLUSH_BYTES,
   * without holding them all: `produce` may hand over a line at a time.
   */
  writeStreamed(name: string, produce: (write: (chunk: string) => void) => void): void {
    const file = new StreamedFile(fs.openSync(path.join(this.staging, name), "w"));
    try {
      produce((chunk) => file.write(chunk));
    } finally {
      file.close();
    }
  }

  writeSummary(summary: unknown): void {
    fs.writeFileSync(
      path.join(this.staging, "summary.json"),
      JSON.stringify(summary, null, 2) + "\n",
    );
  }

  /** Replaces `dir` (empty, absent, or a previous run) with the finished staging directory. */
  commit(): void {
    this.closeStreams();
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.renameSync(this.staging, this.dir);
  }

  abort(): void {
    try {
      this.closeStreams();
    } finally {
      fs.rmSync(this.staging, { recursive: true, force: true });
    }
  }

  private closeStreams(): void {
    for (const file of this.streams.values()) file.close();
  }
}
