// A trace replayed as the workload: the requests of its window, in order, re-timed by
// time_scale or rate_per_s, looped if asked, read from the file as the run pulls them.
//
// Token ids come from the trace's text (openai-jsonl), tokenized as the request is pulled
// (trace-tokenizer.ts), or from its block ids (mooncake): block j of a prompt holds the tokens of
// id blockIds[j], so two requests that share their first k ids share exactly their first
// k·block_tokens tokens, and hit the prefix cache for them at any block size that divides
// block_tokens; nothing else is shared.
//
// A trace whose lines have no timestamps has no clock: request i of it arrives at i / rate_per_s,
// or, without rate_per_s, every request at time 0 (a burst, as `vllm bench serve --request-rate
// inf` sends a dataset). Its records' times are their places in the file (0, 1, 2, …), so the
// scale 1 / rate_per_s, or 0, times them as the trace's own gaps would be.

import { MAX_PERIODIC_TICKS } from "../../scenario/checks.ts";
import { MAX_SECONDS } from "../../scenario/primitives.ts";
import type { TraceWorkloadConfig } from "../../scenario/types.ts";
import { type SimTime, secondsToUs } from "../../../sim/index.ts";
import { Prompt } from "../../engine/prompt.ts";
import { promptMaker } from "../prompts.ts";
import { keySeed, tokenAt } from "../token-ids.ts";
import type { ClientRequest, WorkloadSource } from "../client-request.ts";
import type { ReplayLimits } from "../in-memory-workload.ts";
import { traceRecords } from "./trace-file.ts";
import { type TraceRecord, traceFileError, traceLineError } from "./trace-record.ts";
import { type TraceTokenizer, loadTraceTokenizer, tokenized } from "./trace-tokenizer.ts";

/** What a replay needs to know of its file before the first request is sent. */
export interface TraceSurvey {
  /** Requests the replay sends in all (loops included). */
  requests: number;
  /** Requests in one pass of the window. */
  windowRequests: number;
  /** Multiplies the trace's gaps (its records' places, for a trace with no timestamps). */
  scale: number;
  /** The trace clock's origin: the first record's time. */
  originS: number;
  /** One pass of the window, in replayed seconds (looping only). */
  periodS: number;
  /** When the last request arrives, in replayed seconds. */
  lastArrivalS: number;
}

/** Reads the whole file once: every line checked, the window counted and timed. */
export function surveyTrace(trace: TraceWorkloadConfig, limits?: ReplayLimits): TraceSurvey {
  let origin: number | null = null;
  let previous: TraceRecord | null = null;
  let n = 0;
  let first = 0;
  let last = 0;
  const end = trace.duration_s === undefined ? Infinity : trace.start_s + trace.duration_s;
  const cap = trace.loop ? Infinity : (trace.max_requests ?? Infinity);
  for (const record of traceRecords(trace)) {
    if (previous !== null && record.timeS < previous.timeS) {
      throw traceLineError(
        trace.file,
        record.line,
        "timestamp",
        `arrives at ${record.timeS} s, before line ${previous.line} (${previous.timeS} s); expected the lines in arrival order: sort the trace by its timestamps`,
      );
    }
    previous = record;
    origin ??= record.timeS;
    const t = record.timeS - origin;
    if (t < trace.start_s || t >= end || n >= cap) continue;
    if (n === 0) first = t;
    last = t;
    n += 1;
  }
  if (origin === null)
    throw traceFileError(trace.file, `the trace '${trace.path}' holds no requests`);
  if (!previous!.timed) return untimedWindow(trace, n, limits);
  if (n === 0) {
    const window = `from ${trace.start_s} s${trace.duration_s === undefined ? "" : ` for ${trace.duration_s} s`}`;
    throw traceFileError(
      trace.file,
      `no request of the trace '${trace.path}' arrives in the window ${window} (its last arrives at ${previous!.timeS - origin} s)`,
    );
  }
  const span = last - first;
  let scale = trace.time_scale ?? 1;
  if (trace.rate_per_s !== undefined) {
    if (n < 2 || span === 0) {
      throw traceFileError(
        trace.file,
        `rate_per_s needs arrivals spread over time, but the window holds ${n === 1 ? "one request" : `${n} requests at one instant`}; use time_scale instead`,
      );
    }
    // Mean gap span/(n−1) becomes 1/rate.
    scale = (n - 1) / (trace.rate_per_s * span);
  }
  let periodS = 0;
  let requests = n;
  if (trace.loop) {
    if (trace.duration_s === undefined && (n < 2 || span === 0)) {
      throw traceFileError(
        trace.file,
        `a looping replay needs duration_s (the length of one pass) when the window holds ${n === 1 ? "one request" : "requests at one instant"}`,
      );
    }
    // A pass lasts the window, or up to its last arrival plus one mean gap.
    periodS = (trace.duration_s ?? last - trace.start_s + span / (n - 1)) * scale;
    requests = trace.max_requests!;
  }
  const survey = { requests, windowRequests: n, scale, originS: origin, periodS };
  return withLastArrival(trace, survey, last, limits);
}

/**
 * The survey of a trace with no timestamps: its window is its first max_requests lines, request i
 * at i / rate_per_s (a pass of a loop lasting one gap more than its last arrival), or all at 0.
 */
