import { describe, expect, it } from "vitest";
import { Countdown } from "../../src/util/countdown.ts";

describe("Countdown", () => {
  it("runs its callback at the seal when nothing was expected", () => {
    let ran = 0;
    const c = new Countdown(() => (ran += 1));
    expect(ran).toBe(0);
    c.seal();
    expect(ran).toBe(1);
  });

  it("runs it once, after the seal and every expected callback, in either order", () => {
    let ran = 0;
    const c = new Countdown(() => (ran += 1));
    const a = c.expect();
    const b = c.expect();
    a();
    c.seal();
    expect(ran).toBe(0);
    b();
    expect(ran).toBe(1);
  });
});
