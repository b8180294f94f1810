// A command line as a shell would split it into words, with shell-quote's parser: quotes, escapes
// and line continuations as an operator types them. What only a shell could make of a line
// (pipes, redirections, command substitution, variables, globs, comments) is refused: pdsim
// reads a plain argv and does not expand the environment.
import { parse, type ParseEntry } from "shell-quote";

export type ShellWords = { ok: true; words: string[] } | { ok: false; message: string };

/**
 * A backslash before a line end continues the line. YAML's folded block scalar (`>-`) turns that
 * line end into a space, so a backslash standing alone before a space or tab continues it too.
 */
const CONTINUATION = /\\\r?\n|(^|[ \t])\\[ \t]+/g;

interface Variable {
  variable: string;
}

export function shellWords(text: string): ShellWords {
  const joined = text.replace(CONTINUATION, "$1 ").trim();
  const entries = parse<Variable>(joined, (name) => ({ variable: name }));
  for (const entry of entries) {
    const refusal = refusalOf(entry);
    if (refusal !== undefined) return { ok: false, message: refusal };
  }
  if (quoteLeftOpen(joined)) {
    return { ok: false, message: "a quote is left open; close it" };
  }
  return { ok: true, words: entries as string[] };
}

function refusalOf(entry: ParseEntry | Variable): string | undefined {
  if (typeof entry === "string") {
    return entry.includes("`")
      ? "command substitution (`...`) needs a shell; pdsim reads the command line as plain words"
      : undefined;
  }
  if ("variable" in entry) {
    if (entry.variable === "") {
      return "command substitution ('$(...)') needs a shell; pdsim reads the command line as plain words";
    }
    return `$${entry.variable}: pdsim does not expand environment variables; write the value out`;
  }
  if ("comment" in entry) {
    return "a '#' comment: pdsim cannot tell where it ends; remove it, or quote the '#'";
  }
  if (entry.op === "glob") {
    return `'${entry.pattern}' is a glob pattern a shell would expand; quote it`;
  }
  if (entry.op === "(" || entry.op === ")") {
    return "command substitution or a subshell ('(') needs a shell; pdsim reads the command line as plain words";
  }
  return `'${entry.op}' is a shell operator; vllm_args holds one command's arguments, with no pipes, redirections or command lists`;
}

/**
 * Whether the text ends inside a quote. shell-quote reads an unclosed quote as if it were closed,
 * where a shell would wait for the rest of the command; pdsim calls it a mistake.
 */
function quoteLeftOpen(text: string): boolean {
  let open: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && open !== "'") i++;
    else if (open === undefined && (c === "'" || c === '"')) open = c;
    else if (c === open) open = undefined;
  }
  return open !== undefined;
}
