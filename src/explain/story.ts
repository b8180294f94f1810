// The narrative half of `pdsim explain`: one line per thing that happened to the request, in
// simulated time, with the block arithmetic of each prefix-cache lookup spelled out.

import { formatSeconds } from "../../sim/index.ts";
import type { TraceEvent } from "../cluster/request-trace.ts";

export function storyLines(events: readonly TraceEvent[]): string[] {
  return events.map((e) => `${at(e)}  ${describe(e)}`);
}

function at(e: TraceEvent): string {
  const t = e.kind === "transfer" ? e.record.startTime : e.t;
  const where = e.kind === "transfer" ? `${e.record.from} → ${e.record.to}` : e.instance;
  return `t=${formatSeconds(t, 6)}s ${where.padEnd(12)}`;
}

function describe(e: TraceEvent): string {
  switch (e.kind) {
    case "arrived":
      return (
        `arrives: ${e.promptTokens} prompt tokens, max_tokens ${e.maxTokens}` +
        (e.remoteDecode ? ", do_remote_decode (the prefill leg)" : "") +
        (e.remotePrefill ? ", do_remote_prefill (the decode leg)" : "")
      );
    case "refused":
      return `refused (finish reason error): ${e.error}`;
    case "lookup": {
      const n = e.numTokens;
      const b = e.blockSize;
      const cap = Math.floor((n - 1) / b) * b;
      const lookup =
        `prefix-cache lookup: N = ${n}, B = ${b}; a hit may cover at most ⌊(N−1)/B⌋·B = ${cap} tokens; ` +
        `${e.localHit / b} leading blocks hit → L = ${e.localHit}` +
        (e.cappedTokens > 0
          ? ` (the last block is cached too, but the N−1 cap leaves it out)`
          : "");
      const connector =
        e.external === 0
          ? ""
          : e.via !== undefined
            ? `; connector: ${e.via}, so ${e.external} tokens beyond L to load ` +
              (e.loadAsync
                ? "asynchronously (waits in WAITING_FOR_REMOTE_KVS)"
                : "during the step that computes the rest")
            : e.loadAsync
              ? `; connector: N − L = ${e.external} tokens to load asynchronously, blocks for all ${n} allocated, waits in WAITING_FOR_REMOTE_KVS`
              : `; connector: ${e.external} tokens loaded in this step (it leaves the last token out)`;
      return lookup + connector;
    }
    case "computed": {
      const last = e.from + e.tokens;
      const range = e.tokens === 1 ? `token ${e.from}` : `tokens ${e.from}..${last - 1}`;
      const note = last < e.numPromptTokens ? " (a chunk: no token sampled yet)" : "";
      return `computes ${range} (${e.tokens} token${e.tokens === 1 ? "" : "s"})${note}`;
    }
    case "preempted":
      return "preempted: its blocks are freed (cached ones stay evictable), num_computed_tokens = 0, back to the front of the waiting queue";
    case "promoted":
      if (e.failed) {
        return `KV load ended with invalid blocks: num_computed_tokens cut back to the valid prefix, ${e.numComputedTokens}`;
      }
      return e.numComputedTokens === e.numTokens - 1
        ? `KV arrived: all ${e.numTokens} tokens are there, but the model needs one input token, so num_computed_tokens = N − 1 = ${e.numComputedTokens} (the −1 step)`
        : `KV arrived: num_computed_tokens = ${e.numComputedTokens}`;
    case "transfer": {
      const r = e.record;
      const outcome =
        r.outcome === "ok"
          ? "ok"
          : r.outcome === "load_failed"
            ? `failed from token ${r.firstInvalidToken}`
            : "failed: the prefill side's lease expired";
      return `KV transfer: ${r.tokens} tokens, ${r.bytes} bytes, until t=${formatSeconds(r.endTime, 6)}s: ${outcome}`;
    }
    case "first_token":
      return "first token";
    case "finished":
      return (
        `finishes: ${e.reason} after ${e.outputTokens} output token${e.outputTokens === 1 ? "" : "s"}` +
        (e.decodeSteps > 0 ? ` (${e.decodeSteps} decode steps)` : "")
      );
  }
}
