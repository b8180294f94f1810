// Reads a `vllm serve` argv against vLLM's flag table as vLLM's FlexibleArgumentParser does
// (vllm/utils/argparse_utils.py on top of Python's argparse): `--flag value` and `--flag=value`,
// underscores for dashes in a long name, `--no-` for a boolean, a unique prefix of a long name,
// `-O3` for `--optimization-level 3`, a JSON flag's keys given one by one (`--x.key value`), and
// the model as the first positional word. What a flag means to pdsim is vllm-args.ts's job.
import {
  VLLM_SERVE_FLAGS,
  VLLM_VERSION,
  type VllmServeFlag,
} from "../deployment/vllm-serve-flags.ts";
import { didYouMean } from "./suggest.ts";

export interface FlagOccurrence {
  flag: VllmServeFlag;
  /** As written, e.g. `-tp` or `--max_num_seqs`. */
  typed: string;
  /** A bool or switch: its setting; a value: the text; `values`: the texts; `optional-value` alone: true. */
  value: boolean | string | readonly string[];
  /** How many earlier words began with `typed`: which of them this is, to find it in the text. */
  ordinal: number;
}

export interface VllmArgv {
  /** The positional model, or `--model`'s. */
  model?: string;
  /** Every flag in the order given; a flag given twice appears twice (the later wins, as in argparse). */
  flags: FlagOccurrence[];
}

export type ArgvRead = { ok: true; argv: VllmArgv } | { ok: false; messages: string[] };

interface OptionEntry {
  flag: VllmServeFlag;
  negated: boolean;
}

const OPTIONS: ReadonlyMap<string, OptionEntry> = (() => {
  const options = new Map<string, OptionEntry>();
  for (const flag of VLLM_SERVE_FLAGS) {
    options.set(flag.name, { flag, negated: false });
    for (const alias of flag.aliases) options.set(alias, { flag, negated: false });
    if (flag.takes === "bool") options.set(`--no-${flag.name.slice(2)}`, { flag, negated: true });
  }
  return options;
})();

const LONG_OPTIONS = [...OPTIONS.keys()].filter((o) => o.startsWith("--"));

/**
 * argparse takes a negative number, or a word with a space before any `=`, as a value rather
 * than a flag (`--name=a b` is still the flag --name with the value 'a b').
 */
function isFlagLike(word: string): boolean {
  const eq = word.indexOf("=");
  const head = eq === -1 ? word : word.slice(0, eq);
  return word.startsWith("-") && !/^-\d+$|^-\d*\.\d+$/.test(word) && !head.includes(" ");
}

/** FlexibleArgumentParser's spelling: dashes for underscores in a long name, up to a `.`. */
function normalizeLong(key: string): string {
  const dot = key.indexOf(".");
  const name = dot === -1 ? key : key.slice(0, dot);
  return name.replaceAll("_", "-") + (dot === -1 ? "" : key.slice(dot));
}

type Lookup = { ok: true; entry: OptionEntry } | { ok: false; message: string };

function lookup(option: string, typed: string): Lookup {
  const exact = OPTIONS.get(option);
  if (exact !== undefined) return { ok: true, entry: exact };
  if (option.startsWith("--")) {
    // argparse accepts any unique prefix of a long option (allow_abbrev defaults to true).
    const matches = LONG_OPTIONS.filter((o) => o.startsWith(option));
    if (matches.length === 1) return { ok: true, entry: OPTIONS.get(matches[0]!)! };
    if (matches.length > 1) {
      return {
        ok: false,
        message: `ambiguous option ${typed}: it could be ${matches.slice(0, 6).join(", ")}${matches.length > 6 ? ", ..." : ""}`,
      };
    }
  }
  return {
    ok: false,
    message: `${typed} is not a flag of vllm serve (vLLM ${VLLM_VERSION})${didYouMean(option, [...OPTIONS.keys()])}`,
  };
}

