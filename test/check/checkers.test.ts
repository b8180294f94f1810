// Every checker of the catalogue reports the break it guards against. "Every invariant holds over
// generated scenarios" means nothing for a checker that never looks, so each one here is handed a
// run, a record or a counter tampered with the very bug its invariant rules out, and must name the
// subject and the place; the same run untampered must give it nothing to report. Where a vLLM
// version really breaks an invariant it does not promise, the untampered run shows the checker
// catching that too.
import { describe, expect, it } from "vitest";
import { type Invariant, type Violation, invariant } from "../../src/check/invariants/index.ts";
import {
  type RequestEntry,
  type ScenarioDoc,
  scenarioOfDoc,
} from "../../src/check/scenario-doc.ts";
import type { Subject } from "../../src/check/subjects.ts";
import { WatchedRun } from "../../src/check/watched-run.ts";
import type { InstanceLeg, RequestRecord } from "../../src/cluster/request-record.ts";
import type { Admission } from "../../src/engine/scheduler-output.ts";
import type { MetricFamily } from "../../src/metrics/metric-family.ts";
import { PROFILE_NAMES, type ProfileName } from "../../src/accounting/profiles.ts";

const R1: RequestEntry = { id: "r1", at_s: 0, prompt_tokens: 10, max_tokens: 3 };
/** r1's prompt again, once r1's blocks are cached: a local hit of 8 of its 10 tokens (B = 4). */
const R2: RequestEntry = { id: "r2", at_s: 0.001, prompt_from: "r1", max_tokens: 3 };

/** One prefill and one decode instance over NIXL, B = 4, room for every request at once. */
function pdDoc(
  requests: readonly RequestEntry[] = [R1, R2],
  kvTransfer: Record<string, unknown> = {},
): ScenarioDoc {
  return {
    name: "checkers",
    seed: 1,
    engine: { block_size: 4, num_gpu_blocks: 64, max_model_len: 64 },
    instances: [
      { name: "prefill-0", role: "prefill" },
      { name: "decode-0", role: "decode" },
    ],
    kv_transfer: { connector: "nixl", ...kvTransfer },
    workload: { requests },
  };
}

/** Every KV load fails, and the decode side gives up on the request (`fail`) or recomputes it. */
const failedLoads = (policy: "fail" | "recompute") =>
  pdDoc([R1], { load_failure_policy: policy, faults: { load_failure_probability: 1 } });

interface Tamper {
  /** Sees the run before the checker does, so its step hooks run before the checker's. */
  before?: (run: WatchedRun) => void;
  /** Sees the finished run before the checker gives its verdict. */
  after?: (run: WatchedRun) => void;
}

/** The violations `inv` reports on a real run of `doc`, tampered with as `tamper` says. */
function checkRun(inv: Invariant, doc: ScenarioDoc = pdDoc(), tamper: Tamper = {}): Violation[] {
  const scenario = scenarioOfDoc(doc);
  const run = new WatchedRun(scenario, scenario.seed);
  tamper.before?.(run);
  const verdict = inv.watch(run);
  expect(run.run().error).toBeNull();
  tamper.after?.(run);
  return verdict();
}

/** A run that has only the members a checker reads; the checker must not need the rest. */
const fakeRun = (members: Record<string, unknown>) => members as unknown as WatchedRun;

function leg(run: WatchedRun, requestId: string, instance: string): InstanceLeg {
  const record = run.outputs.records.find((r) => r.id === requestId);
  const found = record?.legs.find((l) => l.instance === instance);
  if (found === undefined) throw new Error(`no leg ${requestId}@${instance}`);
  return found;
}

/** The profile's split report of the leg, for tampering with. */
function split(l: InstanceLeg, profile: Exclude<ProfileName, "vllm-pre33290">) {
  const r = l.reported![profile];
  if ("prompt_throughput_tokens" in r) throw new Error(`${profile} does not split sources`);
  return r;
}

const ofSubject = (violations: Violation[], subject: Subject) =>
  violations.filter((v) => v.subject === subject);

/** The violations of subjects that promise the invariant: none on a correct run. */
const promised = (inv: Invariant, violations: Violation[]) =>
  violations.filter((v) => inv.promisedBy.includes(v.subject));

