// The share link's fragment: what goes in comes out, whatever the text holds.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeShare, encodeShare } from "../../src/playground/share.ts";

describe("share links", () => {
  it("carry any text, seed and profile through the fragment", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 400 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.option(fc.constantFrom("vllm-pr33290", "vllm-pr37460"), { nil: undefined }),
        (text, seed, profile) => {
          const fragment = encodeShare({ text, seed, profile });
          expect(fragment).toMatch(/^[A-Za-z0-9_\-=&.]*$/);
          expect(decodeShare(`#${fragment}`)).toEqual({ text, seed, profile });
        },
      ),
    );
  });

  it("gives null for a fragment without a scenario or with a damaged one", () => {
    expect(decodeShare("#lessons")).toBeNull();
    expect(decodeShare("#s=%%%")).toBeNull();
    expect(decodeShare("#s=_w")).toBeNull(); // the byte 0xff is not UTF-8
  });
});
