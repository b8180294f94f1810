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

/** Appended after the text: if it does not come back as a word of its own, a quote was left open. */
const SENTINEL = "pdsim-end-of-line";

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
  const closed = parse<Variable>(`${joined} ${SENTINEL}`, (name) => ({ variable: name }));
  if (closed[closed.length - 1] !== SENTINEL) {
    return {
      ok: false,
      message: "a quote is left open (or the line ends in a backslash); close it",
    };
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
