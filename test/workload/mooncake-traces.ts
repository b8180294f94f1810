// Small Mooncake-format traces for tests: conversations that grow, repeated prompts, prompts
// that share a leading run of blocks, and unrelated ones, with Mooncake's rule that an id names
// one block's tokens together with every block before it.
import * as fs from "node:fs";
import fc from "fast-check";

export interface MooncakeLine {
  timestamp: number;
  input_length: number;
  output_length: number;
  hash_ids: number[];
}

export function writeMooncake(file: string, lines: readonly MooncakeLine[]): void {
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l) + "\n").join(""));
}

interface Step {
  /** Which earlier request to build on (modulo how many there are), or none. */
  base: number | null;
  /** How many of the base's full blocks to keep (modulo what it has, plus one). */
  keep: number;
  /** Exact repeat of the base (same ids, same length). */
  repeat: boolean;
  newBlocks: number;
  /** Tokens in the last block, 1..blockTokens. */
  lastBlockFill: number;
  output: number;
}

/** Up to eight requests `gapMs` apart, each reusing a leading run of an earlier one's full blocks. */
export function mooncakeTrace(
  blockTokens: number,
  { gapMs, maxOutput = 6 }: { gapMs: number; maxOutput?: number },
): fc.Arbitrary<MooncakeLine[]> {
  const step = fc.record({
    base: fc.option(fc.nat(7), { freq: 3 }),
    keep: fc.nat(4),
    repeat: fc.boolean(),
    newBlocks: fc.integer({ min: 1, max: 3 }),
    lastBlockFill: fc.oneof(fc.constant(blockTokens), fc.integer({ min: 1, max: blockTokens })),
    output: fc.integer({ min: 1, max: maxOutput }),
  });
  return fc
    .array(step, { minLength: 1, maxLength: 8 })
    .map((steps) => build(steps, blockTokens, gapMs));
}

function build(steps: readonly Step[], blockTokens: number, gapMs: number): MooncakeLine[] {
  const out: MooncakeLine[] = [];
  let nextId = 0;
  steps.forEach((s, i) => {
    const base = s.base === null || out.length === 0 ? null : out[s.base % out.length]!;
    if (base !== null && s.repeat) {
      out.push({ ...base, timestamp: i * gapMs, output_length: s.output });
      return;
    }
    // Only a base's full blocks can be shared: its last block, if partial, is its own.
    const full = base === null ? 0 : Math.floor(base.input_length / blockTokens);
    const kept = base === null ? [] : base.hash_ids.slice(0, s.keep % (full + 1));
    const ids = [...kept];
    for (let b = 0; b < s.newBlocks; b++) ids.push(nextId++);
    const length = (ids.length - 1) * blockTokens + s.lastBlockFill;
    out.push({
      timestamp: i * gapMs,
      input_length: length,
      output_length: s.output,
      hash_ids: ids,
    });
  });
  return out;
}
