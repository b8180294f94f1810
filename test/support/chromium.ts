// Debian's Chromium (installed by .ci/run), driven by playwright-core without a browser download,
// for the integration tests of the pages pdsim writes: report.html and the playground.
import * as fs from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

const CHROMIUM = "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  expect(fs.existsSync(CHROMIUM), "install Debian's chromium package").toBe(true);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * In-page code that counts the canvases under `selector` left blank: every pixel the first
 * one's. A string, since the tests' TypeScript has no DOM types.
 */
export const blankCanvases = (
  selector: string,
): string => `[...document.querySelectorAll(${JSON.stringify(selector)})].filter((c) => {
  const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
  for (let i = 4; i < data.length; i += 4) {
    if (data[i] !== data[0] || data[i + 3] !== data[3]) return false;
  }
  return true;
}).length`;

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request that left the page's own file (and its blob: and data: URLs). */
  requests: string[];
}

/** A new page at `url`, its errors and its requests to anywhere else recorded from the start. */
export async function openWatched(browser: Browser, url: string): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (!/^(file|blob|data):/.test(r.url())) requests.push(r.url());
  });
  await page.goto(url);
  return { page, errors, requests };
}
