// Multi-turn conversations, closed loop: a session is one user who sends turn 1, waits for the
// response, thinks, and sends turn 2, whose prompt is turn 1's prompt, the tokens the engine
// generated for it, and the new user message; and so on. Whether turn k+1 hits turn k's output
// blocks is then vLLM's own caching of generated tokens, as on a real chat service.
//
// Everything a session draws (its turn count, each turn's message and output lengths, its
// think times) is drawn when it starts, in start order, so that the conversation is the same
// whatever the cluster's timing; only when each turn is sent depends on the run.

import {
  type Rng,
  type RngStreams,
  type Sampler,
  type SimTime,
  makeSampler,
  secondsToUs,
} from "../../sim/index.ts";
import { Prompt } from "../engine/prompt.ts";
import { MAX_THINK_TIME_S, MAX_TURNS } from "../scenario/sessions-schema.ts";
import type { SessionsWorkloadConfig } from "../scenario/types.ts";
import type { ClientRequest, FinishedRequest, WorkloadSource } from "./client-request.ts";
import { keySeed, tokenAt } from "./token-ids.ts";

/** A run of a conversation's tokens: position p holds tokenAt(seed, p − start). */
interface Segment {
  start: number;
  seed: number;
}

interface Session {
  index: number;
  /** Per turn: new user tokens (turn 1: the first message), max_tokens, output length or 0. */
  user: Int32Array;
  maxTokens: Int32Array;
  outputTokens: Int32Array | null;
  /** Before turns 2, 3, …: microseconds of thinking. */
  thinkUs: Float64Array;
  prefixGroup: string | null;
  /** The conversation so far, append-only: every turn's prompt reads the runs below its length. */
  segments: Segment[];
}

interface InFlightTurn {
  session: Session;
  turn: number;
  prompt: Prompt;
}

