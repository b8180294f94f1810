// Gathers what the playground teaches from: every library scenario (its text, lesson and
// whether the page can run it) and every guide chapter (its text and the scenarios it runs).

import * as fs from "node:fs";
import * as path from "node:path";
import { loadScenario } from "../scenario/index.ts";
import type { GuideChapter, LessonScenario, Lessons } from "../playground/lessons.ts";

export function gatherLessons(root: string): Lessons {
  const scenarioDir = path.join(root, "scenarios");
  const names = fs
    .readdirSync(scenarioDir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
  const scenarios = names.map((name): LessonScenario => {
    const file = `scenarios/${name}.yaml`;
    const scenario = loadScenario(path.join(root, file));
    return {
      name,
      file,
      lesson: scenario.lesson ?? "",
      description: scenario.description ?? "",
      text: fs.readFileSync(path.join(root, file), "utf8"),
      needsCli: needsCli(scenario),
    };
  });
  const guideDir = path.join(root, "docs", "guide");
  const chapters = fs
    .readdirSync(guideDir)
    .filter((f) => /^\d\d-.*\.md$/.test(f))
    .sort()
    .map((f): GuideChapter => {
      const markdown = fs
        .readFileSync(path.join(guideDir, f), "utf8")
        .replace(/^<!--.*?-->\n+/s, "");
      const title = /^# (.+)$/m.exec(markdown)?.[1] ?? f;
      return {
        id: f.slice(0, -".md".length),
        title,
        markdown,
        scenarios: namedIn(markdown, names),
      };
    });
  return { scenarios, chapters };
}

function needsCli(scenario: ReturnType<typeof loadScenario>): string | null {
  if (scenario.workload.kind === "trace") return "replays a trace file: run it with the CLI";
  if (scenario.model.source?.kind === "config") return "reads a config.json: run it with the CLI";
  return null;
}

/** Library scenarios a chapter names, as `scenarios/NAME.yaml` or `NAME` in backticks. */
function namedIn(markdown: string, names: readonly string[]): string[] {
  const found: { name: string; at: number }[] = [];
  for (const name of names) {
    const at = markdown.search(new RegExp(`scenarios/${name}\\.yaml|\`${name}\``));
    if (at >= 0) found.push({ name, at });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.name);
}
