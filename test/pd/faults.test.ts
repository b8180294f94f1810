// KV load failures and lease expiry on one prefill and one decode instance, one case at a time:
// what the decode leg does under each kv_load_failure_policy, and when the prefill side lets go
// of its blocks (docs/vllm-reference.md#the-pd-flow, step 2, and #kv-load-failure).
import { describe, expect, it } from "vitest";
import {
  type ExplicitRequest,
  type PdRun,
  expectNothingHeld,
  onePOneD,
  pdCluster,
  readTimeUs,
  runPd,
  sample,
  spyOnScheduled,
  stepThrough,
} from "./helpers.ts";

const N = 40; // three blocks of 16
const POLICIES = ["fail", "recompute"] as const;

function legs(run: Pick<PdRun, "records">, id: string) {
  const record = run.records.find((r) => r.id === id)!;
  return { record, p: record.legs[0]!, d: record.legs[1]! };
}

describe("a failed KV load", () => {
  it("under fail ends the decode leg with finish reason error and no tokens, while the prefill side holds its blocks until the lease runs out", () => {
    const leaseUs = 500_000;
    const { cluster, records, transfers, holdEnds } = pdCluster(
      onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 }], {
        load_failure_policy: "fail",
        faults: { load_failure_probability: 1 },
        lease_s: leaseUs / 1e6,
      }),
    );
    const snapshots = stepThrough(cluster, "r1");
    expect(transfers.map((t) => [t.requestId, t.outcome])).toEqual([["r1", "load_failed"]]);
    const { record, d } = legs({ records }, "r1");
    expect(d).toMatchObject({
      finish_reason: "error",
      num_output_tokens: 0,
      first_token_s: null,
      last_token_s: null,
      num_cached_tokens: -1,
      truth: null,
    });
    expect(record).toMatchObject({ finish_reason: "error", first_token_s: null });
    expect(sample(cluster, "d", "vllm:request_success_total", { finished_reason: "error" })).toBe(
      1,
    );
    expect(sample(cluster, "d", "vllm:generation_tokens_total")).toBe(0);

    // No completion notice reaches the prefill side: its blocks go back only with the lease.
    const prefillDone = 4000 + N * 25;
    expect(holdEnds.map((h) => [h.requestId, h.outcome, h.time])).toEqual([
      ["r1", "lease_expired", prefillDone + leaseUs],
    ]);
    const p = snapshots.get("p")!;
    const heldUntil = p.filter((s) => s.blocks > 0).at(-1)!.time;
    expect(heldUntil).toBe(prefillDone + leaseUs);
    expect(p.filter((s) => s.time > heldUntil).every((s) => s.blocks === 0 && s.usage === 0)).toBe(
      true,
    );
    expect(sample(cluster, "p", "pdsim:kv_held_requests_total", { outcome: "lease_expired" })).toBe(
      1,
    );
    expectNothingHeld(cluster);
  });

  it("under recompute, with nothing valid, asks the connector again (it offers nothing) and the decode side prefills the prompt itself", () => {
    // One block: the first (and only) block is the one that fails.
    const { cluster, records, transfers } = pdCluster(
      onePOneD([{ id: "r1", at_s: 0, prompt_tokens: 10, max_tokens: 5 }], {
        load_failure_policy: "recompute",
        faults: { load_failure_probability: 1 },
      }),
    );
    const chunks = spyOnScheduled(cluster, "d", "r1");
    cluster.run();
    expect(transfers.map((t) => [t.outcome, t.firstInvalidToken])).toEqual([["load_failed", 0]]);
    expect(chunks[0]).toEqual({ from: 0, tokens: 10 });
    const { d } = legs({ records }, "r1");
    expect(d).toMatchObject({
      finish_reason: "length",
      num_output_tokens: 5,
      num_cached_tokens: 0,
      num_external_computed_tokens: 0,
      truth: { local_compute: 10, local_cache_hit: 0, external_kv_transfer: 0 },
      reported: {
        "vllm-pr37460": { local_compute: 10, local_cache_hit: 0, external_kv_transfer: 0 },
      },
    });
    expect(sample(cluster, "d", "vllm:request_success_total", { finished_reason: "error" })).toBe(
      0,
    );
    expectNothingHeld(cluster);
  });

  it("under recompute, when only later blocks fail, keeps the valid prefix k·B and computes the rest; under fail the same read ends in error", () => {
    const request: ExplicitRequest = { id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 5 };
    const failing = { faults: { load_failure_probability: 1 } };
    // The failing block is drawn from the fault stream; take the first seed that spares block 0.
    let seed = 1;
    let firstInvalid = 0;
    for (; seed <= 100; seed++) {
      const probe = runPd(onePOneD([request], failing, seed));
      firstInvalid = probe.transfers[0]!.firstInvalidToken!;
      if (firstInvalid > 0) break;
    }
    expect(firstInvalid).toBeGreaterThan(0);
    expect(firstInvalid % 16).toBe(0);

    const { cluster, records, transfers } = pdCluster(
      onePOneD([request], { ...failing, load_failure_policy: "recompute" }, seed),
    );
    const chunks = spyOnScheduled(cluster, "d", "r1");
    cluster.run();
    expect(transfers.map((t) => [t.outcome, t.firstInvalidToken])).toEqual([
      ["load_failed", firstInvalid],
    ]);
    expect(chunks[0]).toEqual({ from: firstInvalid, tokens: N - firstInvalid });
    expect(legs({ records }, "r1").d).toMatchObject({
      finish_reason: "length",
      num_output_tokens: 5,
      num_cached_tokens: firstInvalid,
      // The first counts stay (docs/vllm-reference.md#what-the-versions-get-wrong).
      reported: {
        "vllm-pr37460": { local_compute: 0, local_cache_hit: 0, external_kv_transfer: N },
      },
    });
    expectNothingHeld(cluster);

    const failed = runPd(onePOneD([request], { ...failing, load_failure_policy: "fail" }, seed));
    expect(failed.transfers.map((t) => t.firstInvalidToken)).toEqual([firstInvalid]);
    expect(legs(failed, "r1").d).toMatchObject({ finish_reason: "error", num_output_tokens: 0 });
  });
});

