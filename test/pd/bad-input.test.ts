// P/D scenarios that cannot run, through the real CLI: exit 2, the file and line of the problem,
// and no stack trace. The loader's own tests check the messages in detail; these check that the
// command reports them. (A zero-bandwidth link and a decode instance without a prefill instance
// are in test/e2e/exit-codes.test.ts.)
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectBadInput, pdsim, removeDir, scratchDir, writeScenario } from "../e2e/cli.ts";

/** A valid 1P1D scenario; each case changes one line of it, so its line numbers matter. */
const BASE = [
  "name: pd-tiny", // 1
  "engine: { block_size: 16, num_gpu_blocks: 64, max_model_len: 512 }", // 2
  "instances:", // 3
  "  - { name: p, role: prefill }", // 4
  "  - { name: d, role: decode }", // 5
  "kv_transfer:", // 6
  "  connector: nixl", // 7
  "  link: { latency_ms: 0.5, bandwidth_gb_per_s: 25 }", // 8
  "proxy: { prefill_policy: round_robin, decode_policy: round_robin }", // 9
  "workload:", // 10
  "  requests:", // 11
  "    - { id: r1, at_s: 0, prompt_tokens: 40, max_tokens: 4 }", // 12
] as const;

/** BASE with line `line` (1-based) replaced by `text`. */
function variant(line: number, text: string): string[] {
  const lines: string[] = [...BASE];
  lines[line - 1] = text;
  return lines;
}

let dir = "";
beforeAll(() => {
  dir = scratchDir();
});
afterAll(() => removeDir(dir));

describe("pdsim run refuses a P/D scenario that cannot run", () => {
  it("runs the base scenario (so each case below fails for its one change)", async () => {
    const result = await pdsim("run", writeScenario(dir, "base.yaml", BASE), "--quiet");
    if (result.status !== 0) throw new Error(`base scenario failed: ${result.stderr}`);
  });

  it("rejects prefill and decode instances with connector none, at the connector's line", async () => {
    const file = writeScenario(dir, "none.yaml", variant(7, "  connector: none"));
    expectBadInput(await pdsim("run", file), `${file}:7:`, "connector none cannot move KV");
  });

  it("rejects prefill instances with no decode instance, at the first prefill instance's line", async () => {
    const file = writeScenario(dir, "no-decode.yaml", variant(5, "  - { name: u, role: unified }"));
    expectBadInput(await pdsim("run", file), `${file}:4:`, "needs a decode instance");
  });

  it.each([
    ["prefill_policy", "proxy: { prefill_policy: fastest, decode_policy: round_robin }"],
    ["decode_policy", "proxy: { prefill_policy: round_robin, decode_policy: fastest }"],
  ])("rejects a %s that does not exist, listing the policies", async (key, line) => {
    const file = writeScenario(dir, `${key}.yaml`, variant(9, line));
    expectBadInput(
      await pdsim("run", file),
      `${file}:9:`,
      `proxy.${key}`,
      "expected one of round_robin, least_loaded, prefix_aware, cache_aware, got 'fastest'",
    );
  });
});