describe("sources-sum-to-prompt", () => {
  const inv = invariant("sources-sum-to-prompt");

  it("reports nothing for the subjects that promise it on an untampered run", () => {
    expect(promised(inv, checkRun(inv))).toEqual([]);
  });

  it("reports a truth that counts the decode side's overwritten last token as computed and transferred", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        leg(run, "r1", "decode-0").truth!.local_compute += 1;
      },
    });
    expect(ofSubject(violations, "truth")).toEqual([
      {
        subject: "truth",
        where: "r1@decode-0",
        requestId: "r1",
        message:
          "sources sum to 11 for a 10-token prompt (local_compute 2, local_cache_hit 0, external_kv_transfer 9)",
      },
    ]);
  });

  it("reports vllm-pr33290's decode legs, which count the last token both as computed and as transferred", () => {
    const violations = ofSubject(checkRun(inv), "vllm-pr33290");
    expect(violations.map((v) => v.where)).toEqual(["r1@decode-0", "r2@decode-0"]);
    expect(violations[0]!.message).toMatch(/^sources sum to 11 for a 10-token prompt/);
  });

  it("holds a profile to what it added to vllm:prompt_tokens_total, not to N", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        split(leg(run, "r2", "prefill-0"), "vllm-pr37460").prompt_tokens = 9;
      },
    });
    expect(ofSubject(violations, "vllm-pr37460")).toEqual([
      expect.objectContaining({
        where: "r2@prefill-0",
        message: expect.stringMatching(/^sources sum to 10 for a 9-token prompt/),
      }),
    ]);
  });
});

describe("sources-non-negative", () => {
  const inv = invariant("sources-non-negative");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports vllm-pr33290's local cache hit of −1 on a failed KV load (c = −1, e = 0)", () => {
    const violations = checkRun(inv, failedLoads("fail"));
    expect(violations).toEqual([
      {
        subject: "vllm-pr33290",
        where: "r1@decode-0",
        requestId: "r1",
        message: expect.stringContaining("local_cache_hit -1"),
      },
    ]);
    expect(promised(inv, violations)).toEqual([]);
  });

  it("reports a truth that takes the recomputed last token out of the local hit it never had", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        Object.assign(leg(run, "r1", "decode-0").truth!, { local_compute: 2, local_cache_hit: -1 });
      },
    });
    expect(violations).toEqual([
      {
        subject: "truth",
        where: "r1@decode-0",
        requestId: "r1",
        message:
          "a negative source (local_compute 2, local_cache_hit -1, external_kv_transfer 9) for a 10-token prompt",
      },
    ]);
  });
});

describe("local-hit-within-cap", () => {
  const inv = invariant("local-hit-within-cap");

  it("reports nothing on an untampered run, where r2's hit of 8 sits exactly at the cap", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => expect(leg(run, "r2", "prefill-0").truth!.local_cache_hit).toBe(8),
    });
    expect(violations).toEqual([]);
  });

  it("reports a hit that reaches the last prompt token, in the truth and in vllm-pr37460", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        const l = leg(run, "r2", "prefill-0");
        Object.assign(l.truth!, { local_compute: 0, local_cache_hit: 10 });
        Object.assign(split(l, "vllm-pr37460"), { local_compute: 0, local_cache_hit: 10 });
      },
    });
    const message = "local_cache_hit 10 exceeds ⌊(N−1)/B⌋·B = 8 (N = 10, B = 4)";
    expect(violations).toEqual([
      { subject: "truth", where: "r2@prefill-0", requestId: "r2", message },
      { subject: "vllm-pr37460", where: "r2@prefill-0", requestId: "r2", message },
    ]);
  });
});

