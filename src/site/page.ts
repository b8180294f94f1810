// The playground's one HTML page, around the bundle: the layout the page's code fills in, its
// style, and the lessons as JSON. Nothing in it is fetched: the script sits beside it.

import type { Lessons } from "../playground/lessons.ts";
import { scriptJson } from "../output/html-embed.ts";
import { FIGURE_STYLE } from "../output/report-page.ts";

export function playgroundHtml(lessons: Lessons, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pdsim playground</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1><a href="#lessons">pdsim playground</a></h1>
<p>Prefill/decode disaggregation and its prompt-token accounting, simulated in this page: where every prompt token came from, and what each vLLM version reported.</p></header>
<main>
<section id="lessons"></section>
<section id="chapter" hidden></section>
<section id="editor" hidden>
  <p><a href="#lessons">← Lessons</a></p>
  <h2 id="editor-title"></h2>
  <p id="editor-lesson"></p>
  <div class="toolbar">
    <button id="run-button" type="button">Run</button>
    <button id="stop-button" type="button" disabled>Stop</button>
    <label>seed <input id="seed" type="text" inputmode="numeric" size="6" placeholder="its own"></label>
    <label>profile <select id="profile"><option value="">the scenario's own</option></select></label>
    <button id="share-button" type="button">Share</button>
    <input id="share-link" type="text" readonly hidden>
  </div>
  <div id="editor-host"></div>
  <pre id="problems" hidden></pre>
  <p><progress id="progress" hidden></progress> <span id="status"></span></p>
  <div id="run"></div>
</section>
</main>
<script type="application/json" id="pdsim-lessons">${scriptJson(lessons)}</script>
<script>${script.replace(/<\/script/gi, "<\\/script")}</script>
</body>
</html>
`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #1f3b57; color: #fff; padding: 0.6rem 1.5rem; }
header h1 { font-size: 1.3rem; margin: 0.2rem 0; } header a { color: #fff; text-decoration: none; }
header p { margin: 0.2rem 0; font-size: 0.9rem; opacity: 0.85; }
main { padding: 0.5rem 1.5rem 3rem; max-width: 90rem; }
h2 { font-size: 1.15rem; margin-top: 1.6rem; } small { color: #666; font-weight: normal; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
th:first-child, td:first-child, .lessons td, .requests td:nth-child(2), .requests td:nth-child(3) { text-align: left; }
.requests tbody tr { cursor: pointer; } .requests tbody tr:hover { background: #eef4fb; }
.toolbar { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; margin: 0.5rem 0; }
#share-link { flex: 1; min-width: 20rem; }
#editor-host { border: 1px solid #ccc; max-height: 28rem; overflow: auto; }
#editor-host .cm-editor { font-size: 0.85rem; }
#problems, .errors { color: #a40000; background: #fff3f3; padding: 0.5rem; white-space: pre-wrap; }
pre { background: #f6f6f6; padding: 0.5rem; overflow: auto; font-size: 0.8rem; max-height: 30rem; }
${FIGURE_STYLE}
.expectations { list-style: none; padding-left: 0; font-size: 0.85rem; }
.pass, .right { color: #1a7f37; } .fail, .wrong { color: #a40000; }
.exercises { background: #f3f7fb; border: 1px solid #cfdbe8; padding: 0.5rem 1rem; margin: 1rem 0; }
.exercise { margin: 0.6rem 0; }
.button { display: inline-block; background: #1f3b57; color: #fff; padding: 0.2rem 0.6rem; border-radius: 3px; text-decoration: none; }
.cli-only { font-style: italic; }
article { max-width: 50rem; line-height: 1.45; } article table { font-size: 0.8rem; }
`;