describe("the prefill side's lease", () => {
  it.each(POLICIES)(
    "expiring before the read begins frees the prefill side's blocks at the lease and fails the read (%s)",
    (policy) => {
      // r0 keeps the decode instance stepping; r1's prefill ends at 55 ms, mid-step there, and its
      // 1 ms lease runs out before the decode side's next pass starts the read.
      const leaseUs = 1000;
      const { cluster, records, transfers, holdEnds } = pdCluster(
        onePOneD(
          [
            { id: "r0", at_s: 0, prompt_tokens: 16, max_tokens: 60 },
            { id: "r1", at_s: 0.05, prompt_tokens: N, max_tokens: 4 },
          ],
          { load_failure_policy: policy, lease_s: leaseUs / 1e6 },
        ),
      );
      const p = stepThrough(cluster, "r1").get("p")!;
      const prefillDone = 50_000 + 4000 + N * 25;
      const r1 = transfers.find((t) => t.requestId === "r1")!;
      expect(r1).toMatchObject({
        outcome: "lease_expired",
        holdEndedBefore: true,
        firstInvalidToken: 0,
      });
      expect(r1.startTime).toBeGreaterThan(prefillDone + leaseUs);
      // The remote blocks are gone: the failure is known after the link's latency.
      expect(r1.endTime - r1.startTime).toBe(500);
      expect(holdEnds.find((h) => h.requestId === "r1")).toMatchObject({
        outcome: "lease_expired",
        time: prefillDone + leaseUs,
      });
      const heldUntil = p.filter((s) => s.blocks > 0).at(-1)!.time;
      expect(heldUntil).toBe(prefillDone + leaseUs);
      expect(
        sample(cluster, "p", "pdsim:kv_held_requests_total", { outcome: "lease_expired" }),
      ).toBe(1);
      expect(sample(cluster, "p", "pdsim:kv_held_requests_total", { outcome: "read" })).toBe(1);
      // Only r0's read moved anything.
      expect(sample(cluster, "d", "pdsim:kv_transfer_tokens_total")).toBe(16);
      expect(sample(cluster, "d", "pdsim:kv_transfers_total", { outcome: "lease_expired" })).toBe(
        1,
      );
      const { d } = legs({ records }, "r1");
      if (policy === "fail") {
        expect(d).toMatchObject({ finish_reason: "error", num_output_tokens: 0 });
      } else {
        expect(d).toMatchObject({
          finish_reason: "length",
          num_output_tokens: 4,
          num_cached_tokens: 0,
        });
      }
      expectNothingHeld(cluster);
    },
  );

  it.each(POLICIES)(
    "expiring during the read aborts it at the lease and frees the prefill side's blocks (%s)",
    (policy) => {
      const leaseUs = 200; // shorter than the link's 500 µs latency
      const { cluster, records, transfers, holdEnds } = pdCluster(
        onePOneD([{ id: "r1", at_s: 0, prompt_tokens: N, max_tokens: 4 }], {
          load_failure_policy: policy,
          lease_s: leaseUs / 1e6,
        }),
      );
      const chunks = spyOnScheduled(cluster, "d", "r1");
      cluster.run();
      const prefillDone = 4000 + N * 25;
      expect(transfers).toHaveLength(1);
      expect(transfers[0]).toMatchObject({
        outcome: "lease_expired",
        holdEndedBefore: false,
        startTime: prefillDone,
        endTime: prefillDone + leaseUs,
        firstInvalidToken: 0,
      });
      expect(prefillDone + readTimeUs(N)).toBeGreaterThan(prefillDone + leaseUs);
      expect(holdEnds.map((h) => [h.outcome, h.time])).toEqual([
        ["lease_expired", prefillDone + leaseUs],
      ]);
      expect(sample(cluster, "p", "pdsim:kv_transfer_tokens_total")).toBe(0);
      const { d } = legs({ records }, "r1");
      if (policy === "fail") {
        expect(d).toMatchObject({ finish_reason: "error", num_output_tokens: 0 });
        expect(chunks).toEqual([]);
      } else {
        expect(d).toMatchObject({ finish_reason: "length", num_output_tokens: 4 });
        expect(chunks[0]).toEqual({ from: 0, tokens: N });
      }
      expectNothingHeld(cluster);
    },
  );
});
