// `pdsim serve`: each instance's /metrics on its own loopback port while the simulation runs at
// --speed times real time; scrapes during the run never see a counter go down, and once the run
// ends the exposition is exactly what `pdsim run --out` writes. Ctrl-C stops it cleanly.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/net.ts";
import { REPO, pdsim, removeDir, scratchDir } from "./cli.ts";

let child: ChildProcessWithoutNullStreams | null = null;
afterEach(() => {
  if (child !== null && child.exitCode === null) child.kill("SIGKILL");
  child = null;
});

interface Served {
  lines: string[];
  exited: Promise<number | null>;
  waitFor(pattern: RegExp): Promise<string>;
}

function serve(...args: string[]): Served {
  const proc = spawn(process.execPath, ["src/cli/bin.js", "serve", ...args], { cwd: REPO });
  child = proc;
  const lines: string[] = [];
  let buffered = "";
  const listeners: (() => void)[] = [];
  proc.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners.splice(0)) l();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return {
    lines,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern}: ${lines.join("\n")}`)),
          20_000,
        );
        const check = () => {
          const found = lines.find((l) => pattern.test(l));
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          } else listeners.push(check);
        };
        check();
      }),
  };
}

/** Counter samples (name{labels} → value) of an exposition. */
function counters(text: string): Map<string, number> {
  const types = new Map<string, string>();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const sample = /^([^\s{#]+)(\{.*\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const family = sample[1]!.replace(/_(bucket|sum|count)$/, "");
    const kind = types.get(sample[1]!) ?? types.get(family);
    if (kind === "counter" || kind === "histogram")
      out.set(`${sample[1]}${sample[2] ?? ""}`, Number(sample[3]));
  }
  return out;
}

describe("pdsim serve", () => {
  it("serves every instance while it runs; counters never go down; the end matches pdsim run", async () => {
    const port = await freePort();
    const s = serve("scenarios/pd-shared-prefix.yaml", "--port", String(port), "--speed", "0.5");
    const prefill = await s.waitFor(/^prefill-0 +http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const decode = await s.waitFor(/^decode-0 +http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(prefill).toContain(`:${port}/metrics`);
    expect(decode).toContain(`:${port + 1}/metrics`);

    const url = `http://127.0.0.1:${port + 1}/metrics`;
    let previous = new Map<string, number>();
    let scrapes = 0;
    let grew = 0;
    while (!s.lines.some((l) => l.includes("simulation finished"))) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const now = counters(await res.text());
      for (const [series, value] of previous) {
        expect(now.get(series), series).toBeGreaterThanOrEqual(value);
        if (now.get(series)! > value) grew += 1;
      }
      previous = now;
      scrapes += 1;
      await new Promise((r) => setTimeout(r, 25));
    }
    // Scrapes landed while the counters were still moving, not only before and after.
    expect(scrapes).toBeGreaterThan(5);
    expect(grew).toBeGreaterThan(0);

    const dir = scratchDir();
    try {
      const run = await pdsim(
        "run",
        "scenarios/pd-shared-prefix.yaml",
        "--quiet",
        "--out",
        path.join(dir, "run"),
      );
      expect(run.status).toBe(0);
      for (const [i, name] of ["prefill-0", "decode-0"].entries()) {
        const served = await (await fetch(`http://127.0.0.1:${port + i}/metrics`)).text();
        expect(served).toBe(
          fs.readFileSync(path.join(dir, "run", "metrics", `${name}.prom`), "utf8"),
        );
      }
    } finally {
      removeDir(dir);
    }

    const missing = await fetch(`http://127.0.0.1:${port}/nowhere`);
    expect(missing.status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");

    child!.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(s.lines.at(-1)).toBe("pdsim: stopped");
    // The ports are free again.
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);

  it.each([
    [["--port", "0"], "pdsim: --port must be an integer from 1 to 65535, got '0'"],
    [["--speed", "fast"], "pdsim: --speed must be a positive number, got 'fast'"],
    [["--speed", "0"], "pdsim: --speed must be a positive number, got '0'"],
  ])("refuses %j with exit 2", async (args, message) => {
    const r = await pdsim("serve", "scenarios/pd-basic.yaml", ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`${message}\n`);
  });

  it("refuses a port that is taken, with exit 2", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const s = serve("scenarios/pd-basic.yaml", "--port", String(port));
      expect(await s.exited).toBe(2);
    } finally {
      blocker.close();
    }
  });
});
