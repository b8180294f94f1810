// The playground page: a lesson list (the library's scenarios and the guide's chapters), a
// scenario editor, the run view, exercises answered against the run, and share links. It is the
// page's entry point; `npm run site` bundles it with the worker's code and the lessons.

import workerSource from "virtual:pdsim-worker";
import { PROFILE_NAMES, type ProfileName } from "../accounting/profiles.ts";
import { formatIssue, type ScenarioIssue } from "../scenario/errors.ts";
import { createEditor } from "./editor.ts";
import { lessonsHtml, renderChapter } from "./chapter-view.ts";
import type { Exercise } from "./exercises.ts";
import type { Lessons } from "./lessons.ts";
import type { PageOutcome, PageResult } from "./page-run.ts";
import { RunView } from "./run-view.ts";
import { decodeShare, encodeShare } from "./share.ts";
import { Stopped, WorkerClient } from "./worker-client.ts";

/** What the integration tests read: where the page is, and what its last run gave. */
interface PageState {
  view: "lessons" | "chapter" | "editor";
  state: "idle" | "validating" | "running" | "done" | "invalid" | "failed" | "stopped";
  summary: PageResult["summary"] | null;
  issues: ScenarioIssue[];
  message: string | null;
  charts: { charts: number; empty: number; fewestPoints: number; intervals: number } | null;
  wallSeconds: number | null;
  explained: string | null;
  /** Runs the editor has started, for the tests. */
  runsStarted: number;
}

declare global {
  interface Window {
    pdsimPage: PageState;
  }
}

const lessons = JSON.parse(document.getElementById("pdsim-lessons")!.textContent!) as Lessons;
/** The editor's runs, validations and explanations; Stop ends what it is doing. */
const worker = new WorkerClient(workerSource);
/** The exercises' runs, on their own worker: the editor's Stop does not end them. */
let exerciseWorker: WorkerClient | null = null;
const page: PageState = {
  view: "lessons",
  state: "idle",
  summary: null,
  issues: [],
  message: null,
  charts: null,
  wallSeconds: null,
  explained: null,
  runsStarted: 0,
};
window.pdsimPage = page;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const views = {
  lessons: $("#lessons"),
  chapter: $("#chapter"),
  editor: $("#editor"),
};

// ---- the editor and its run ------------------------------------------------------------

let file = "scenario.yaml";
let validateTimer: number | undefined;
let validateId = 0;
const editor = createEditor($("#editor-host"), () => {
  window.clearTimeout(validateTimer);
  validateTimer = window.setTimeout(validate, 300);
});
const runView = new RunView($("#run"), (request) => void explain(request));
const seedInput = $<HTMLInputElement>("#seed");
const profileSelect = $<HTMLSelectElement>("#profile");
const status = $("#status");
const progress = $<HTMLProgressElement>("#progress");
const runButton = $<HTMLButtonElement>("#run-button");
const stopButton = $<HTMLButtonElement>("#stop-button");
const problems = $("#problems");
let lastRun: { text: string; seed: number } | null = null;
/** The editor's current run: an answer to an earlier one, replaced or abandoned, is dropped. */
let runToken = 0;

for (const name of PROFILE_NAMES) profileSelect.add(new Option(name, name));

function selectedProfile(): ProfileName | undefined {
  return profileSelect.value === "" ? undefined : (profileSelect.value as ProfileName);
}

/** The seed typed, undefined for none (the scenario's own), null for one the CLI would refuse. */
function selectedSeed(): number | undefined | null {
  const text = seedInput.value.trim();
  if (text === "") return undefined;
  const seed = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(seed) ? seed : null;
}

function showProblems(issues: readonly ScenarioIssue[], omitted: number): void {
  editor.showIssues(issues);
  page.issues = [...issues];
  problems.hidden = issues.length === 0;
  problems.textContent =
    issues.map(formatIssue).join("\n") + (omitted > 0 ? `\n… and ${omitted} more` : "");
}

