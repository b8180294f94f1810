// The playground's exercises: each answer, read from its run, is the number the guide's chapter
// gives (the guide is generated from the same runs), and typed answers are read as a person
// writes numbers.
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { EXERCISES, isRight, parseAnswer } from "../../src/playground/exercises.ts";
import { type PageResult, runPageScenario } from "../../src/playground/page-run.ts";

const runs = new Map<string, PageResult>();
function runOf(scenario: string, profile: string | undefined): PageResult {
  const key = `${scenario}/${profile ?? ""}`;
  if (!runs.has(key)) {
    const file = `scenarios/${scenario}.yaml`;
    const run = runPageScenario(fs.readFileSync(file, "utf8"), file, {
      profile: profile as never,
    });
    if (run.kind !== "done") throw new Error(`${file}: ${run.kind}`);
    runs.set(key, run);
  }
  return runs.get(key)!;
}

describe("the playground's exercises", () => {
  it.each(EXERCISES.map((e) => [e.id, e] as const))(
    "%s: the run's answer is the guide's",
    (_, exercise) => {
      const answer = exercise.answer(runOf(exercise.scenario, exercise.profile));
      expect(Number.isFinite(answer)).toBe(true);
      const chapter = fs.readFileSync(`docs/guide/${exercise.chapter}.md`, "utf8");
      const answers = chapter.slice(chapter.search(/^## Answers?$/m));
      const shown =
        exercise.tolerance === 0
          ? answer.toLocaleString("en-US")
          : answer.toLocaleString("en-US", { maximumFractionDigits: 1 });
      // The number on its own, not a part of a longer one ("1" in "16" or "1.5").
      const escaped = shown.replace(/[.,]/g, "\\$&");
      expect(answers).toMatch(new RegExp(`(?<![\\d.,])${escaped}(?![\\d]|[.,]\\d)`));
      expect(isRight(exercise, parseAnswer(shown)!, answer)).toBe(true);
    },
  );

  it("covers every chapter whose exercises have a number for an answer", () => {
    const chapters = new Set(EXERCISES.map((e) => e.chapter));
    expect([...chapters]).toEqual([
      "01-one-request",
      "02-sources-and-truth",
      "03-local-prefix-cache",
      "04-what-vllm-reported",
      "05-reading-the-dashboard",
    ]);
  });

  it("reads typed numbers with separators, a percent sign or a decimal point", () => {
    expect(parseAnswer("1,146,880")).toBe(1146880);
    expect(parseAnswer(" 59.1% ")).toBe(59.1);
    expect(parseAnswer("10 944")).toBe(10944);
    expect(parseAnswer("1e3")).toBe(1000);
    expect(parseAnswer("twelve")).toBeNull();
    expect(parseAnswer("")).toBeNull();
    expect(parseAnswer("1.2.3")).toBeNull();
  });

  it("takes an answer within its tolerance only", () => {
    const wait = EXERCISES.find((e) => e.id === "decode-wait")!;
    expect(isRight(wait, 546, 546.2)).toBe(true);
    expect(isRight(wait, 540, 546.2)).toBe(false);
    const bytes = EXERCISES.find((e) => e.id === "kv-bytes")!;
    expect(isRight(bytes, 1146879, 1146880)).toBe(false);
  });
});