describe("cached-is-local-plus-external", () => {
  const inv = invariant("cached-is-local-plus-external");

  it("reports nothing for vllm-pr37460 on an untampered run", () => {
    expect(promised(inv, checkRun(inv))).toEqual([]);
  });

  it("reports vllm-pr33290's decode leg, whose cached c = N − 1 is one short of the transferred N", () => {
    expect(ofSubject(checkRun(inv), "vllm-pr33290")[0]).toEqual({
      subject: "vllm-pr33290",
      where: "r1@decode-0",
      requestId: "r1",
      message: "cached 9 ≠ local_cache_hit 0 + external_kv_transfer 10",
    });
  });

  it("reports a cached count that leaves the local hit out", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        split(leg(run, "r2", "prefill-0"), "vllm-pr37460").cached = 0;
      },
    });
    expect(ofSubject(violations, "vllm-pr37460")).toEqual([
      {
        subject: "vllm-pr37460",
        where: "r2@prefill-0",
        requestId: "r2",
        message: "cached 0 ≠ local_cache_hit 8 + external_kv_transfer 0",
      },
    ]);
  });
});

describe("decode-computes-one-token", () => {
  const inv = invariant("decode-computes-one-token");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a decode leg that recomputed a transferred token besides the last", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        Object.assign(leg(run, "r1", "decode-0").truth!, {
          local_compute: 2,
          external_kv_transfer: 8,
        });
      },
    });
    expect(violations).toEqual([
      {
        subject: "truth",
        where: "r1@decode-0",
        requestId: "r1",
        message:
          "the decode side computed 2 of 10 prompt tokens (local_compute 2, local_cache_hit 0, external_kv_transfer 8)",
      },
    ]);
  });

  it("leaves out a decode leg whose KV load failed and that recomputed the prompt", () => {
    const violations = checkRun(inv, failedLoads("recompute"), {
      after: (run) => {
        const l = leg(run, "r1", "decode-0");
        expect(l.recomputed!.failed_load).toBeGreaterThan(0);
        expect(l.truth!.local_compute).toBeGreaterThan(1);
      },
    });
    expect(violations).toEqual([]);
  });
});

describe("log-throughput-not-inflated", () => {
  const inv = invariant("log-throughput-not-inflated");

  it("reports nothing for vllm-pr37460 on an untampered run", () => {
    expect(promised(inv, checkRun(inv))).toEqual([]);
  });

  it("reports vllm-pre33290's log line, which counts the transferred prompt as prefill work", () => {
    expect(ofSubject(checkRun(inv), "vllm-pre33290")[0]).toEqual({
      subject: "vllm-pre33290",
      where: "r1@decode-0",
      requestId: "r1",
      message: "the log line counts 10 prompt tokens; the instance computed 1",
    });
  });

  it("reports a vllm-pr37460 log line that counts the transferred tokens", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        split(leg(run, "r1", "decode-0"), "vllm-pr37460").local_compute = 10;
      },
    });
    expect(ofSubject(violations, "vllm-pr37460")).toEqual([
      {
        subject: "vllm-pr37460",
        where: "r1@decode-0",
        requestId: "r1",
        message: "the log line counts 10 prompt tokens; the instance computed 1",
      },
    ]);
  });
});

describe("increments-non-negative", () => {
  const inv = invariant("increments-non-negative");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports the negative increments vllm-pr33290's exporter refuses on a failed KV load", () => {
    const violations = checkRun(inv, failedLoads("fail"));
    expect(ofSubject(violations, "vllm-pr33290")).toEqual([
      {
        subject: "vllm-pr33290",
        where: "decode-0",
        requestId: "r1",
        message: 'vllm:prompt_tokens_by_source_total{source="local_cache_hit"} += -1 (requests r1)',
      },
      {
        subject: "vllm-pr33290",
        where: "decode-0",
        requestId: "r1",
        message: "vllm:prompt_tokens_cached_total += -1 (requests r1)",
      },
    ]);
    expect(promised(inv, violations)).toEqual([]);
  });

  it("reports a refused increment that no request's first output caused, without a request", () => {
    const run = fakeRun({
      outputs: {
        exporterErrors: [
          {
            metric: "vllm:prompt_tokens_cached_total",
            amount: -2,
            requestIds: [],
            time: 7,
            instance: "unified-0",
            profile: "vllm-pr37460",
          },
        ],
      },
    });
    expect(inv.watch(run)()).toEqual([
      {
        subject: "vllm-pr37460",
        where: "unified-0",
        message: "vllm:prompt_tokens_cached_total += -2 (requests )",
      },
    ]);
  });
});

