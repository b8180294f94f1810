// The scenario's external KV cache tiers (`kv_cache_tiers`) and the connector a scenario or an
// instance runs (`kv_transfer.connector`, with `tier` or `connectors`): a CPU tier behind vLLM's
// OffloadingConnector, a cache service behind LMCache, several connectors behind a MultiConnector.
import { z } from "zod";
import { latencyMs, positiveInt } from "./primitives.ts";
import { CONNECTORS, TIER_SCOPES } from "./names.ts";

const tierPathSchema = z
  .strictObject({
    latency_ms: latencyMs.default(0.01),
    bandwidth_gb_per_s: z
      .number()
      .min(0.000001)
      .max(1_000_000)
      .describe("a number of GB/s from 0.000001 to 1000000")
      .default(20),
  })
  .prefault({});

const tierName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/)
  .describe(
    "a name of at most 100 letters, digits, '_', '.' and '-' starting with a letter or digit",
  );

export const kvCacheTierSchema = z
  .strictObject({
    name: tierName,
    /** instance: each instance that uses the tier has its own (CPU memory); cluster: one for all. */
    scope: z.enum(TIER_SCOPES).default("instance"),
    capacity_tokens: positiveInt.optional(),
    capacity_gb: z
      .number()
      .positive()
      .max(1_000_000)
      .describe("a positive number of GB")
      .optional(),
    /** The OffloadingConnector's offloaded block size; LMCache's chunk_size (256 by default). */
    chunk_tokens: positiveInt.default(256),
    /** Tier → GPU (CPU_to_GPU for a CPU tier). */
    load: tierPathSchema,
    /** GPU → tier. */
    store: tierPathSchema,
  })
  .describe("a mapping { name, scope, capacity_tokens or capacity_gb, chunk_tokens, load, store }")
  .superRefine((tier, ctx) => {
    const given = [tier.capacity_tokens, tier.capacity_gb].filter((v) => v !== undefined).length;
    if (given === 1) return;
    ctx.addIssue({
      code: "custom",
      path: given === 0 ? [] : ["capacity_gb"],
      message:
        given === 0
          ? "a tier needs its size: capacity_tokens or capacity_gb"
          : "a tier's size is capacity_tokens or capacity_gb, not both",
    });
  });

export type KvCacheTierSpec = z.output<typeof kvCacheTierSchema>;

/** One connector of a `multi` list. */
export const connectorEntrySchema = z
  .strictObject({
    connector: z.enum(CONNECTORS),
    /** The kv_cache_tiers entry an offloading or lmcache connector uses. */
    tier: z.string().optional(),
  })
  .describe("a mapping { connector, tier }");

export type ConnectorEntry = z.output<typeof connectorEntrySchema>;

/** The connector keys an instance may state, over the scenario's `kv_transfer`. */
export const connectorSpecSchema = z.strictObject({
  connector: z.enum(CONNECTORS),
  tier: z.string().optional(),
  /** For `multi`: the connectors, asked in this order. */
  connectors: z.array(connectorEntrySchema).optional(),
});

export type ConnectorSpecFile = z.output<typeof connectorSpecSchema>;