async function validate(): Promise<void> {
  const id = ++validateId;
  try {
    const answer = await worker.validate(editor.text(), file);
    if (id === validateId) showProblems(answer.issues, answer.omitted);
  } catch (error) {
    if (error instanceof Stopped) return;
    status.textContent = `The simulator failed while checking the scenario: ${messageOf(error)}`;
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function run(): Promise<PageOutcome | null> {
  const text = editor.text();
  const seed = selectedSeed();
  if (seed === null) {
    status.textContent = `seed must be a non-negative integer, got '${seedInput.value.trim()}'`;
    return null;
  }
  // A new run replaces the one in flight (a profile changed mid-run, say).
  if (page.state === "running") worker.stop();
  const token = ++runToken;
  page.runsStarted += 1;
  page.state = "running";
  runButton.disabled = true;
  stopButton.disabled = false;
  progress.hidden = false;
  progress.removeAttribute("value");
  status.textContent = "Running…";
  const started = performance.now();
  try {
    const answer = await worker.run(
      { text, file, seed, profile: selectedProfile() },
      (done, total, simulatedS) => {
        if (token !== runToken) return;
        progress.max = Math.max(total, 1);
        progress.value = done;
        status.textContent = `Running: ${done} of ${total} requests, ${simulatedS.toFixed(1)} simulated s`;
      },
    );
    if (token !== runToken) return null;
    const wallSeconds = (performance.now() - started) / 1000;
    showOutcome(answer.outcome, wallSeconds);
    if (answer.outcome.kind === "done") lastRun = { text, seed: answer.outcome.summary.seed };
    return answer.outcome;
  } catch (error) {
    if (token !== runToken) return null;
    page.state = error instanceof Stopped ? "stopped" : "failed";
    page.message = messageOf(error);
    status.textContent =
      error instanceof Stopped ? "Stopped." : `The simulator failed: ${page.message}`;
    return null;
  } finally {
    if (token === runToken) {
      runButton.disabled = false;
      stopButton.disabled = true;
      progress.hidden = true;
    }
  }
}

function showOutcome(outcome: PageOutcome, wallSeconds: number): void {
  page.wallSeconds = wallSeconds;
  page.summary = null;
  page.charts = null;
  page.message = null;
  switch (outcome.kind) {
    case "invalid":
      page.state = "invalid";
      showProblems(outcome.issues, outcome.omitted);
      runView.clear();
      status.textContent = "The scenario has problems: see them below the editor.";
      return;
    case "failed":
      page.state = "failed";
      page.message = outcome.message;
      runView.clear();
      status.textContent = outcome.message;
      return;
    case "done": {
      showProblems([], 0);
      const drawn = runView.show(outcome, wallSeconds);
      page.summary = outcome.summary;
      page.charts = {
        charts: drawn.charts,
        empty: drawn.empty,
        fewestPoints: drawn.fewestPoints,
        intervals: drawn.intervals,
      };
      page.state = "done";
      status.textContent = `Done in ${wallSeconds.toFixed(2)} s.`;
    }
  }
}

async function explain(request: string): Promise<void> {
  const asked = lastRun;
  if (asked === null) return;
  try {
    const answer = await worker.explain({ text: asked.text, file, seed: asked.seed, request });
    // The run view may show another run by now.
    if (asked !== lastRun) return;
    page.explained = answer.text;
    runView.showExplanation(answer.text);
  } catch (error) {
    if (error instanceof Stopped) return;
    status.textContent = `The simulator failed to explain ${request}: ${messageOf(error)}`;
  }
}

runButton.addEventListener("click", () => void run());
stopButton.addEventListener("click", () => {
  if (page.state === "running") worker.stop();
});
// What the run view shows, or is about to, follows the profile.
profileSelect.addEventListener("change", () => {
  if (lastRun !== null || page.state === "running") void run();
});
$("#share-button").addEventListener("click", () => {
  const fragment = encodeShare({
    text: editor.text(),
    seed: selectedSeed() ?? undefined,
    profile: selectedProfile(),
  });
  const link = `${location.href.split("#")[0]}#${fragment}`;
  const field = $<HTMLInputElement>("#share-link");
  field.hidden = false;
  field.value = link;
  field.select();
  history.replaceState(null, "", `#${fragment}`);
});

function openEditor(name: string, text: string, seed?: number, profile?: string): void {
  // Whatever the editor was running belongs to the scenario it leaves.
  if (page.state === "running") worker.stop();
  runToken += 1;
  runButton.disabled = false;
  stopButton.disabled = true;
  progress.hidden = true;
  file = name;
  $("#editor-title").textContent = name;
  seedInput.value = seed === undefined ? "" : String(seed);
  profileSelect.value =
    profile !== undefined && PROFILE_NAMES.includes(profile as ProfileName) ? profile : "";
  editor.setText(text);
  runView.clear();
  lastRun = null;
  page.state = "idle";
  page.summary = null;
  status.textContent = "";
  const lesson = lessons.scenarios.find((s) => s.file === name);
  $("#editor-lesson").textContent = lesson === undefined ? "" : lesson.description;
  show("editor");
}

// ---- views and exercises ---------------------------------------------------------------

/** Each exercise's run, by scenario and profile, once made. */
const exerciseRuns = new Map<string, Promise<PageResult | null>>();

function exerciseRun(exercise: Exercise): Promise<PageResult | null> {
  const key = `${exercise.scenario}/${exercise.profile ?? ""}`;
  if (!exerciseRuns.has(key)) {
    const scenario = lessons.scenarios.find((s) => s.name === exercise.scenario)!;
    exerciseRuns.set(
      key,
      (exerciseWorker ??= new WorkerClient(workerSource))
        .run({ text: scenario.text, file: scenario.file, profile: exercise.profile })
        .then((answer) => (answer.outcome.kind === "done" ? answer.outcome : null))
        .catch(() => {
          exerciseRuns.delete(key);
          return null;
        }),
    );
  }
  return exerciseRuns.get(key)!;
}

function show(view: PageState["view"]): void {
  page.view = view;
  for (const [name, element] of Object.entries(views)) element.hidden = name !== view;
  window.scrollTo(0, 0);
}

// ---- routing ----------------------------------------------------------------------------

function route(): void {
  const hash = location.hash;
  const shared = decodeShare(hash);
  if (shared !== null) {
    openEditor("shared.yaml", shared.text, shared.seed, shared.profile);
    return;
  }
  const edit = /^#edit\/([a-z0-9-]+)$/.exec(hash);
  const scenario = edit === null ? undefined : lessons.scenarios.find((s) => s.name === edit[1]);
  if (scenario !== undefined) {
    openEditor(scenario.file, scenario.text);
    return;
  }
  const chapterMatch = /^#chapter\/([a-z0-9-]+)$/.exec(hash);
  const chapter =
    chapterMatch === null ? undefined : lessons.chapters.find((c) => c.id === chapterMatch[1]);
  if (chapter !== undefined) {
    renderChapter(views.chapter, chapter, exerciseRun);
    show("chapter");
    return;
  }
  show("lessons");
}

views.lessons.innerHTML = lessonsHtml(lessons);
window.addEventListener("hashchange", route);
route();
