// The playground (npm run site) in a real browser: Debian's Chromium, driven by playwright-core,
// opening site/dist/index.html from disk. The page must give the CLI's summary for the same
// scenario and seed, show a bad scenario's problem at its line, draw its charts, explain a
// request, stop a run, check an exercise, log no console error, and fetch nothing.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeShare } from "../../src/playground/share.ts";
import { buildSite, writeSite } from "../../src/site/build.ts";
import {
  blankCanvases,
  launchChromium,
  openWatched,
  type WatchedPage,
} from "../support/chromium.ts";

const root = path.resolve(import.meta.dirname, "../..");
/** The limit for the whole page, gzipped. */
const MAX_GZIPPED_BYTES = 1.5e6;

let work: string;
let index: string;
let gzipped: number;
let browser: Browser;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-playground-"));
  const site = await buildSite();
  writeSite(site, path.join(work, "dist"));
  index = path.join(work, "dist", "index.html");
  gzipped = gzipSync(fs.readFileSync(index)).length;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function open(fragment: string): Promise<WatchedPage> {
  const opened = await openWatched(browser, `file://${index}#${fragment}`);
  await opened.page.waitForFunction("window.pdsimPage !== undefined");
  return opened;
}

/** Clicks Run and waits for the run to end, however it ends. */
async function run(page: Page): Promise<string> {
  await page.click("#run-button");
  await page.waitForFunction(
    "['done', 'invalid', 'failed', 'stopped'].includes(window.pdsimPage.state)",
    null,
    { timeout: 60_000 },
  );
  return (await page.evaluate("window.pdsimPage.state")) as string;
}

function cliSummary(scenario: string, ...args: string[]): Record<string, unknown> {
  const result = spawnSync(
    process.execPath,
    ["src/cli/bin.js", "run", scenario, "--json", ...args],
    { cwd: root, encoding: "utf8" },
  );
  // Exit 1 is a failed expectation: the summary is written all the same.
  expect([0, 1], result.stderr).toContain(result.status);
  return { ...(JSON.parse(result.stdout) as object), wall_seconds: 0 };
}