describe("counters-never-decrease", () => {
  const inv = invariant("counters-never-decrease");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a counter that went down between two steps' scrapes", () => {
    let profile = "";
    const violations = checkRun(inv, pdDoc(), {
      before: (run) => {
        const prefill = run.cluster.instances.find((i) => i.name === "prefill-0")!;
        const exposition = prefill.expositions[0]!;
        profile = exposition.profile.name;
        const family = exposition.addFamily({
          name: "test:tamper_total",
          help: "A counter the test sets by hand.",
          type: "counter",
          labelNames: [],
        }) as MetricFamily<"counter">;
        const series = family.labels({});
        let steps = 0;
        run.onStep(({ instance }) => {
          if (instance !== prefill) return;
          steps += 1;
          if (steps === 1) series.value = 5;
          if (steps === 2) series.value = 1;
        });
      },
    });
    expect(violations).toEqual([
      {
        subject: profile,
        where: "prefill-0",
        message: expect.stringMatching(/^test:tamper_total went down at t=\d+ µs$/),
      },
    ]);
  });
});

describe("external-queries-match-lookups", () => {
  const inv = invariant("external-queries-match-lookups");

  /**
   * Adds a lookup of 10 tokens, none hit locally and all offered by the connector, to decode-0's
   * first step that looked up nothing: what the counters show if the exporter missed a lookup.
   */
  const addLookup = (numPreemptions: number) => (run: WatchedRun) => {
    let done = false;
    run.onStep(({ instance, schedulerOutput }) => {
      if (done || instance.name !== "decode-0" || schedulerOutput === null) return;
      if (schedulerOutput.admissions.length > 0) return;
      done = true;
      schedulerOutput.admissions = [
        {
          request: { numPreemptions } as Admission["request"],
          numTokens: 10,
          localHit: 0,
          cappedTokens: 0,
          external: 10,
          loadAsync: true,
        },
      ];
    });
  };

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a lookup the external prefix-cache counters did not count", () => {
    expect(checkRun(inv, pdDoc(), { before: addLookup(0) })).toEqual([
      {
        subject: "simulator",
        where: "decode-0",
        message: expect.stringMatching(
          /^at t=\d+ µs the lookups asked 10 and were offered 10, the counters grew by 0 and 0$/,
        ),
      },
    ]);
  });

  it("leaves out the lookups of a preempted request, which vLLM does not export", () => {
    expect(checkRun(inv, pdDoc(), { before: addLookup(1) })).toEqual([]);
  });
});

describe("histograms-count-finished", () => {
  const inv = invariant("histograms-count-finished");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports, for every profile on every instance, a finish the expositions never observed", () => {
    const violations = checkRun(inv, pdDoc([R1]), {
      after: (run) => {
        run.outputs.records.push(structuredClone(run.outputs.records[0]!));
      },
    });
    const message =
      "2 requests finished here; vllm:request_success_total is 1, vllm:e2e_request_latency_seconds_count is 1";
    const expected = ["prefill-0", "decode-0"].flatMap((where) =>
      PROFILE_NAMES.map((subject) => ({ subject, where, message })),
    );
    // Each instance lists the selected profile's exposition first: the order is no concern here.
    expect(violations).toHaveLength(expected.length);
    expect(violations).toEqual(expect.arrayContaining(expected));
  });

  it("leaves out a leg the instance refused before its engine saw it", () => {
    const tooLong: RequestEntry = { id: "r3", at_s: 0, prompt_tokens: 80, max_tokens: 1 };
    expect(checkRun(inv, pdDoc([R1, tooLong]))).toEqual([]);
  });
});

