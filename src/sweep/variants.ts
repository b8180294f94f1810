// The variants of a sweep's base scenario: every combination of a grid's values, or random draws
// from ranges, each set into a copy of the scenario's data at its key path.
//
// A key path is the scenario's keys joined by dots (`engine.num_gpu_blocks`,
// `kv_transfer.faults.load_failure_probability`); an instance is addressed by its index
// (`instances[1].gpu.preset`, or `instances.1.gpu.preset`) or its name
// (`instances.decode-0.engine.max_num_seqs`). `replicas.ROLE: N` makes the instances of ROLE N
// copies of the first of them, named ROLE-0 to ROLE-(N−1).
import seedrandom from "seedrandom";
import type { RangeSpec, SweepFile } from "./sweep-schema.ts";

/** The value of each varied key, in the sweep file's key order. */
export type Variant = Record<string, unknown>;

export function expandVariants(sweep: SweepFile): Variant[] {
  if (sweep.random !== undefined) return randomVariants(sweep.random);
  if (sweep.grid !== undefined) return gridVariants(sweep.grid);
  return [{}];
}

/** Every combination, the first key varying slowest. */
function gridVariants(grid: Record<string, unknown[]>): Variant[] {
  let variants: Variant[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    variants = variants.flatMap((v) => values.map((value) => ({ ...v, [key]: value })));
  }
  return variants;
}

function randomVariants(random: NonNullable<SweepFile["random"]>): Variant[] {
  const rng = seedrandom(`pdsim-sweep-${random.seed}`);
  const variants: Variant[] = [];
  for (let i = 0; i < random.draws; i++) {
    const variant: Variant = {};
    for (const [key, range] of Object.entries(random.ranges)) variant[key] = draw(range, rng());
    variants.push(variant);
  }
  return variants;
}

/** A value of `range` from a uniform draw `u` in [0, 1). */
export function draw(range: RangeSpec, u: number): unknown {
  if ("choices" in range) return range.choices[Math.floor(u * range.choices.length)];
  const { min, max, scale, integer } = range;
  if (integer) {
    const lo = Math.ceil(min);
    const hi = Math.floor(max);
    if (scale === "log") return Math.min(hi, Math.max(lo, Math.round(logUniform(lo, hi, u))));
    return lo + Math.floor(u * (hi - lo + 1));
  }
  return scale === "log" ? logUniform(min, max, u) : min + u * (max - min);
}

function logUniform(min: number, max: number, u: number): number {
  return Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)));
}

/** A varied value as tables and messages write it: a string as it is, anything else as JSON. */
export function valueText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A key path that cannot be set in this scenario, and why. */
export class KeyPathError extends Error {}

/** A copy of the scenario's data with the variant's values set at their paths. */
export function applyVariant(data: unknown, variant: Variant): Record<string, unknown> {
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const [path, value] of Object.entries(variant)) setPath(copy, path, value);
  return copy;
}

/** `a.b[2].c` as ["a", "b", 2, "c"]. */
export function splitPath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const part of path.split(".")) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (match === null || (match[1] === "" && match[2] === "")) {
      throw new KeyPathError(`'${path}' is not a key path such as engine.num_gpu_blocks`);
    }
    // These would reach every object's prototype rather than a key of the scenario.
    if (["__proto__", "constructor", "prototype"].includes(match[1]!)) {
      throw new KeyPathError(`'${path}': '${match[1]}' is not a key a scenario has`);
    }
    if (match[1] !== "") segments.push(/^\d+$/.test(match[1]!) ? Number(match[1]) : match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const segments = splitPath(path);
  if (segments[0] === "replicas") {
    setReplicas(root, path, segments, value);
    return;
  }
  let node: unknown = root;
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i]!;
    const last = i === segments.length - 1;
    if (Array.isArray(node)) {
      segment = indexIn(node, segment, segments.slice(0, i), path);
    } else if (typeof node !== "object" || node === null) {
      throw new KeyPathError(`'${path}': ${formatSegments(segments.slice(0, i))} is not a mapping`);
    }
    const container = node as Record<string | number, unknown>;
    if (last) {
      container[segment] = value;
      return;
    }
    // A section the scenario leaves to its defaults is created, as writing it out would.
    container[segment] ??= {};
    node = container[segment];
  }
}

/** A list's index: a number, or an instance's name in `instances`. */
function indexIn(
  list: unknown[],
  segment: string | number,
  before: (string | number)[],
  path: string,
): number {
  if (typeof segment === "number") {
    if (segment < list.length) return segment;
    throw new KeyPathError(
      `'${path}': ${formatSegments(before)} has ${list.length} items, so no [${segment}]`,
    );
  }
  const index = list.findIndex(
    (item) =>
      typeof item === "object" && item !== null && (item as { name?: unknown }).name === segment,
  );
  if (index >= 0) return index;
  const names = list
    .map((item) => (item as { name?: unknown } | null)?.name)
    .filter((n): n is string => typeof n === "string");
  throw new KeyPathError(
    `'${path}': no item named '${segment}' in ${formatSegments(before)}${names.length === 0 ? "" : ` (it has ${names.join(", ")})`}`,
  );
}

function setReplicas(
  root: Record<string, unknown>,
  path: string,
  segments: (string | number)[],
  value: unknown,
): void {
  const role = segments[1];
  if (segments.length !== 2 || typeof role !== "string") {
    throw new KeyPathError(`'${path}': replicas takes a role, as replicas.decode`);
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new KeyPathError(
      `'${path}': expected a number of instances of at least 1, got ${JSON.stringify(value)}`,
    );
  }
  const instances = root.instances;
  if (!Array.isArray(instances))
    throw new KeyPathError(`'${path}': the scenario has no instances list`);
  const first = instances.findIndex((i) => (i as { role?: unknown } | null)?.role === role);
  if (first < 0) throw new KeyPathError(`'${path}': the scenario has no ${role} instance to copy`);
  const template = instances[first] as Record<string, unknown>;
  const copies = Array.from({ length: value }, (_, n) => ({
    ...structuredClone(template),
    name: `${role}-${n}`,
  }));
  const others = instances.filter((i) => (i as { role?: unknown } | null)?.role !== role);
  root.instances = [...others.slice(0, first), ...copies, ...others.slice(first)];
}

function formatSegments(segments: (string | number)[]): string {
  if (segments.length === 0) return "the scenario";
  return segments
    .map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join("");
}
