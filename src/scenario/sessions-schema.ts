// `workload.sessions`: multi-turn conversations, closed loop. Each session is one user: turn
// k+1 is sent a think time after turn k's response ended, and its prompt is turn k's prompt, the
// tokens the engine generated for it, and the new user message.
import { z } from "zod";
import { distributionSchema, tokenCountSchema } from "./distribution-schema.ts";
import { instantSeconds, positiveInt, probability } from "./primitives.ts";
import { arrivalSchema } from "./arrival-schema.ts";

/** Think times are clipped to a day, so that a session's turns stay on the clock. */
export const MAX_THINK_TIME_S = 86_400;

/** A hundred thousand users: at ten turns each, as many requests as bench-large. */
export const MAX_SESSIONS = 100_000;
export const MAX_TURNS = 1_000;

export const sessionsSchema = z
  .strictObject({
    num_sessions: z.int().min(1).max(MAX_SESSIONS).describe(`an integer from 1 to ${MAX_SESSIONS}`),
    /** When sessions start. */
    arrival: arrivalSchema,
    start_s: instantSeconds.optional(),
    /** Turns a session has; clipped to 1..MAX_TURNS. */
    turns: tokenCountSchema,
    /** The first turn's user message (after the shared prefix, if any). */
    first_prompt_tokens: tokenCountSchema,
    /** Each later turn's new user message. */
    user_tokens: tokenCountSchema,
    max_tokens: tokenCountSchema,
    output_tokens: tokenCountSchema.optional(),
    /** Seconds between a response's end and the next turn; clipped to 0..MAX_THINK_TIME_S. */
    think_time_s: distributionSchema,
    /** A system prompt some sessions start with, shared by the sessions of its group. */
    shared_prefix: z
      .strictObject({ groups: positiveInt, tokens: positiveInt, probability })
      .optional(),
  })
  .transform((s) => ({ ...s, start_s: s.start_s ?? 0 }));

export type SessionsSpec = z.output<typeof sessionsSchema>;