describe("blocks-conserved", () => {
  const inv = invariant("blocks-conserved");

  /** Tampers with prefill-0's KV cache once, at its first step that ends with blocks held. */
  const atFirstHeldStep = (tamper: (run: WatchedRun) => void) => (run: WatchedRun) => {
    let done = false;
    run.onStep(({ instance }) => {
      const kv = instance.engine.scheduler.kvCacheManager;
      if (done || instance.name !== "prefill-0" || kv.numRequestsWithBlocks === 0) return;
      done = true;
      tamper(run);
    });
  };
  const prefillKv = (run: WatchedRun) =>
    run.cluster.instances.find((i) => i.name === "prefill-0")!.engine.scheduler.kvCacheManager;

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a held block with a reference no request holds: a free that never happened", () => {
    let blockId = -1;
    const violations = checkRun(inv, pdDoc(), {
      before: atFirstHeldStep((run) => {
        const block = [...prefillKv(run).blockHolders().keys()][0]!;
        block.refCnt += 1;
        blockId = block.blockId;
      }),
    });
    expect(violations).toEqual([
      {
        subject: "simulator",
        where: "prefill-0",
        message: expect.stringMatching(
          new RegExp(`^block ${blockId} has refCnt 2 but 1 requests hold it at t=\\d+ µs$`),
        ),
      },
    ]);
  });

  it("reports a block taken from the free queue that no request holds: a leak", () => {
    const violations = checkRun(inv, pdDoc(), {
      before: atFirstHeldStep((run) => prefillKv(run).blockPool.takeNewBlockIds(1, [])),
    });
    expect(violations).toEqual([
      {
        subject: "simulator",
        where: "prefill-0",
        message: expect.stringMatching(
          /^block \d+ has refCnt 1 but 0 requests hold it at t=\d+ µs$/,
        ),
      },
    ]);
  });

  it("reports a stray reference on a block still in the free queue, which could be handed out twice", () => {
    const violations = checkRun(inv, pdDoc(), {
      before: atFirstHeldStep((run) => {
        const pool = prefillKv(run).blockPool;
        const free = pool.blocks.find((b) => !b.isNull && b.refCnt === 0)!;
        free.refCnt = 1;
      }),
    });
    expect(violations).toEqual([
      {
        subject: "simulator",
        where: "prefill-0",
        message: expect.stringMatching(
          /^block \d+ has refCnt 1 but 0 requests hold it at t=\d+ µs$/,
        ),
      },
    ]);
  });

  it("reports a block both free and held", () => {
    const violations = checkRun(inv, pdDoc(), {
      before: atFirstHeldStep((run) => {
        const pool = prefillKv(run).blockPool;
        const held = [...prefillKv(run).blockHolders().keys()][0]!;
        // Back on the free list while a request still holds it.
        held.refCnt = 0;
        pool.freeBlockQueue.appendId(held.blockId);
        held.refCnt = 1;
      }),
    });
    expect(violations).toEqual([
      {
        subject: "simulator",
        where: "prefill-0",
        message: expect.stringMatching(
          /^\d+ free \+ \d+ in use \+ 1 null ≠ 64 blocks at t=\d+ µs$/,
        ),
      },
    ]);
  });
});

describe("blocks-released-at-drain", () => {
  const inv = invariant("blocks-released-at-drain");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a block still taken once the run drained", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        const decode = run.cluster.instances.find((i) => i.name === "decode-0")!;
        decode.engine.scheduler.kvCacheManager.blockPool.takeNewBlockIds(1, []);
      },
    });
    expect(violations).toEqual([
      {
        subject: "simulator",
        where: "decode-0",
        message:
          "0 requests still hold blocks; 62 of 63 blocks free, 1 referenced; 0 running, 0 waiting, 0 unfinished",
      },
    ]);
  });

  it("reports blocks the fabric still holds for a reader", () => {
    const run = fakeRun({ cluster: { instances: [], fabric: { numHeld: 2 } } });
    expect(inv.watch(run)()).toEqual([
      {
        subject: "simulator",
        where: "fabric",
        message: "2 requests' blocks still held for a reader",
      },
    ]);
  });
});

