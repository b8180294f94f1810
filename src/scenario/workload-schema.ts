// The `workload` section: a request generator, an explicit list of requests, or a trace to
// replay; exactly one of them.
import { z } from "zod";
import { indexUnique } from "./unique.ts";
import { tokenCountSchema, upperBound } from "./distribution-schema.ts";
import { type ArrivalConfig, arrivalSchema, generatedArrivalSpan } from "./arrival-schema.ts";
import { sessionsSchema, type SessionsSpec } from "./sessions-schema.ts";
import { traceSchema, type TraceSpec } from "./trace-schema.ts";

export { type ArrivalConfig, arrivalSchema, generatedArrivalSpan };
import {
  idSchema,
  instantSeconds,
  MAX_SECONDS,
  nonEmptyText,
  positiveInt,
  probability,
} from "./primitives.ts";

/** Ten times bench-large: about 1.5 GB of requests in flight at most, and hours of run time. */
export const MAX_REQUESTS = 10_000_000;

const sharedPrefixSchema = z.strictObject({
  groups: positiveInt,
  tokens: positiveInt,
  probability,
});

const explicitRequestSchema = z
  .strictObject({
    id: idSchema,
    at_s: instantSeconds,
    prompt_tokens: positiveInt.optional(),
    prompt_from: idSchema.optional(),
    prefix: z.strictObject({ group: nonEmptyText, tokens: positiveInt }).optional(),
    max_tokens: positiveInt,
    output_tokens: positiveInt.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.prompt_tokens === undefined && r.prompt_from === undefined) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "a request needs prompt_tokens or prompt_from, got neither",
      });
    }
    if (r.prompt_tokens !== undefined && r.prompt_from !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["prompt_from"],
        message: "a request takes prompt_tokens or prompt_from, not both",
      });
    }
    if (r.prefix === undefined) return;
    if (r.prompt_tokens === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["prefix"],
        message:
          "prefix goes with prompt_tokens; a request with prompt_from already repeats a whole prompt",
      });
    } else if (r.prefix.tokens > r.prompt_tokens) {
      ctx.addIssue({
        code: "custom",
        path: ["prefix", "tokens"],
        message: `expected prefix tokens at most prompt_tokens (${r.prompt_tokens}), got ${r.prefix.tokens}`,
      });
    }
  });

/** Ids are unique, and prompt_from names a request listed earlier, so replay order is fixed. */
const explicitRequestsSchema = z
  .array(explicitRequestSchema)
  .min(1)
  .describe("a non-empty list of requests")
  .superRefine((requests, ctx) => {
    const firstIndex = indexUnique(
      requests,
      (r) => r.id,
      "id",
      (id, earlier) => `duplicate request id '${id}': requests[${earlier}] already uses it`,
      ctx,
    );
    requests.forEach((r, i) => {
      if (r.prompt_from === undefined) return;
      const source = firstIndex.get(r.prompt_from);
      const problem =
        source === undefined
          ? "names no request in the list"
          : source === i
            ? "names this request itself"
            : source > i
              ? `names requests[${source}], which comes later; it must name an earlier request`
              : undefined;
      if (problem !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [i, "prompt_from"],
          message: `prompt_from '${r.prompt_from}' ${problem}`,
        });
      }
    });
  });

const GENERATOR_KEYS = [
  "num_requests",
  "arrival",
  "prompt_tokens",
  "max_tokens",
  "output_tokens",
  "shared_prefix",
  "start_s",
] as const;
const REQUIRED_GENERATOR_KEYS = ["num_requests", "arrival", "prompt_tokens", "max_tokens"] as const;

/** As many clients as bench-large has requests in flight at its peak, and then some. */
export const MAX_CONCURRENCY = 1_000_000;

const workloadKeys = z
  .strictObject({
    num_requests: z
      .int()
      .min(1)
      .max(MAX_REQUESTS)
      .describe(`an integer from 1 to ${MAX_REQUESTS}`)
      .optional(),
    arrival: arrivalSchema.optional(),
    prompt_tokens: tokenCountSchema.optional(),
    max_tokens: tokenCountSchema.optional(),
    output_tokens: tokenCountSchema.optional(),
    shared_prefix: sharedPrefixSchema.optional(),
    start_s: instantSeconds.optional(), // default 0: the first arrival is at t = 0
    requests: explicitRequestsSchema.optional(),
    trace: traceSchema.optional(),
    sessions: sessionsSchema.optional(),
    /** Closed-loop clients: each sends its next request when its previous one has finished. */
    concurrency: z
      .int()
      .min(1)
      .max(MAX_CONCURRENCY)
      .describe(`an integer from 1 to ${MAX_CONCURRENCY}`)
      .optional(),
  })
  .describe(
    "a mapping: a generator (num_requests, arrival, ...), explicit requests, a trace or sessions",
  );

