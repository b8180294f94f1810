// A command line as a shell would split it into words, with shell-quote's parser: quotes, escapes
// and line continuations as an operator types them. What only a shell could make of a line
// (pipes, redirections, command substitution, variables, globs, comments) is refused: pdsim
// reads a plain argv and does not expand the environment.
import { parse, type ParseEntry } from "shell-quote";

export type ShellWords = { ok: true; words: string[] } | { ok: false; message: string };

/**
 * The text with its line continuations joined: a backslash before a line end continues the line,
 * as a shell reads it outside single quotes. YAML's folded block scalar (`>-`) turns that line end
 * into a space, so a backslash standing alone before a space or tab, outside quotes, continues it
 * too; within quotes it is the operator's text (`'a \ b'`).
 */
function joinContinuations(text: string): string {
  let out = "";
  let open: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && open !== "'") {
      const newline = /^\r?\n/.exec(text.slice(i + 1));
      if (newline !== null) {
        out += " ";
        i += newline[0].length;
        continue;
      }
      const alone = open === undefined && (i === 0 || /[ \t]/.test(text[i - 1]!));
      if (alone && /[ \t]/.test(text[i + 1] ?? "")) {
        out += " ";
        continue;
      }
      out += c + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (open === undefined && (c === "'" || c === '"')) open = c;
    else if (c === open) open = undefined;
    out += c;
  }
  return out;
}

interface Variable {
  variable: string;
}

export function shellWords(text: string): ShellWords {
  const joined = joinContinuations(text).trim();
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
