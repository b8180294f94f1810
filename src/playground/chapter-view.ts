// The playground's reading views: the lesson list, and a guide chapter with its exercises, each
// checked against the run of its scenario. No run happens here: the page hands in its runner.

import { marked } from "marked";
import { escapeHtml } from "../util/html.ts";
import { EXERCISES, type Exercise, isRight, parseAnswer } from "./exercises.ts";
import type { GuideChapter, Lessons } from "./lessons.ts";
import type { PageResult } from "./page-run.ts";

/** The lesson list: the guide's chapters, then every library scenario with its lesson. */
export function lessonsHtml(lessons: Lessons): string {
  const chapters = lessons.chapters
    .map(
      (c) =>
        `<li><a href="#chapter/${c.id}">${escapeHtml(c.title)}</a>${
          c.scenarios.length === 0
            ? ""
            : ` <small>${c.scenarios.map(escapeHtml).join(", ")}</small>`
        }</li>`,
    )
    .join("");
  const scenarios = lessons.scenarios
    .map(
      (s) =>
        `<tr><td><a href="#edit/${s.name}">${escapeHtml(s.name)}</a></td><td>${escapeHtml(s.lesson)}${
          s.needsCli === null ? "" : ` <small class="cli-only">(${escapeHtml(s.needsCli)})</small>`
        }</td></tr>`,
    )
    .join("");
  return `
<h2>The guide</h2>
<ul class="chapters">${chapters}</ul>
<h2>Scenarios</h2>
<p>Each is a lesson: open one, read its description, run it, change it.</p>
<table class="lessons"><tbody>${scenarios}</tbody></table>`;
}

/**
 * A guide chapter in `container`: its text (links to scenarios and chapters made the page's own,
 * its answers folded), its scenarios to open, and its exercises, answered from `runOf`'s runs.
 */
export function renderChapter(
  container: HTMLElement,
  chapter: GuideChapter,
  runOf: (exercise: Exercise) => Promise<PageResult | null>,
): void {
  const body = document.createElement("article");
  body.innerHTML = marked.parse(chapter.markdown, { async: false });
  for (const a of body.querySelectorAll("a")) {
    const href = a.getAttribute("href") ?? "";
    const scenario = /(?:^|\/)scenarios\/([a-z0-9-]+)\.yaml$/.exec(href);
    const other = /^(?:\.\/)?(\d\d-[a-z0-9-]+)\.md(#.*)?$/.exec(href);
    if (scenario !== null) a.setAttribute("href", `#edit/${scenario[1]}`);
    else if (other !== null) a.setAttribute("href", `#chapter/${other[1]}`);
  }
  const exercises = EXERCISES.filter((e) => e.chapter === chapter.id);
  container.innerHTML = "";
  const runs = chapter.scenarios
    .map((name) => `<a class="button" href="#edit/${name}">Open ${escapeHtml(name)}</a>`)
    .join(" ");
  container.insertAdjacentHTML(
    "beforeend",
    `<p><a href="#lessons">← Lessons</a></p>${runs === "" ? "" : `<p class="runs">${runs}</p>`}`,
  );
  foldAnswers(body);
  container.append(body);
  if (exercises.length > 0) {
    // After the chapter's text, where its own exercises begin (their answers follow them).
    const heading = [...body.querySelectorAll("h2")].find((h) =>
      /exercise/i.test(h.textContent ?? ""),
    );
    const box = exerciseBox(exercises, runOf);
    if (heading === undefined) body.append(box);
    else heading.before(box);
  }
}

/** The guide's "Answers" section, folded away until the learner opens it. */
function foldAnswers(body: HTMLElement): void {
  const heading = [...body.querySelectorAll("h2")].find((h) =>
    /^answers?$/i.test(h.textContent?.trim() ?? ""),
  );
  if (heading === undefined) return;
  const details = document.createElement("details");
  details.className = "answers";
  const summary = document.createElement("summary");
  summary.textContent = heading.textContent;
  details.append(summary);
  while (heading.nextSibling !== null && heading.nextSibling.nodeName !== "H2") {
    details.append(heading.nextSibling);
  }
  heading.replaceWith(details);
}

function exerciseBox(
  exercises: readonly Exercise[],
  runOf: (exercise: Exercise) => Promise<PageResult | null>,
): HTMLElement {
  const box = document.createElement("section");
  box.className = "exercises";
  box.innerHTML = `<h2>Try it: answer from the run</h2>`;
  for (const exercise of exercises) {
    const row = document.createElement("form");
    row.className = "exercise";
    row.dataset.exercise = exercise.id;
    row.innerHTML = `<label>${escapeHtml(exercise.question)} <small>(${escapeHtml(exercise.scenario)}${
      exercise.profile === undefined ? "" : `, ${escapeHtml(exercise.profile)}`
    })</small><br><input type="text" inputmode="decimal" size="14"> ${escapeHtml(exercise.unit)}</label>
<button type="submit">Check</button> <button type="button" class="reveal">Show the run's answer</button> <output></output>`;
    const input = row.querySelector("input")!;
    const output = row.querySelector("output")!;
    const answerOf = async () => {
      output.textContent = "running the scenario…";
      const run = await runOf(exercise);
      if (run === null) {
        output.textContent = "the run did not finish";
        return null;
      }
      return exercise.answer(run);
    };
    row.addEventListener("submit", async (event) => {
      event.preventDefault();
      const typed = parseAnswer(input.value);
      if (typed === null) {
        output.textContent = "type a number";
        output.className = "wrong";
        return;
      }
      const answer = await answerOf();
      if (answer === null) return;
      const right = isRight(exercise, typed, answer);
      output.textContent = right ? "✓ right" : "✗ not what the run says; try again";
      output.className = right ? "right" : "wrong";
    });
    row.querySelector(".reveal")!.addEventListener("click", async () => {
      const answer = await answerOf();
      if (answer === null) return;
      output.textContent = `the run says ${answer.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${exercise.unit}`;
      output.className = "";
    });
    box.append(row);
  }
  return box;
}