describe("the playground in headless Chromium", () => {
  it("is one file of at most 1.5 MB gzipped", () => {
    expect(gzipped).toBeLessThan(MAX_GZIPPED_BYTES);
  });

  it("lists the guide's chapters and the library's scenarios", async () => {
    const { page, errors, requests } = await open("lessons");
    const chapters = await page.locator(".chapters li").count();
    const scenarios = await page.locator(".lessons tr").count();
    expect(chapters).toBe(fs.readdirSync(path.join(root, "docs/guide")).length);
    expect(scenarios).toBe(
      fs.readdirSync(path.join(root, "scenarios")).filter((f) => f.endsWith(".yaml")).length,
    );
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it.each([
    ["quickstart", null],
    ["pd-shared-prefix", null],
    ["preempted-connector-grows", "vllm-pr33290"],
  ] as const)(
    "gives %s's summary as pdsim run --json does",
    async (name, profile) => {
      const { page, errors, requests } = await open(`edit/${name}`);
      if (profile !== null) await page.selectOption("#profile", profile);
      expect(await run(page)).toBe("done");
      const summary = (await page.evaluate("window.pdsimPage.summary")) as object;
      const args = profile === null ? [] : ["--profile", profile];
      const cli = cliSummary(`scenarios/${name}.yaml`, ...args);
      expect({ ...summary, wall_seconds: 0 }).toEqual(cli);
      // The exporter errors the CLI prints on stderr show in the page too.
      const shown = (await page.locator("pre.errors").count()) > 0;
      expect(shown).toBe((cli.exporter_errors as unknown[]).length > 0);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    },
    90_000,
  );

  it("draws every chart of the run view, at least 20 points a series for a 2 s run", async () => {
    const { page, errors } = await open("edit/pd-shared-prefix");
    expect(await run(page)).toBe("done");
    const charts = (await page.evaluate("window.pdsimPage.charts")) as {
      charts: number;
      empty: number;
      fewestPoints: number;
      intervals: number;
    };
    // Four per instance (two), the requests' sources and the timeline.
    expect(charts.charts).toBe(2 * 4 + 2);
    expect(charts.empty).toBe(0);
    expect(charts.intervals).toBeGreaterThanOrEqual(20);
    expect(charts.fewestPoints).toBeGreaterThanOrEqual(20);
    expect(await page.locator("#run canvas").count()).toBe(charts.charts);
    expect(await page.evaluate(blankCanvases("#run canvas"))).toBe(0);
    // The log lines, one instance's at a time.
    await page.click("details.log summary");
    const all = (await page.locator("pre.log-lines").textContent())!.split("\n");
    await page.selectOption("select.log-instance", "decode-0");
    const decode = (await page.locator("pre.log-lines").textContent())!.split("\n");
    expect(decode.length).toBeGreaterThan(0);
    expect(decode.length).toBeLessThan(all.length);
    for (const line of decode) expect(line).toMatch(/^\[t=[0-9.]+s decode-0\] Engine 000: /);
    await page.evaluate("document.querySelector('#run').scrollIntoView()");
    const shot = process.env.PDSIM_PLAYGROUND_SCREENSHOT;
    if (shot !== undefined) await page.screenshot({ path: shot });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it("explains the request clicked, as pdsim explain does", async () => {
    const { page, errors } = await open("edit/pd-basic");
    expect(await run(page)).toBe("done");
    await page.click('#run tr[data-request="r1"]');
    await page.waitForFunction("window.pdsimPage.explained !== null");
    const shown = await page.locator("pre.explain").textContent();
    const cli = spawnSync(
      process.execPath,
      ["src/cli/bin.js", "explain", "scenarios/pd-basic.yaml", "--request", "r1"],
      { cwd: root, encoding: "utf8" },
    );
    expect(shown).toBe(cli.stdout);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it.each([
    ["a misspelt key", (text: string) => text.replace("block_size:", "blok_size:"), "blok_size"],
    ["a YAML syntax error", (text: string) => text.replace("seed: 1", "seed: [1"), ""],
  ])(
    "shows %s at its line, as the CLI does",
    async (_, spoil, word) => {
      const text = spoil(fs.readFileSync(path.join(root, "scenarios/quickstart.yaml"), "utf8"));
      const file = path.join(work, "shared.yaml");
      fs.writeFileSync(file, text);
      // Run from the scratch directory, the CLI names the file as the page does.
      const cli = spawnSync(
        process.execPath,
        [path.join(root, "src/cli/bin.js"), "run", "shared.yaml"],
        { cwd: work, encoding: "utf8" },
      );
      expect(cli.status).toBe(2);
      const { page, errors } = await open(encodeShare({ text }));
      // Problems show as the text is loaded, before any run.
      await page.waitForFunction("window.pdsimPage.issues.length > 0");
      const problems = (await page.locator("#problems").textContent())!;
      expect(problems + "\n").toBe(cli.stderr);
      const line = Number(/^shared\.yaml:(\d+):/.exec(problems)![1]);
      expect(line).toBeGreaterThan(1);
      if (word !== "") expect(text.split("\n")[line - 1]).toContain(word);
      expect(await run(page)).toBe("invalid");
      // CodeMirror marks the place in the text.
      expect(await page.locator(".cm-lintRange-error").count()).toBeGreaterThan(0);
      expect(await page.locator("#run").textContent()).toBe("");
      expect(errors).toEqual([]);
      await page.close();
    },
    60_000,
  );

  it("stops a long run, and runs again after", async () => {
    const text = fs
      .readFileSync(path.join(root, "scenarios/quickstart.yaml"), "utf8")
      .replace("num_requests: 300", "num_requests: 200000");
    const { page, errors } = await open(encodeShare({ text }));
    await page.click("#run-button");
    await page.waitForFunction(
      "document.querySelector('#status').textContent.startsWith('Running: ')",
    );
    await page.click("#stop-button");
    await page.waitForFunction("window.pdsimPage.state === 'stopped'");
    expect(await page.locator("#status").textContent()).toBe("Stopped.");
    await page.evaluate("window.location.hash = '#edit/pd-basic'");
    await page.waitForFunction("window.pdsimPage.state === 'idle'");
    expect(await run(page)).toBe("done");
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it("drops a run in flight when the profile changes or another scenario opens", async () => {
    const text = fs
      .readFileSync(path.join(root, "scenarios/quickstart.yaml"), "utf8")
      .replace("num_requests: 300", "num_requests: 200000");
    const { page, errors } = await open(encodeShare({ text }));
    const running = "document.querySelector('#status').textContent.startsWith('Running: ')";
    await page.click("#run-button");
    await page.waitForFunction(running);
    // A new profile runs again at once: the first run is ended, and Stop stays for the second.
    await page.selectOption("#profile", "vllm-pr33290");
    await page.waitForFunction("window.pdsimPage.runsStarted === 2");
    await page.waitForFunction(running);
    expect(await page.evaluate("window.pdsimPage.state")).toBe("running");
    expect(await page.locator("#stop-button").isDisabled()).toBe(false);
    // Another scenario: its editor starts idle, and nothing of the long run shows up in it.
    await page.evaluate("window.location.hash = '#edit/pd-basic'");
    await page.waitForFunction("window.pdsimPage.state === 'idle'");
    await page.waitForTimeout(500);
    expect(await page.evaluate("window.pdsimPage.state")).toBe("idle");
    expect(await page.locator("#run").textContent()).toBe("");
    expect(await run(page)).toBe("done");
    const summary = (await page.evaluate("window.pdsimPage.summary")) as {
      scenario: { name: string };
    };
    expect(summary.scenario.name).toBe("pd-basic");
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it("checks an exercise's answer against the run", async () => {
    const { page, errors } = await open("chapter/01-one-request");
    // The box comes where the chapter's exercises begin, and the guide's answers stay folded.
    expect(
      await page.evaluate(
        "document.querySelector('section.exercises').nextElementSibling.textContent",
      ),
    ).toBe("Exercises");
    expect(await page.locator("details.answers").count()).toBe(1);
    expect(await page.evaluate("document.querySelector('details.answers').open")).toBe(false);
    const form = page.locator('form[data-exercise="kv-bytes"]');
    await form.locator("input").fill("1,000");
    await form.locator('button[type="submit"]').click();
    await page.waitForFunction(
      "document.querySelector('form[data-exercise=\"kv-bytes\"] output').className === 'wrong'",
    );
    await form.locator("input").fill("1,146,880");
    await form.locator('button[type="submit"]').click();
    await page.waitForFunction(
      "document.querySelector('form[data-exercise=\"kv-bytes\"] output').className === 'right'",
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
