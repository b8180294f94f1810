// The openai-jsonl trace format: text requests as `vllm bench serve`'s custom dataset takes them,
// one JSON object a line with
// - `prompt`, a string sent as it stands (as to /v1/completions), or `messages`, a chat: a
//   non-empty list of `{role, content}` with string content (as to /v1/chat/completions);
// - optionally `max_tokens` or `output_tokens`, the output length (both may be given if equal;
//   without either, the trace's `output_tokens` key, 256 by default);
// - optionally `timestamp`, milliseconds from the trace's start, as in Mooncake; every line has
//   one or none does (trace-file.ts checks), and without them the replay sends request i at
//   i / rate_per_s, or all at time 0.
// Other fields are ignored. The text is only checked here; it is tokenized as the replay pulls
// the request (trace-tokenizer.ts).

import {
  type ChatMessage,
  type LineFail,
  type TraceRecord,
  type TraceText,
  count,
  describe,
  parseJsonObject,
  traceLineError,
} from "./trace-record.ts";

/**
 * One line as a record; `ordinal` is its place among the file's records (0, 1, 2, …), its time
 * when it has no timestamp; `outputTokens` is the output length of a line that gives none.
 */
export function parseOpenAiLine(
  file: string,
  line: number,
  text: string,
  ordinal: number,
  outputTokens: number,
): TraceRecord {
  const fail = (field: string, message: string) => traceLineError(file, line, field, message);
  const record = parseJsonObject(text, fail);
  const timestamp = record.timestamp;
  if (timestamp !== undefined && (typeof timestamp !== "number" || !(timestamp >= 0))) {
    throw fail(
      "timestamp",
      `expected milliseconds from the trace's start (a number ≥ 0), or no timestamp, got ${describe(timestamp)}`,
    );
  }
  return {
    line,
    timeS: timestamp === undefined ? ordinal : timestamp / 1000,
    timed: timestamp !== undefined,
    promptTokens: 0,
    outputTokens: outputLength(record, fail) ?? outputTokens,
    blockIds: null,
    prefix: null,
    text: requestText(record, fail),
    tokenIds: null,
  };
}

function requestText(record: Record<string, unknown>, fail: LineFail): TraceText {
  const { prompt, messages } = record;
  if (prompt !== undefined && messages !== undefined) {
    throw fail(
      "messages",
      "a line is a prompt or a chat's messages, not both: remove prompt or messages",
    );
  }
  if (prompt !== undefined) {
    if (typeof prompt !== "string" || prompt === "") {
      throw fail(
        "prompt",
        `expected the prompt's text (a non-empty string), got ${describe(prompt)}`,
      );
    }
    return { prompt };
  }
  if (messages === undefined) {
    throw fail(
      "prompt",
      "expected prompt (the prompt's text) or messages (a chat: a list of {role, content}), got neither",
    );
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    throw fail(
      "messages",
      `expected a chat: a non-empty list of {role, content}, got ${describe(messages)}`,
    );
  }
  return { messages: messages.map((m: unknown, i) => chatMessage(m, `messages[${i}]`, fail)) };
}

function chatMessage(value: unknown, field: string, fail: LineFail): ChatMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(field, `expected a message {role, content}, got ${describe(value)}`);
  }
  const { role, content } = value as Record<string, unknown>;
  if (typeof role !== "string" || role === "") {
    throw fail(
      `${field}.role`,
      `expected who speaks (a non-empty string such as "user"), got ${describe(role)}`,
    );
  }
  if (typeof content !== "string") {
    throw fail(
      `${field}.content`,
      `expected the message's text (a string; lists of content parts are not read), got ${describe(content)}`,
    );
  }
  return { role, content };
}

/** The line's own output length, or null when it gives none. */
function outputLength(record: Record<string, unknown>, fail: LineFail): number | null {
  let length: number | null = null;
  for (const field of ["max_tokens", "output_tokens"] as const) {
    const value = record[field];
    if (value === undefined) continue;
    const n = count(value, 1);
    if (n === null) {
      throw fail(
        field,
        `expected a whole number of output tokens ≥ 1 (vLLM generates at least one), got ${describe(value)}`,
      );
    }
    if (length !== null && n !== length) {
      throw fail(
        field,
        `is ${n}, but max_tokens is ${length}; both name the output length: give one, or the same number`,
      );
    }
    length = n;
  }
  return length;
}
