// The fuzz corpus: scenario files mutated from the library the way a hurried user or a broken
// tool would write them — keys deleted, values of the wrong type, numbers at the edges of what
// a double holds, empty lists, duplicate names, YAML alias bombs and deep nesting, bytes that
// are not text, references to things that do not exist. Seeded, so a failing case comes back.
import * as fs from "node:fs";
import * as path from "node:path";
import seedrandom from "seedrandom";
import { type Document, isMap, isScalar, isSeq, type Node, parseDocument } from "yaml";

export interface FuzzCase {
  /** What was done to the file, for the failure message. */
  name: string;
  /** The path given to pdsim: a file, a directory or a device. */
  file: string;
}

/** Numbers that have broken a simulator before: NaN, infinities, signs, the ends of a double. */
const EDGE_NUMBERS = [
  ".nan",
  ".inf",
  "-.inf",
  "-1",
  "0",
  "-0",
  "1e300",
  "1e-300",
  "1e13",
  "0.0000004",
  "9007199254740993",
  "1000000000",
  "0.5",
  "3",
];
const WRONG_TYPES = ["abc", "true", "[]", "{}", "null", "''", "[1, 2]", "{a: 1}"];

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** Every node of the document with the path that reaches it (keys and indices). */
function nodes(doc: Document): { path: (string | number)[]; node: Node }[] {
  const out: { path: (string | number)[]; node: Node }[] = [];
  const walk = (node: unknown, at: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        out.push({ path: [...at, key], node: pair.value as Node });
        walk(pair.value, [...at, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        out.push({ path: [...at, i], node: item as Node });
        walk(item, [...at, i]);
      });
    }
  };
  walk(doc.contents, []);
  return out;
}

/** A YAML alias bomb: each level's list repeats the one before `width` times. */
export function aliasBomb(levels: number, width = 9): string {
  const lines = ["a0: &a0 [lol]"];
  for (let l = 1; l <= levels; l++) {
    lines.push(`a${l}: &a${l} [${Array.from({ length: width }, () => `*a${l - 1}`).join(", ")}]`);
  }
  return lines.join("\n") + "\n";
}

/** One mutation of a parsed scenario; returns its name. */
function mutateDocument(doc: Document, rng: Rng): string {
  const all = nodes(doc);
  const scalars = all.filter((n) => isScalar(n.node));
  const numbers = scalars.filter((n) => typeof (n.node as { value: unknown }).value === "number");
  const seqs = all.filter((n) => isSeq(n.node));
  const op = pick(rng, ["delete", "wrong-type", "edge-number", "edge-number", "empty-list"]);
  switch (op) {
    case "delete": {
      const target = pick(rng, all);
      doc.deleteIn(target.path);
      return `delete ${target.path.join(".")}`;
    }
    case "wrong-type": {
      const target = pick(rng, scalars.length > 0 ? scalars : all);
      const value = pick(rng, WRONG_TYPES);
      doc.setIn(target.path, parseDocument(value).contents);
      return `${target.path.join(".")} = ${value}`;
    }
    case "edge-number": {
      const target = pick(rng, numbers.length > 0 ? numbers : scalars);
      const value = pick(rng, EDGE_NUMBERS);
      doc.setIn(target.path, parseDocument(value).contents);
      return `${target.path.join(".")} = ${value}`;
    }
    default: {
      if (seqs.length === 0) return mutateDocument(doc, rng);
      const target = pick(rng, seqs);
      doc.setIn(target.path, parseDocument("[]").contents);
      return `${target.path.join(".")} = []`;
    }
  }
}