function untimedWindow(trace: TraceWorkloadConfig, n: number, limits?: ReplayLimits): TraceSurvey {
  const clock = (key: string, instead: string) =>
    traceFileError(
      trace.file,
      `${key} needs the trace's timestamps, but its lines have none: ${instead}; without timestamps request i arrives at i / rate_per_s, or every request at time 0 without rate_per_s`,
    );
  if (trace.start_s !== 0 || trace.duration_s !== undefined) {
    throw clock(
      trace.start_s !== 0 ? "start_s" : "duration_s",
      "use max_requests for a part of it",
    );
  }
  if (trace.time_scale !== undefined) throw clock("time_scale", "use rate_per_s");
  const scale = trace.rate_per_s === undefined ? 0 : 1 / trace.rate_per_s;
  const requests = trace.loop ? trace.max_requests! : n;
  // Record i's time is i; a pass is n of them.
  const periodS = trace.loop ? n * scale : 0;
  const survey = { requests, windowRequests: n, scale, originS: 0, periodS };
  return withLastArrival(trace, survey, n - 1, limits);
}

/**
 * The survey with the replay's last arrival, checked against the clock's and the timers' limits;
 * `last` is the trace time of the window's last request.
 */
function withLastArrival(
  trace: TraceWorkloadConfig,
  survey: Omit<TraceSurvey, "lastArrivalS">,
  last: number,
  limits: ReplayLimits | undefined,
): TraceSurvey {
  const { requests, windowRequests: n, scale, periodS } = survey;
  const passes = Math.ceil(requests / n);
  const lastInPass = trace.loop && requests % n !== 0 ? lastOfFirst(trace, requests % n) : last;
  const lastArrivalS = (passes - 1) * periodS + (lastInPass - trace.start_s) * scale;
  if (!(lastArrivalS <= MAX_SECONDS)) {
    throw traceFileError(
      trace.file,
      `the replay's last request would arrive at ${Math.round(lastArrivalS)} s of simulated time; expected at most ${MAX_SECONDS} (about 3 years): shorten the window or lower time_scale`,
    );
  }
  if (limits !== undefined && lastArrivalS / limits.shortestTimerS > MAX_PERIODIC_TICKS) {
    throw traceFileError(
      trace.file,
      `the replay's requests arrive over ${Math.round(lastArrivalS)} s of simulated time, which is ` +
        `${Math.round(lastArrivalS / limits.shortestTimerS)} intervals of the shortest log or scrape interval ` +
        `(${limits.shortestTimerS} s); expected at most ${MAX_PERIODIC_TICKS}: raise the interval, or replay less ` +
        `of the trace (duration_s, max_requests) or faster (time_scale)`,
    );
  }
  return { ...survey, lastArrivalS };
}

/** The trace time of the k-th request of the window (k ≥ 1). */
function lastOfFirst(trace: TraceWorkloadConfig, k: number): number {
  let origin: number | null = null;
  let n = 0;
  for (const record of traceRecords(trace)) {
    origin ??= record.timeS;
    const t = record.timeS - origin;
    if (t < trace.start_s) continue;
    n += 1;
    if (n === k) return t;
  }
  throw new Error("the window lost requests between two reads of the trace");
}

export function traceReplay(trace: TraceWorkloadConfig, limits?: ReplayLimits): WorkloadSource {
  const survey = surveyTrace(trace, limits);
  // Loaded once, after the survey, so that a bad line is reported without the wait.
  const tokenizer = trace.format === "openai-jsonl" ? loadTraceTokenizer(trace) : null;
  const width = String(survey.requests - 1).length;
  const end = trace.duration_s === undefined ? Infinity : trace.start_s + trace.duration_s;
  let records = traceRecords(trace);
  const makePrompt = promptMaker();
  let sent = 0;
  let inPass = 0;
  let pass = 0;
  const arrival = (t: number): SimTime =>
    secondsToUs(pass * survey.periodS + (t - trace.start_s) * survey.scale);
  return {
    totalRequests: survey.requests,
    next(): ClientRequest | null {
      while (sent < survey.requests) {
        if (inPass === survey.windowRequests) {
          records.return(undefined);
          records = traceRecords(trace);
          inPass = 0;
          pass += 1;
        }
        const step = records.next();
        if (step.done === true) {
          throw traceFileError(trace.file, "the trace changed while it was replayed");
        }
        const record = step.value;
        const t = record.timeS - survey.originS;
        if (t < trace.start_s || t >= end) continue;
        const id = `req-${String(sent).padStart(width, "0")}`;
        sent += 1;
        inPass += 1;
        return {
          id,
          arrivalTime: arrival(t),
          prompt: promptOf(record, trace, tokenizer, id, makePrompt),
          maxTokens: record.outputTokens,
        };
      }
      records.return(undefined);
      return null;
    },
  };
}

/**
 * The record's tokens if it has text; with block ids, a prompt whose block j holds the tokens of
 * id j (see the top of this file); else the tokens of its named prefix, if any, then its own.
 */
function promptOf(
  record: TraceRecord,
  trace: TraceWorkloadConfig,
  tokenizer: TraceTokenizer | null,
  id: string,
  makePrompt: ReturnType<typeof promptMaker>,
): Prompt {
  if (record.text !== null) return Prompt.of(tokenized(record, tokenizer!, trace.file).tokenIds!);
  const blockTokens = trace.block_tokens;
  const ids = record.blockIds;
  if (ids === null) {
    const prefix = record.prefix;
    const shared =
      prefix === null ? undefined : { key: `trace-prefix:${prefix.group}`, tokens: prefix.tokens };
    return makePrompt(record.promptTokens, `prompt:${id}`, shared);
  }
  const seeds = Int32Array.from(ids, (blockId) => keySeed(`trace-block:${blockId}`));
  return Prompt.generated(record.promptTokens, (position) => {
    const block = Math.floor(position / blockTokens);
    return tokenAt(seeds[block]!, position - block * blockTokens);
  });
}
