// The guide's templates: Markdown with `{{name}}` placeholders, each filled with a fact computed
// from a scenario run. A placeholder without a fact is an error, so a renamed fact cannot leave
// a stale number behind.

export type Facts = ReadonlyMap<string, string>;

const PLACEHOLDER = /\{\{\s*([a-z0-9_.-]+)\s*\}\}/g;

export function renderTemplate(template: string, facts: Facts, file: string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = facts.get(name);
    if (value === undefined) throw new Error(`${file}: no fact named '${name}'`);
    return value;
  });
}

/** The placeholders a template uses, in order of first use. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** A Markdown table; cells are written as given. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A whole number as the guide writes it: thousands separated, a true minus sign. */
export const int = (n: number): string => n.toLocaleString("en-US").replace("-", "−");

/** A share as a percentage with one decimal. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