/** A mutation of the whole file that the document model cannot express. */
function mutateText(text: string, rng: Rng): { name: string; bytes: Buffer | string } {
  const op = pick(rng, [
    "alias-bomb",
    "deep-nesting",
    "binary",
    "latin-1",
    "duplicate-instance",
    "missing-reference",
    "truncated",
  ]);
  switch (op) {
    case "alias-bomb": {
      const levels = 2 + Math.floor(rng() * 4);
      return { name: `alias bomb, ${levels} levels`, bytes: aliasBomb(levels) + text };
    }
    case "deep-nesting": {
      const depth = pick(rng, [200, 5_000, 100_000]);
      return {
        name: `description nested ${depth} deep`,
        bytes: `${text}\nlesson: ${"[".repeat(depth)}${"]".repeat(depth)}\n`,
      };
    }
    case "binary": {
      const bytes = Buffer.alloc(64 + Math.floor(rng() * 512));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng() * 256);
      return { name: `${bytes.length} random bytes`, bytes };
    }
    case "latin-1":
      return {
        name: "a description in Latin-1",
        bytes: Buffer.concat([
          Buffer.from(text),
          Buffer.from("\ndescription: caf\xe9 cr\xe8me\n", "latin1"),
        ]),
      };
    case "duplicate-instance": {
      const doc = parseDocument(text);
      const instances = doc.get("instances");
      if (isSeq(instances) && instances.items.length > 0) instances.items.push(instances.items[0]!);
      return { name: "the first instance twice", bytes: doc.toString() };
    }
    case "missing-reference": {
      const doc = parseDocument(text);
      const where = pick(rng, ["expect", "prompt_from"]);
      if (where === "expect") {
        doc.set(
          "expect",
          parseDocument('[{instance: nope-0, metric: "vllm:prompt_tokens_total", min: 0}]')
            .contents,
        );
        return { name: "an expectation on an instance that does not exist", bytes: doc.toString() };
      }
      const requests = doc.getIn(["workload", "requests"]);
      if (isSeq(requests) && requests.items.length > 0 && isMap(requests.items[0])) {
        requests.items[0].set("prompt_from", "nope");
        return { name: "prompt_from a request that does not exist", bytes: doc.toString() };
      }
      doc.setIn(["proxy", "decode_policy"], "nope");
      return { name: "an unknown routing policy", bytes: doc.toString() };
    }
    default: {
      const cut = Math.floor(rng() * text.length);
      return { name: `truncated at byte ${cut}`, bytes: text.slice(0, cut) };
    }
  }
}

/** Keeps a mutated library scenario quick to run: at most 40 generated requests. */
function shrinkWorkload(doc: Document): void {
  const n = doc.getIn(["workload", "num_requests"]);
  if (typeof n === "number" && n > 40) doc.setIn(["workload", "num_requests"], 40);
}

/**
 * Writes `count` cases into `dir` from the scenarios in `library`, plus the special paths (an
 * empty file, a directory, a missing file, /dev/zero and /dev/urandom).
 */
export function writeCorpus(library: string, dir: string, count: number, seed: number): FuzzCase[] {
  const rng = seedrandom(String(seed));
  const sources = fs
    .readdirSync(library)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => ({ name: f, text: fs.readFileSync(path.join(library, f), "utf8") }));
  const cases: FuzzCase[] = [];
  const add = (name: string, bytes: Buffer | string): void => {
    const file = path.join(dir, `case-${String(cases.length).padStart(3, "0")}.yaml`);
    fs.writeFileSync(file, bytes);
    cases.push({ name, file });
  };
  add("an empty file", "");
  add("only a comment", "# nothing here\n");
  add("a scalar", "42\n");
  fs.mkdirSync(path.join(dir, "a-directory.yaml"));
  cases.push({ name: "a directory", file: path.join(dir, "a-directory.yaml") });
  cases.push({ name: "a missing file", file: path.join(dir, "no-such.yaml") });
  cases.push({ name: "/dev/zero", file: "/dev/zero" });
  cases.push({ name: "/dev/urandom", file: "/dev/urandom" });
  while (cases.length < count) {
    const source = pick(rng, sources);
    const doc = parseDocument(source.text);
    shrinkWorkload(doc);
    if (rng() < 0.7) {
      const changes: string[] = [];
      const times = 1 + Math.floor(rng() * 3);
      for (let i = 0; i < times; i++) changes.push(mutateDocument(doc, rng));
      add(`${source.name}: ${changes.join("; ")}`, doc.toString());
    } else {
      const { name, bytes } = mutateText(doc.toString(), rng);
      add(`${source.name}: ${name}`, bytes);
    }
  }
  return cases;
}
