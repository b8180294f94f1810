// Checks the `--out` expositions with Prometheus's own linter (Debian's `prometheus` package,
// installed by .ci/run). The allowed complaints are lints that real vLLM's exposition draws too:
// the colons in its metric names, and the `_total` suffix of its histogram
// `vllm:iteration_tokens_total`.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function runScenario(scenario: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "pdsim-promtool-"));
  const dir = path.join(out, "run");
  const run = spawnSync(
    process.execPath,
    ["src/cli/bin.js", "run", scenario, "--quiet", "--out", dir],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  expect(run.status, run.stderr).toBe(0);
  return dir;
}

describe("promtool check metrics", () => {
  it.each(["scenarios/quickstart.yaml", "scenarios/preemption.yaml"])(
    "accepts every instance's exposition from %s, apart from the lints vLLM itself draws",
    (scenario) => {
      const dir = runScenario(scenario);
      const files = fs.readdirSync(path.join(dir, "metrics"));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const text = fs.readFileSync(path.join(dir, "metrics", file), "utf8");
        const check = spawnSync("promtool", ["check", "metrics"], {
          input: text,
          encoding: "utf8",
        });
        expect(
          check.error,
          "promtool not found: install Debian's prometheus package",
        ).toBeUndefined();
        const complaints = `${check.stdout}${check.stderr}`
          .split("\n")
          .filter((line) => line.trim() !== "")
          .filter((line) => !/metric names should not contain ':'/.test(line))
          .filter(
            (line) =>
              !/^vllm:iteration_tokens_total non-counter metrics should not have "_total" suffix$/.test(
                line,
              ),
          );
        expect(complaints, `${file}:\n${complaints.join("\n")}`).toEqual([]);
      }
    },
  );

  it("rejects a broken exposition, so the check above can fail", () => {
    const check = spawnSync("promtool", ["check", "metrics"], {
      input: '# TYPE x counter\nx{a="1" 3\n',
      encoding: "utf8",
    });
    expect(check.status).not.toBe(0);
  });
});