export function sessionsSource(w: SessionsWorkloadConfig, rng: RngStreams): WorkloadSource {
  const draw = (sampler: Sampler, stream: Rng, min: number, max: number) =>
    Math.min(max, Math.max(min, Math.round(sampler(stream))));
  const turnsSampler = makeSampler(w.turns);
  const turnsStream = rng.stream("turns");
  // Turn counts first, all of them, so that the total is known before the run.
  const turns = Int32Array.from({ length: w.num_sessions }, () =>
    draw(turnsSampler, turnsStream, 1, MAX_TURNS),
  );
  const interArrival = makeSampler(
    w.arrival.process === "poisson"
      ? { dist: "exponential", mean: 1 / w.arrival.rate_per_s }
      : { dist: "constant", value: w.arrival.interval_s },
  );
  const samplers = {
    first: makeSampler(w.first_prompt_tokens),
    user: makeSampler(w.user_tokens),
    max: makeSampler(w.max_tokens),
    output: w.output_tokens === undefined ? null : makeSampler(w.output_tokens),
    think: makeSampler(w.think_time_s),
  };
  const streams = {
    arrivals: rng.stream("arrivals"),
    user: rng.stream("user_tokens"),
    max: rng.stream("max_tokens"),
    output: rng.stream("output_tokens"),
    think: rng.stream("think_time_s"),
    prefix: rng.stream("shared_prefix"),
  };
  const width = String(w.num_sessions - 1).length;
  const groupPrompts = new Map<string, Prompt>();
  const inFlight = new Map<string, InFlightTurn>();
  let started = 0;
  let t = w.start_s + (w.arrival.process === "poisson" ? interArrival(streams.arrivals) : 0);

  const startSession = (index: number): Session => {
    const n = turns[index]!;
    const user = new Int32Array(n);
    const maxTokens = new Int32Array(n);
    const outputTokens = samplers.output === null ? null : new Int32Array(n);
    const thinkUs = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      user[k] = draw(k === 0 ? samplers.first : samplers.user, streams.user, 1, Infinity);
      maxTokens[k] = draw(samplers.max, streams.max, 1, Infinity);
      if (outputTokens !== null)
        outputTokens[k] = draw(samplers.output!, streams.output, 1, Infinity);
      // Clipped, then whole microseconds: the clock's unit.
      thinkUs[k] = secondsToUs(
        Math.min(MAX_THINK_TIME_S, Math.max(0, samplers.think(streams.think))),
      );
    }
    let prefixGroup: string | null = null;
    const sp = w.shared_prefix;
    const segments: Segment[] = [];
    if (sp !== undefined) {
      // Both draws for every session, so that one choice never shifts the next session's.
      const use = streams.prefix.next() < sp.probability;
      const group = streams.prefix.int(0, sp.groups - 1);
      if (use) {
        prefixGroup = `group-${group}`;
        segments.push({ start: 0, seed: keySeed(`prefix:${prefixGroup}`) });
      }
    }
    return { index, user, maxTokens, outputTokens, thinkUs, prefixGroup, segments };
  };

  /** Turn `turn` (0-based) of a session whose conversation so far is `length` tokens long. */
  const turnRequest = (
    session: Session,
    turn: number,
    length: number,
    arrivalTime: SimTime,
    previous: Prompt | null,
  ): ClientRequest => {
    const id = `sess-${String(session.index).padStart(width, "0")}-turn-${turn + 1}`;
    const segments = session.segments;
    segments.push({ start: length, seed: keySeed(`user:${id}`) });
    const promptLength = length + session.user[turn]!;
    const end = segments.length;
    const prompt = Prompt.generated(
      promptLength,
      (p) => {
        // The last run that starts at or before p, among this prompt's runs.
        let lo = 0;
        let hi = end - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (segments[mid]!.start <= p) lo = mid;
          else hi = mid - 1;
        }
        const s = segments[lo]!;
        return tokenAt(s.seed, p - s.start);
      },
      previous ?? groupPrompt(session),
    );
    inFlight.set(id, { session, turn, prompt });
    const output = session.outputTokens?.[turn];
    return {
      id,
      arrivalTime,
      prompt,
      maxTokens: session.maxTokens[turn]!,
      ...(output === undefined ? {} : { stopAfterTokens: output }),
      ...(session.prefixGroup === null ? {} : { prefixGroup: session.prefixGroup }),
    };
  };

  /** The shared prefix's own prompt, whose block hashes every session of the group reuses. */
  const groupPrompt = (session: Session): Prompt | null => {
    const group = session.prefixGroup;
    if (group === null) return null;
    let prompt = groupPrompts.get(group);
    if (prompt === undefined) {
      const seed = keySeed(`prefix:${group}`);
      prompt = Prompt.generated(w.shared_prefix!.tokens, (p) => tokenAt(seed, p));
      groupPrompts.set(group, prompt);
    }
    return prompt;
  };

  return {
    totalRequests: turns.reduce((a, b) => a + b, 0),
    next(): ClientRequest | null {
      if (started >= w.num_sessions) return null;
      const session = startSession(started);
      started += 1;
      const arrival = secondsToUs(t);
      t += interArrival(streams.arrivals);
      const prefixTokens = session.prefixGroup === null ? 0 : w.shared_prefix!.tokens;
      return turnRequest(session, 0, prefixTokens, arrival, null);
    },
    followUp(finished: FinishedRequest): ClientRequest | null {
      const flight = inFlight.get(finished.request.id);
      if (flight === undefined) return null;
      inFlight.delete(finished.request.id);
      const { session, turn, prompt } = flight;
      // A refused or failed turn ends the conversation, as a client gives up on an error.
      if (turn + 1 >= session.user.length || finished.outputTokens === 0) return null;
      session.segments.push({
        start: prompt.length,
        seed: keySeed(`out:${finished.request.id}`),
      });
      return turnRequest(
        session,
        turn + 1,
        prompt.length + finished.outputTokens,
        finished.time + session.thinkUs[turn + 1]!,
        prompt,
      );
    },
  };
}
