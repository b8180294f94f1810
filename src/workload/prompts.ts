// Prompts of synthetic token ids, with named prefixes shared between the requests that name them.

import { Prompt } from "../engine/prompt.ts";
import { promptTokenAt } from "./token-ids.ts";

export interface SharedPrefix {
  key: string;
  tokens: number;
}

/**
 * Builds prompts, keeping one Prompt per shared prefix so that every request of a prefix group
 * reuses the group's block hashes instead of recomputing them.
 */
export function promptMaker(): (length: number, ownKey: string, prefix?: SharedPrefix) => Prompt {
  const prefixes = new Map<string, Prompt>();
  return (length, ownKey, prefix) => {
    if (prefix === undefined) return Prompt.generated(length, promptTokenAt(ownKey));
    const id = `${prefix.tokens}:${prefix.key}`;
    let shared = prefixes.get(id);
    if (shared === undefined) {
      shared = Prompt.generated(prefix.tokens, promptTokenAt(prefix.key));
      prefixes.set(id, shared);
    }
    return Prompt.generated(length, promptTokenAt(ownKey, prefix), shared);
  };
}
