// `npm run site`: builds the playground into site/dist/index.html, one file that holds the page
// (CodeMirror, Chart.js, the run view, the lessons) and, as a string it starts as a Web Worker,
// the simulator itself. It opens from file:// as from any static host, and fetches nothing.

import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import { gatherLessons } from "./lessons.ts";
import { playgroundHtml } from "./page.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PLAYGROUND = path.join(ROOT, "src", "playground");

export interface SiteFiles {
  /** File name in the output directory → its bytes. */
  files: Map<string, string>;
  /** The whole page gzipped, in bytes: what a static host would send. */
  gzippedBytes: number;
}

async function bundle(entry: string, plugins: Plugin[] = []): Promise<string> {
  const result = await build({
    entryPoints: [path.join(PLAYGROUND, entry)],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    legalComments: "none",
    absWorkingDir: ROOT,
    plugins,
  });
  return result.outputFiles[0]!.text;
}

/** The worker's code, handed to the page's bundle as the module `virtual:pdsim-worker`. */
function workerModule(source: string): Plugin {
  return {
    name: "pdsim-worker",
    setup(b) {
      b.onResolve({ filter: /^virtual:pdsim-worker$/ }, () => ({
        path: "worker",
        namespace: "pdsim",
      }));
      b.onLoad({ filter: /.*/, namespace: "pdsim" }, () => ({
        contents: `export default ${JSON.stringify(source)};`,
        loader: "js",
      }));
    },
  };
}

export async function buildSite(): Promise<SiteFiles> {
  const worker = await bundle("worker.ts");
  const page = await bundle("main.ts", [workerModule(worker)]);
  const html = playgroundHtml(gatherLessons(ROOT), page);
  return {
    files: new Map([["index.html", html]]),
    gzippedBytes: gzipSync(html).length,
  };
}

/** Writes the site into `dir`, replacing what a previous build left there. */
export function writeSite(site: SiteFiles, dir: string): void {
  const staging = `${dir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  for (const [name, text] of site.files) fs.writeFileSync(path.join(staging, name), text);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
}

if (
  process.argv[1] !== undefined &&
  fileURLToPath(import.meta.url) === path.resolve(process.argv[1])
) {
  const dir = path.join(ROOT, "site", "dist");
  const site = await buildSite();
  writeSite(site, dir);
  const bytes = [...site.files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  console.log(
    `pdsim: wrote the playground to ${path.relative(process.cwd(), dir) || "."}/index.html ` +
      `(${(bytes / 1e6).toFixed(2)} MB, ${(site.gzippedBytes / 1e6).toFixed(2)} MB gzipped); ` +
      `open it in a browser, from disk or any static host`,
  );
}
