// Named, independently seeded random streams, so adding or drawing from one never shifts another.

import seedrandom from "seedrandom";

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both ends included; consumes exactly one draw. */
  int(min: number, max: number): number;
}

class AleaRng implements Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  next(): number {
    return this.prng();
  }

  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new Error(`Rng.int: need integers min <= max, got min=${min} max=${max}`);
    }
    const span = max - min + 1;
    if (!Number.isSafeInteger(span)) {
      throw new Error(`Rng.int: range [${min}, ${max}] is too wide`);
    }
    return min + Math.floor(this.prng() * span);
  }
}

/**
 * A namespace of streams under one seed. A stream's seed is `<seed>#<name>` and a child
 * namespace's is `<seed>/<name>`; names may contain neither separator, so two different
 * paths can never end up with the same seed.
 */
export class RngStreams {
  readonly seed: string;
  private readonly streams = new Map<string, Rng>();
  private readonly children = new Map<string, RngStreams>();

  constructor(seed: number | string) {
    if (typeof seed === "number" && !Number.isFinite(seed)) {
      throw new Error(`RngStreams: seed must be a finite number or a string, got ${seed}`);
    }
    if (typeof seed !== "number" && typeof seed !== "string") {
      throw new Error(`RngStreams: seed must be a finite number or a string, got ${typeof seed}`);
    }
    this.seed = String(seed);
  }

  /** The stream called `name`; the same object every time it is asked for. */
  stream(name: string): Rng {
    checkName(name, "stream");
    let rng = this.streams.get(name);
    if (rng === undefined) {
      rng = new AleaRng(`${this.seed}#${name}`);
      this.streams.set(name, rng);
    }
    return rng;
  }

  /** A child namespace, for a component that owns a family of streams. */
  derive(name: string): RngStreams {
    checkName(name, "derive");
    let child = this.children.get(name);
    if (child === undefined) {
      child = new RngStreams(`${this.seed}/${name}`);
      this.children.set(name, child);
    }
    return child;
  }
}

function checkName(name: string, method: string): void {
  if (typeof name !== "string" || name === "" || name.includes("/") || name.includes("#")) {
    throw new Error(
      `RngStreams.${method}: name must be a non-empty string without "/" or "#", got ${JSON.stringify(name)}`,
    );
  }
}