describe("one-finish-per-request", () => {
  const inv = invariant("one-finish-per-request");
  const checkRecords = (tamper: (records: RequestRecord[], run: WatchedRun) => void) =>
    checkRun(inv, pdDoc([R1]), { after: (run) => tamper(run.outputs.records, run) });

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a request that finished twice", () => {
    expect(checkRecords((records) => records.push(structuredClone(records[0]!)))).toEqual([
      { subject: "simulator", where: "r1", requestId: "r1", message: "finished twice" },
    ]);
  });

  it("reports a request that never finished", () => {
    expect(checkRecords((records) => void records.pop())).toEqual([
      {
        subject: "simulator",
        where: "cluster",
        requestId: "r1",
        message: "1 of 1 requests never finished (r1)",
      },
    ]);
  });

  it("reports a request that was never sent, and one whose last leg ended otherwise", () => {
    expect(
      checkRecords((records) => {
        records.push({ ...structuredClone(records[0]!), id: "ghost" });
        records[0]!.finish_reason = "stop";
        records[0]!.legs.at(-1)!.finish_reason = "length";
      }),
    ).toEqual([
      {
        subject: "simulator",
        where: "r1",
        requestId: "r1",
        message: "finished 'stop' but its last leg 'length'",
      },
      {
        subject: "simulator",
        where: "ghost",
        requestId: "ghost",
        message: "finished but was never sent",
      },
    ]);
  });

  it("reports a request that finished on no instance", () => {
    expect(checkRecords((records) => (records[0]!.legs = []))).toEqual([
      {
        subject: "simulator",
        where: "r1",
        requestId: "r1",
        message: "finished without a reason on some leg (length)",
      },
    ]);
  });

  it("reports a run whose count of finished requests falls short of those sent", () => {
    expect(checkRecords((_, run) => (run.outputs.result!.requestsFinished -= 1))).toEqual([
      { subject: "simulator", where: "cluster", message: "1 requests sent, 1 arrived, 0 finished" },
    ]);
  });
});

describe("link-tokens-conserved", () => {
  const inv = invariant("link-tokens-conserved");
  const TOKENS = "pdsim:kv_transfer_tokens_total";
  const BYTES = "pdsim:kv_transfer_bytes_total";

  /** An instance whose exposition answers `name peer direction` from `values`. */
  const fakeInstance = (name: string, role: string, values: Record<string, number>) => ({
    name,
    role,
    expositions: [
      {
        sampleValue: (metric: string, labels: Record<string, string>) =>
          values[`${metric} ${labels.peer} ${labels.direction}`],
      },
    ],
  });

  it("reports nothing on an untampered run, whose links did carry r1's and r2's prompts", () => {
    let sent: number | undefined;
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        sent = run.cluster.instances[0]!.expositions[0]!.sampleValue(TOKENS, {
          peer: "decode-0",
          direction: "send",
        });
      },
    });
    expect(sent).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });

  it("reports the one link whose decode side counts fewer tokens or bytes than were sent", () => {
    const run = fakeRun({
      cluster: {
        instances: [
          fakeInstance("prefill-0", "prefill", {
            [`${TOKENS} decode-0 send`]: 10,
            [`${BYTES} decode-0 send`]: 1000,
            [`${TOKENS} decode-1 send`]: 10,
            [`${BYTES} decode-1 send`]: 1000,
          }),
          fakeInstance("decode-0", "decode", {
            [`${TOKENS} prefill-0 recv`]: 10,
            [`${BYTES} prefill-0 recv`]: 1000,
          }),
          fakeInstance("decode-1", "decode", {
            [`${TOKENS} prefill-0 recv`]: 9,
            [`${BYTES} prefill-0 recv`]: 1000,
          }),
        ],
      },
    });
    expect(inv.watch(run)()).toEqual([
      {
        subject: "simulator",
        where: "prefill-0->decode-1",
        message: "pdsim:kv_transfer_tokens_total: 10 sent, 9 received",
      },
    ]);
  });
});

