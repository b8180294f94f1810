import { describe, expect, it } from "vitest";
import { parseMetricSelector } from "../../src/scenario/index.ts";

describe("parseMetricSelector", () => {
  it("parses a bare sample name with no labels", () => {
    expect(parseMetricSelector("vllm:time_to_first_token_seconds_count")).toEqual({
      ok: true,
      selector: { name: "vllm:time_to_first_token_seconds_count", labels: {} },
    });
  });

  it("parses label matchers with spaces and escaped quotes", () => {
    expect(
      parseMetricSelector('pdsim:tokens_total{ source = "local_cache_hit" , note="a\\"b\\\\c" }'),
    ).toEqual({
      ok: true,
      selector: {
        name: "pdsim:tokens_total",
        labels: { source: "local_cache_hit", note: 'a"b\\c' },
      },
    });
  });

  it.each([
    ["", "is not a metric name"],
    ["vllm-x", "is not a metric name"],
    ['vllm:x{1a="b"}', "'1a' is not a label name"],
    ['vllm:x{a!="b"}', "only '=' matchers"],
    ['vllm:x{a="b",a="c"}', "label 'a' given twice"],
    ['vllm:x{a="b"', "lack a '}'"],
    ['vllm:x{a="b",}', "a ',' with no matcher after it"],
  ])("rejects %j", (text, reason) => {
    const parsed = parseMetricSelector(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });
});
