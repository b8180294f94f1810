// The guide cannot drift from the simulator: `npm run docs` regenerates every chapter and the
// scenario table from scenario runs, and the committed files must be exactly what it writes.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../src/docs/build.ts";
import { placeholders, renderTemplate } from "../../src/docs/template.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("the guide", () => {
  const files = generatedFiles();

  it("has its eight chapters and the scenario table", () => {
    expect([...files.keys()].map((f) => path.relative(ROOT, f))).toEqual([
      "docs/guide/01-one-request.md",
      "docs/guide/02-sources-and-truth.md",
      "docs/guide/03-local-prefix-cache.md",
      "docs/guide/04-what-vllm-reported.md",
      "docs/guide/05-reading-the-dashboard.md",
      "docs/guide/06-replaying-real-traffic.md",
      "docs/guide/07-step-times.md",
      "docs/guide/08-three-tiers.md",
      "scenarios/README.md",
    ]);
  });

  it.each([...files.keys()].map((f) => [path.relative(ROOT, f), f]))(
    "%s is what npm run docs writes",
    (_, file) => {
      expect(fs.existsSync(file), `${file} is missing: run npm run docs`).toBe(true);
      expect(fs.readFileSync(file, "utf8"), "out of date: run npm run docs").toBe(files.get(file));
    },
  );

  it("ends every chapter with exercises and their answers", () => {
    for (const [file, text] of files) {
      if (!file.includes("/guide/")) continue;
      const exercises =
        text.indexOf("\n## Exercises\n") >= 0
          ? text.indexOf("\n## Exercises\n")
          : text.indexOf("\n## Worked exercise\n");
      const answers = Math.max(text.indexOf("\n## Answers\n"), text.indexOf("\n## Answer\n"));
      expect(exercises, file).toBeGreaterThan(0);
      expect(answers, file).toBeGreaterThan(exercises);
    }
  });

  it("is linked from the README, with the scenario table", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("(docs/guide/01-one-request.md)");
    expect(readme).toContain("(scenarios/README.md)");
  });
});

describe("guide templates", () => {
  it("fill each placeholder from the facts, and refuse one without a fact", () => {
    const facts = new Map([["a.b", "42"]]);
    expect(renderTemplate("x {{a.b}} y {{ a.b }}", facts, "t.md")).toBe("x 42 y 42");
    expect(() => renderTemplate("{{missing.fact}}", facts, "t.md")).toThrow(
      "t.md: no fact named 'missing.fact'",
    );
    expect(placeholders("{{a}} {{b}} {{a}}")).toEqual(["a", "b"]);
  });
});