type WorkloadKeys = z.output<typeof workloadKeys>;

/** The workload with its form decided; the resolver adds source lines to explicit requests. */
export type WorkloadSpec = WorkloadForm & { concurrency: number | null };

type WorkloadForm =
  | {
      kind: "generated";
      num_requests: number;
      arrival: ArrivalConfig;
      prompt_tokens: z.output<typeof tokenCountSchema>;
      max_tokens: z.output<typeof tokenCountSchema>;
      output_tokens?: z.output<typeof tokenCountSchema>;
      shared_prefix?: z.output<typeof sharedPrefixSchema>;
      start_s: number;
    }
  | { kind: "explicit"; requests: z.output<typeof explicitRequestsSchema> }
  | ({ kind: "trace" } & TraceSpec)
  | ({ kind: "sessions" } & SessionsSpec);

export const workloadSchema = workloadKeys.transform((w: WorkloadKeys, ctx): WorkloadSpec => {
  const form = workloadForm(w, ctx);
  return form === z.NEVER ? z.NEVER : { ...form, concurrency: w.concurrency ?? null };
});

function workloadForm(w: WorkloadKeys, ctx: z.RefinementCtx): WorkloadForm {
  const given = GENERATOR_KEYS.filter((key) => w[key] !== undefined);
  for (const key of ["trace", "sessions"] as const) {
    const form = w[key];
    if (form === undefined) continue;
    const others = [
      ...given,
      ...(["requests", "trace", "sessions"] as const).filter(
        (k) => k !== key && w[k] !== undefined,
      ),
    ];
    if (others.length === 0) {
      return key === "trace"
        ? { kind: "trace", ...(form as TraceSpec) }
        : { kind: "sessions", ...(form as SessionsSpec) };
    }
    ctx.addIssue({
      code: "custom",
      path: [key],
      message: `a workload is one of a generator, explicit requests, a trace or sessions; remove '${key}' or ${others.map((k) => `'${k}'`).join(", ")}`,
    });
    return z.NEVER;
  }
  if (w.requests !== undefined) {
    if (given.length === 0) return { kind: "explicit", requests: w.requests };
    ctx.addIssue({
      code: "custom",
      path: ["requests"],
      message: `a workload is either explicit requests or a generator, not both; remove 'requests' or ${given.map((k) => `'${k}'`).join(", ")}`,
    });
    return z.NEVER;
  }
  const { num_requests, arrival, prompt_tokens, max_tokens } = w;
  if (
    num_requests === undefined ||
    arrival === undefined ||
    prompt_tokens === undefined ||
    max_tokens === undefined
  ) {
    if (given.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message:
          "a workload needs 'requests' (explicit requests), 'trace' (a trace to replay) or a generator ('num_requests', 'arrival', 'prompt_tokens', 'max_tokens')",
      });
    }
    for (const key of REQUIRED_GENERATOR_KEYS) {
      if (given.length > 0 && w[key] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `missing required key '${key}' of a generated workload (or list 'requests' instead)`,
        });
      }
    }
    return z.NEVER;
  }
  const span = generatedArrivalSpan(w.start_s ?? 0, num_requests, arrival);
  if (span > MAX_SECONDS) {
    ctx.addIssue({
      code: "custom",
      path: ["arrival"],
      message:
        `${num_requests} requests at this arrival rate would arrive over about ${Math.round(span)} s ` +
        `of simulated time (from start_s); expected at most ${MAX_SECONDS} (about 3 years)`,
    });
    return z.NEVER;
  }
  const longest = upperBound(prompt_tokens);
  if (w.shared_prefix !== undefined && longest !== undefined && w.shared_prefix.tokens > longest) {
    ctx.addIssue({
      code: "custom",
      path: ["shared_prefix", "tokens"],
      message: `expected shared prefix tokens at most the longest prompt prompt_tokens can draw (${longest}), got ${w.shared_prefix.tokens}`,
    });
    return z.NEVER;
  }
  return {
    kind: "generated",
    num_requests,
    arrival,
    prompt_tokens,
    max_tokens,
    ...(w.output_tokens === undefined ? {} : { output_tokens: w.output_tokens }),
    ...(w.shared_prefix === undefined ? {} : { shared_prefix: w.shared_prefix }),
    start_s: w.start_s ?? 0,
  };
}