export function readVllmArgv(words: readonly string[]): ArgvRead {
  const messages: string[] = [];
  const flags: FlagOccurrence[] = [];
  // Keyed by the name as typed (dashes for underscores), as FlexibleArgumentParser keys them;
  // each is then looked up as a flag, abbreviations included, when argparse reads it back.
  const dotted = new Map<
    string,
    { typed: string; ordinal: number; value: Record<string, unknown> }
  >();
  const ordinalOf = (typed: string, at: number): number =>
    words.slice(0, at).filter((w) => w.startsWith(typed)).length;
  let model: string | undefined;
  let i = words[0] === "vllm" && words[1] === "serve" ? 2 : 0;
  const serve = i === 2;
  if (i < words.length && !isFlagLike(words[i]!)) model = words[i++];

  const nextValue = (): string | undefined =>
    i < words.length && !isFlagLike(words[i]!) ? words[i++] : undefined;

  while (i < words.length) {
    const word = words[i++]!;
    if (!isFlagLike(word)) {
      messages.push(
        `unexpected word '${word}': the model goes first (vllm serve MODEL --flag ...), and every other word belongs to a flag`,
      );
      continue;
    }
    const eq = word.indexOf("=");
    let key = eq === -1 ? word : word.slice(0, eq);
    let inline = eq === -1 ? undefined : word.slice(eq + 1);
    if (word === "-O") {
      // vLLM reads -O as --optimization-level only before a level 0 to 3; alone, argparse has no
      // -O flag.
      if (!["0", "1", "2", "3"].includes(words[i] ?? "")) {
        messages.push(
          "-O is not a flag of vllm serve by itself: give a level, as -O3, -O 3 or --optimization-level 3",
        );
        continue;
      }
      key = "--optimization-level";
    } else if (/^-O./.test(word) && !word.startsWith("--")) {
      key = "--optimization-level";
      inline = word[2] === "=" ? word.slice(3) : word.slice(2);
    } else if (key.startsWith("--")) {
      key = normalizeLong(key);
    }
    const dot = key.startsWith("--") ? key.indexOf(".") : -1;
    if (dot !== -1) {
      const at = i - 1;
      const name = key.slice(0, dot);
      const read = readDotted(key.slice(dot + 1), word, inline ?? nextValue());
      if (!read.ok) {
        messages.push(read.message);
        continue;
      }
      const typed = eq === -1 ? word : word.slice(0, eq);
      const held = dotted.get(name) ?? { typed, ordinal: ordinalOf(typed, at), value: {} };
      mergeInto(held.value, read.value);
      dotted.set(name, held);
      continue;
    }
    const found = lookup(key, word.slice(0, eq === -1 ? undefined : eq));
    if (!found.ok) {
      messages.push(found.message);
      // Whatever value it had would only add a second complaint.
      while (inline === undefined && nextValue() !== undefined);
      continue;
    }
    const { flag, negated } = found.entry;
    const typed = eq === -1 ? word : word.slice(0, eq);
    const ordinal = ordinalOf(typed, i - 1);
    switch (flag.takes) {
      case "bool":
      case "switch":
        if (inline !== undefined) {
          messages.push(`${typed} takes no value, got '${inline}'`);
          continue;
        }
        flags.push({ flag, typed, value: !negated, ordinal });
        break;
      case "optional-value":
        flags.push({ flag, typed, value: inline ?? nextValue() ?? true, ordinal });
        break;
      case "values": {
        const values: string[] = inline === undefined ? [] : [inline];
        for (let v = nextValue(); v !== undefined; v = nextValue()) values.push(v);
        if (values.length === 0) messages.push(`${typed}: expected one or more values`);
        else flags.push({ flag, typed, value: values, ordinal });
        break;
      }
      case "value":
      case "json": {
        const value = inline ?? nextValue();
        if (value === undefined) messages.push(`${typed}: expected a value`);
        else if (flag.name === "--model") model = checkModel(model, value, messages);
        else flags.push({ flag, typed, value, ordinal });
        break;
      }
    }
  }
  // vLLM adds the key-by-key JSON flags after the rest, as whole JSON values: they replace a
  // JSON value given whole rather than add to it.
  for (const [name, { typed, ordinal, value }] of dotted) {
    const found = lookup(name, typed);
    if (!found.ok) messages.push(found.message);
    else if (found.entry.flag.takes !== "json") messages.push(notJson(typed));
    else flags.push({ flag: found.entry.flag, typed, value: JSON.stringify(value), ordinal });
  }
  if (serve && words[2] !== undefined && isFlagLike(words[2]) && model === undefined) {
    if (flags.some((f) => f.flag.name === "--served-model-name")) {
      messages.push(
        "vllm serve takes the model as its first word when --served-model-name is given: vllm serve MODEL --served-model-name NAME",
      );
    }
  }
  return messages.length > 0 ? { ok: false, messages } : { ok: true, argv: { model, flags } };
}

function checkModel(held: string | undefined, value: string, messages: string[]): string {
  if (held !== undefined && held !== value) {
    messages.push(`the model is given twice: '${held}' and --model '${value}'`);
  }
  return value;
}

type Dotted = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

function notJson(typed: string): string {
  return `${typed}: only a JSON flag (such as --kv-transfer-config) takes its keys one by one`;
}

/** `--kv-transfer-config.kv_role kv_both`: one key of a JSON flag; `key+ a,b` appends a list. */
function readDotted(path: string, typed: string, text: string | undefined): Dotted {
  if (text === undefined) return { ok: false, message: `${typed}: expected a value` };
  const append = path.endsWith("+");
  const keys = (append ? path.slice(0, -1) : path).split(".");
  let value: unknown = append ? text.split(",") : parseLoosely(text);
  for (const key of keys.reverse()) value = { [key]: value };
  return { ok: true, value: value as Record<string, unknown> };
}

/** As vLLM reads a key's value: JSON when it parses, else the text itself. */
function parseLoosely(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function mergeInto(target: Record<string, unknown>, update: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(update)) {
    const held = target[key];
    if (isRecord(value) && isRecord(held)) mergeInto(held, value);
    else if (Array.isArray(value) && Array.isArray(held)) held.push(...(value as unknown[]));
    else target[key] = value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
