// vLLM's --kv-transfer-config as pdsim reads it: which connector (NixlConnector is pdsim's nixl,
// P2pNcclConnector its p2p_nccl), the instance's role in the transfer, and what to do when a load
// fails. The keys are KVTransferConfig's in vllm/config/kv_transfer.py, which forbids others.
import type { PdConnectorName } from "./types.ts";
import { didYouMean } from "./suggest.ts";

export type KvRole = "kv_producer" | "kv_consumer" | "kv_both";

export interface KvTransferClaim {
  connector: PdConnectorName;
  role: KvRole;
  load_failure_policy?: "fail" | "recompute";
}

const KEYS = [
  "kv_connector",
  "engine_id",
  "kv_buffer_device",
  "kv_buffer_size",
  "kv_role",
  "kv_rank",
  "kv_parallel_size",
  "kv_ip",
  "kv_port",
  "kv_connector_extra_config",
  "kv_connector_module_path",
  "enable_permute_local_kv",
  "kv_load_failure_policy",
];

const MODELLED: Readonly<Record<string, KvTransferClaim["connector"]>> = {
  NixlConnector: "nixl",
  P2pNcclConnector: "p2p_nccl",
};

/** The connectors vLLM 0.19 registers (vllm/distributed/kv_transfer/kv_connector/factory.py). */
const REGISTERED = [
  "ExampleConnector",
  "ExampleHiddenStatesConnector",
  "P2pNcclConnector",
  "LMCacheConnectorV1",
  "LMCacheMPConnector",
  "NixlConnector",
  "MultiConnector",
  "MoRIIOConnector",
  "OffloadingConnector",
  "DecodeBenchConnector",
  "MooncakeConnector",
  "FlexKVConnectorV1",
  "SimpleCPUOffloadConnector",
];

const ROLES: readonly KvRole[] = ["kv_producer", "kv_consumer", "kv_both"];

/** The connectors pdsim models through scenario keys rather than the flag, and those keys. */
const TIER_CONNECTOR_KEYS: Readonly<Record<string, string>> = {
  OffloadingConnector: "kv_transfer.connector: offloading with a kv_cache_tiers entry",
  LMCacheConnectorV1: "kv_transfer.connector: lmcache with a kv_cache_tiers entry",
  MultiConnector: "kv_transfer.connector: multi with a connectors list",
};

export type KvTransferRead = { claim?: KvTransferClaim } | { message: string };

/** `offset`: where the JSON starts within vllm_args, so that a parse error can point into it. */
export function readKvTransferConfig(text: string, typed: string, offset: number): KvTransferRead {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const at = errorPosition(text, (error as Error).message);
    return {
      message: `${typed}: malformed JSON at position ${at} of its value (offset ${offset + at} in vllm_args): ${(error as Error).message}`,
    };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return {
      message: `${typed}: expected a JSON object such as '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'`,
    };
  }
  const config = json as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (!KEYS.includes(key)) {
      return {
        message: `${typed}: '${key}' is not a key of vLLM's KVTransferConfig${didYouMean(key, KEYS)}`,
      };
    }
  }
  const connector = config.kv_connector;
  if (connector === undefined || connector === null) return {};
  if (typeof connector !== "string")
    return { message: `${typed}: kv_connector: expected a connector's name` };
  const role = config.kv_role;
  if (role === undefined || role === null) {
    return {
      message: `${typed}: kv_connector ${connector} needs a kv_role (${ROLES.join(", ")}), as vLLM requires`,
    };
  }
  if (!ROLES.includes(role as KvRole)) {
    return {
      message: `${typed}: kv_role: expected one of ${ROLES.join(", ")}, got ${JSON.stringify(role)}`,
    };
  }
  const policy = config.kv_load_failure_policy;
  if (policy !== undefined && policy !== "fail" && policy !== "recompute") {
    return {
      message: `${typed}: kv_load_failure_policy: expected fail or recompute, got ${JSON.stringify(policy)}`,
    };
  }
  const modelled = MODELLED[connector];
  if (modelled === undefined) {
    return {
      message: REGISTERED.includes(connector)
        ? TIER_CONNECTOR_KEYS[connector] !== undefined
          ? `${typed}: the flag does not set up the ${connector} yet; state it in the scenario: ${TIER_CONNECTOR_KEYS[connector]}`
          : `${typed}: pdsim does not model the ${connector} yet; it models NixlConnector (nixl) and P2pNcclConnector (p2p_nccl)`
        : `${typed}: '${connector}' is not a connector vLLM 0.19 registers${didYouMean(connector, REGISTERED)}`,
    };
  }
  return {
    claim: {
      connector: modelled,
      role: role as KvRole,
      ...(policy === undefined ? {} : { load_failure_policy: policy }),
    },
  };
}

/**
 * Where JSON.parse gave up: its own "at position N" when it says one, else the first character
 * at which the text stops being the start of some JSON value.
 */
function errorPosition(text: string, message: string): number {
  const stated = /at position (\d+)/.exec(message);
  if (stated !== null) return Number(stated[1]);
  for (let end = 1; end <= text.length; end++) {
    try {
      JSON.parse(text.slice(0, end));
    } catch (error) {
      const m = (error as Error).message;
      const at = /at position (\d+)/.exec(m);
      const atEnd = /end of JSON input/.test(m) || (at !== null && Number(at[1]) >= end);
      if (!atEnd) return end - 1;
    }
  }
  return text.length;
}
