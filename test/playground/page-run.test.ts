// The playground's run, in Node: the same summary as `pdsim run --json` for the same scenario and
// seed, the same placed messages for a bad scenario, progress as it goes.
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { explainPageRequest, runPageScenario } from "../../src/playground/page-run.ts";
import { pdsim } from "../e2e/cli.ts";

const withoutWall = (summary: object) => ({ ...summary, wall_seconds: 0 });

async function cliSummary(file: string, ...args: string[]) {
  const run = await pdsim("run", file, "--json", ...args);
  return withoutWall(JSON.parse(run.stdout) as object);
}

describe("the playground's run", () => {
  it.each([
    ["scenarios/quickstart.yaml"],
    ["scenarios/pd-shared-prefix.yaml"],
    ["scenarios/preempted-connector-grows.yaml"],
  ])("gives %s's summary as pdsim run --json does", async (file) => {
    const page = runPageScenario(fs.readFileSync(file, "utf8"), file);
    expect(page.kind).toBe("done");
    if (page.kind !== "done") return;
    expect(withoutWall(page.summary)).toEqual(await cliSummary(file));
    expect(page.report.times.length).toBeGreaterThan(20);
  });

  it("follows --seed and --profile", async () => {
    // A generated workload, which the seed draws.
    const file = "scenarios/quickstart.yaml";
    const page = runPageScenario(fs.readFileSync(file, "utf8"), file, {
      seed: 7,
      profile: "vllm-pr33290",
    });
    expect(page.kind).toBe("done");
    if (page.kind !== "done") return;
    expect(withoutWall(page.summary)).toEqual(
      await cliSummary(file, "--seed", "7", "--profile", "vllm-pr33290"),
    );
  });

  it("places a bad scenario's problems as the CLI does", async () => {
    const file = "scenarios/quickstart.yaml";
    const text = fs.readFileSync(file, "utf8").replace("block_size", "blok_size");
    fs.mkdirSync("/tmp/pdsim-page-test", { recursive: true });
    const copy = "/tmp/pdsim-page-test/quickstart.yaml";
    fs.writeFileSync(copy, text);
    const page = runPageScenario(text, copy);
    expect(page.kind).toBe("invalid");
    const cli = await pdsim("run", copy);
    expect(cli.status).toBe(2);
    if (page.kind !== "invalid") return;
    const formatted = page.issues.map(
      (i) => `${i.file}:${i.line}:${i.column}: ${i.path === "" ? "" : `${i.path}: `}${i.message}`,
    );
    expect(formatted.join("\n") + "\n").toBe(cli.stderr);
    expect(page.issues[0]!.line).toBeGreaterThan(1);
  });

  it("reports its progress after every slice, up to the whole workload", () => {
    const file = "scenarios/quickstart.yaml";
    const seen: [number, number][] = [];
    const page = runPageScenario(fs.readFileSync(file, "utf8"), file, undefined, {
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(page.kind).toBe("done");
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.at(-1)).toEqual([seen.at(-1)![1], seen.at(-1)![1]]);
    expect(seen.map(([done]) => done)).toEqual(seen.map(([done]) => done).sort((a, b) => a - b));
  });

  it("refuses a trace workload with a message, since the page has no files", () => {
    const file = "scenarios/mooncake-1p1d.yaml";
    const page = runPageScenario(fs.readFileSync(file, "utf8"), file);
    expect(page.kind).toBe("failed");
    if (page.kind === "failed")
      expect(page.message).toMatch(/run this scenario with the pdsim CLI/);
  });

  it("ends a run that stalls with the CLI's message, not an exception", async () => {
    const file = "test/e2e/fixtures/offload-stall.yaml";
    const page = runPageScenario(fs.readFileSync(file, "utf8"), file);
    const cli = await pdsim("run", file, "--quiet");
    expect(cli.status).toBe(3);
    expect(page.kind).toBe("failed");
    if (page.kind === "failed") expect(`pdsim: ${page.message}\n`).toBe(cli.stderr);
  });

  it("explains a request as pdsim explain does", async () => {
    const file = "scenarios/pd-basic.yaml";
    const text = fs.readFileSync(file, "utf8");
    const cli = await pdsim("explain", file, "--request", "r1");
    expect(explainPageRequest(text, file, 1, "r1")).toBe(cli.stdout);
  });
});
