// An engine written back as the `vllm serve` command line that runs it: what `pdsim config`
// prints for each instance, and what the tests read back to check that a command line and the
// engine it sets say the same thing.
import { quote } from "shell-quote";
import type { CacheDtype } from "../deployment/model-config.ts";
import type { EngineConfig } from "./types.ts";
import { ENGINE_KEY_FLAGS, type KvTransferClaim } from "./vllm-args.ts";

const CONNECTOR_CLASSES: Readonly<Record<KvTransferClaim["connector"], string>> = {
  nixl: "NixlConnector",
  p2p_nccl: "P2pNcclConnector",
};

export interface RenderInput {
  /** The model vLLM loads (a Hugging Face name); absent: no positional model. */
  model?: string;
  servedName?: string;
  /** The keys to write; log_stats_interval_s has no flag (vLLM reads it from its environment). */
  engine: Partial<EngineConfig>;
  cacheDtype?: CacheDtype;
  kvTransfer?: Pick<KvTransferClaim, "connector" | "role">;
  /** A whole --kv-transfer-config, in place of `kvTransfer` (tiers, MultiConnector lists). */
  kvTransferConfig?: Record<string, unknown>;
}

export interface RenderStyle {
  /** `--flag=value` rather than `--flag value`. */
  equals?: boolean;
}

export function renderVllmArgs(input: RenderInput, style: RenderStyle = {}): string {
  // vLLM takes --served-model-name after `vllm serve` only with a model first; without one, the
  // flags alone (as vllm_args may be written) say the same.
  const words: string[] = input.model === undefined ? [] : ["vllm", "serve"];
  const flag = (name: string, value: string): void => {
    if (style.equals === true) words.push(`${name}=${value}`);
    else words.push(name, value);
  };
  if (input.model !== undefined) words.push(input.model);
  if (input.servedName !== undefined && input.servedName !== input.model) {
    flag("--served-model-name", input.servedName);
  }
  for (const [key, value] of Object.entries(input.engine) as [keyof EngineConfig, unknown][]) {
    const name = ENGINE_KEY_FLAGS[key];
    if (name === undefined || value === undefined) continue;
    if (typeof value === "boolean") words.push(value ? name : `--no-${name.slice(2)}`);
    else flag(name, String(value));
  }
  if (input.cacheDtype !== undefined && input.cacheDtype !== "auto") {
    flag("--kv-cache-dtype", input.cacheDtype);
  }
  if (input.kvTransferConfig !== undefined) {
    flag("--kv-transfer-config", JSON.stringify(input.kvTransferConfig));
  } else if (input.kvTransfer !== undefined) {
    const json = JSON.stringify({
      kv_connector: CONNECTOR_CLASSES[input.kvTransfer.connector],
      kv_role: input.kvTransfer.role,
    });
    flag("--kv-transfer-config", json);
  }
  // shell-quote escapes each word so that a shell (and pdsim) reads the same words back.
  return quote(words);
}
