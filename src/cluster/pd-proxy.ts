// The proxy's request flow; mirrors vLLM's toy P/D proxy
// (tests/v1/kv_connector/nixl_integration/toy_proxy_server.py): a prefill leg with max_tokens=1
// asking for remote decode, then the original request to a decode instance with the prefill
// side's kv_transfer_params. For a push connector (the P2P NCCL proxy) both instances are picked
// up front, the prefill leg names the decode instance, and the decode leg carries no params.
// Requests for unified instances go there whole.

import { isFailure } from "../engine/request-status.ts";
import type { KvTransferParams } from "../engine/request.ts";
import type { ClientRequest } from "../workload/client-request.ts";
import type { LegRequest } from "./instance.ts";
import type { Router } from "./routers.ts";
import type { InstanceLeg } from "./request-record.ts";

export interface PdProxyConfig {
  unified: Router | null;
  prefill: Router | null;
  decode: Router | null;
  /** With both kinds of instances, shorter prompts go to the unified ones. */
  pdMinPromptTokens: number;
  /** `nixl`: the decode side pulls; `p2p_nccl`: the prefill side pushes. */
  connector: "nixl" | "p2p_nccl";
}

/** The first leg the toy proxy sends: the prompt, one token, and a request for remote decode. */
export const PREFILL_LEG_PARAMS: Readonly<KvTransferParams> = Object.freeze({
  do_remote_decode: true,
  do_remote_prefill: false,
  remote_engine_id: null,
  remote_block_ids: null,
  remote_request_id: null,
  remote_host: null,
  remote_port: null,
});

export class PdProxy {
  constructor(private readonly config: PdProxyConfig) {}

  /** Serves one client request; `onDone` gets the legs in the order they were sent. */
  serve(client: ClientRequest, onDone: (legs: InstanceLeg[]) => void): void {
    const { unified, prefill, decode } = this.config;
    const disaggregate =
      prefill !== null &&
      decode !== null &&
      (unified === null || client.prompt.length >= this.config.pdMinPromptTokens);
    const whole = leg(client, client.maxTokens);
    if (!disaggregate) {
      unified!.pick(client.prompt).submit(whole, (done) => onDone([done]));
      return;
    }
    if (this.config.connector === "p2p_nccl") {
      const d = decode.pick(client.prompt);
      const prefillLeg = {
        ...leg(client, 1),
        kvTransferParams: { ...PREFILL_LEG_PARAMS, remote_engine_id: d.name },
      };
      prefill.pick(client.prompt).submit(prefillLeg, (p) => {
        if (isFailure(p.finish_reason)) onDone([p]);
        else d.submit(whole, (dLeg) => onDone([p, dLeg]));
      });
      return;
    }
    const prefillLeg = { ...leg(client, 1), kvTransferParams: { ...PREFILL_LEG_PARAMS } };
    prefill.pick(client.prompt).submit(prefillLeg, (p, params) => {
      // A failed prefill, or one that returned no params, ends the client request there.
      if (isFailure(p.finish_reason) || params === null) {
        onDone([p]);
        return;
      }
      decode
        .pick(client.prompt)
        .submit({ ...whole, kvTransferParams: params }, (d) => onDone([p, d]));
    });
  }
}

function leg(client: ClientRequest, maxTokens: number): LegRequest {
  return {
    id: client.id,
    prompt: client.prompt,
    maxTokens,
    ...(client.stopAfterTokens === undefined ? {} : { stopAfterTokens: client.stopAfterTokens }),
  };
}