describe("tier-tokens-conserved", () => {
  const inv = invariant("tier-tokens-conserved");

  it("reports nothing on an untampered run whose tier stored and evicted", () => {
    const doc: ScenarioDoc = {
      ...pdDoc([R1, R2, { ...R2, id: "r3", at_s: 0.5 }]),
      kv_cache_tiers: [{ name: "cpu", capacity_tokens: 8, chunk_tokens: 4 }],
      kv_transfer: {
        connector: "multi",
        connectors: [{ connector: "nixl" }, { connector: "offloading", tier: "cpu" }],
      },
    };
    let stored = 0;
    let evicted = 0;
    const violations = checkRun(inv, doc, {
      after: (run) => {
        for (const tier of run.cluster.tiers.values()) {
          stored += tier.totals.storedTokens;
          evicted += tier.totals.evictedTokens;
        }
      },
    });
    expect(stored).toBeGreaterThan(0);
    expect(evicted).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });

  /** A tier with these totals and what is still in flight on it. */
  const fakeTier = (residentTokens: number, inFlight = { storing: 0, pinned: 0, copies: 0 }) => ({
    name: "cpu@decode-0",
    capacityChunks: 4,
    chunkTokens: 16,
    totals: {
      storedTokens: 64,
      evictedTokens: 16,
      residentTokens,
      loadedTokens: 0,
      storesRefused: 0,
    },
    inFlight: () => ({ storing: inFlight.storing, pinned: inFlight.pinned }),
    loadLink: { activeTransfers: inFlight.copies },
    storeLink: { activeTransfers: 0 },
  });
  const runWith = (...tiers: ReturnType<typeof fakeTier>[]) =>
    fakeRun({
      cluster: { tiers: new Map(tiers.map((t, i) => [String(i), t])) },
      outputs: { error: null },
    });

  it("reports a tier whose stored less evicted tokens are not what it holds", () => {
    expect(inv.watch(runWith(fakeTier(48), fakeTier(32)))()).toEqual([
      {
        subject: "simulator",
        where: "cpu@decode-0",
        message: "stored 64 − evicted 16 tokens, but it holds 32 (capacity 64)",
      },
    ]);
  });

  it("reports a tier left with a chunk being stored, a pinned chunk or a copy after the run", () => {
    expect(inv.watch(runWith(fakeTier(48, { storing: 1, pinned: 2, copies: 1 })))()).toEqual([
      {
        subject: "simulator",
        where: "cpu@decode-0",
        message:
          "after the run, 1 chunks still being stored, 2 pinned by loads and 1 copies in flight",
      },
    ]);
  });
});

describe("clock-monotone", () => {
  const inv = invariant("clock-monotone");

  /** The violations after the clock showed `times`, in order. */
  const clockSaw = (...times: number[]) => {
    let watch: ((now: number) => void) | undefined;
    const verdict = inv.watch(fakeRun({ onTime: (w: (now: number) => void) => (watch = w) }));
    for (const t of times) watch!(t);
    return verdict();
  };

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports nothing for a clock that stays put or moves forward", () => {
    expect(clockSaw(0, 5, 5, 7)).toEqual([]);
  });

  it("reports the first time the clock went back", () => {
    expect(clockSaw(5, 3, 1)).toEqual([
      { subject: "simulator", where: "clock", message: "the clock went from 5 µs back to 3 µs" },
    ]);
  });
});

describe("run-completes", () => {
  const inv = invariant("run-completes");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a run that stopped early, with why", () => {
    const error = "simulation stalled at t=4796 µs with 1 request unfinished";
    expect(inv.watch(fakeRun({ outputs: { error } }))()).toEqual([
      { subject: "simulator", where: "run", message: error },
    ]);
  });
});

describe("same-seed-same-outputs", () => {
  const inv = invariant("same-seed-same-outputs");

  it("reports nothing on an untampered run", () => {
    expect(checkRun(inv)).toEqual([]);
  });

  it("reports a run whose outputs a rerun with the same seed does not reproduce", () => {
    const violations = checkRun(inv, pdDoc(), {
      after: (run) => {
        run.outputs.records[0]!.finish_s += 1e-6;
      },
    });
    expect(violations).toEqual([
      {
        subject: "simulator",
        where: "run",
        message: expect.stringMatching(
          /^two runs with seed 1 differ \(digests [0-9a-f]{12} and [0-9a-f]{12}\)$/,
        ),
      },
    ]);
  });

  it("names the seed and both digests", () => {
    const run = fakeRun({
      seed: 7,
      digest: () => "a".repeat(64),
      rerunDigest: () => "b".repeat(64),
    });
    expect(inv.watch(run)()).toEqual([
      {
        subject: "simulator",
        where: "run",
        message: `two runs with seed 7 differ (digests ${"a".repeat(12)} and ${"b".repeat(12)})`,
      },
    ]);
  });
});
