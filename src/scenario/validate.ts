// Runs the zod schema over the YAML data and turns its issues into path-addressed problems
// with operator wording; one problem per unknown key, so each points at its own line.
import { z } from "zod";
import { describeIssue, unknownKeyMessage } from "./messages.ts";
import type { PathSegment, Problem } from "./paths.ts";
import { scenarioFileSchema, type ScenarioFile } from "./schema.ts";

export type Validation = { ok: true; file: ScenarioFile } | { ok: false; problems: Problem[] };

function toSegments(path: readonly PropertyKey[] | undefined): PathSegment[] {
  return (path ?? []).map((s) => (typeof s === "number" ? s : String(s)));
}

export function validateScenarioFile(data: unknown): Validation {
  const result = validateAgainst(scenarioFileSchema, data);
  return result.ok ? { ok: true, file: result.value } : result;
}

/** Any schema of pdsim's files (a scenario, a sweep) over YAML data, with the same wording. */
export function validateAgainst<S extends z.ZodType>(
  schema: S,
  data: unknown,
): { ok: true; value: z.output<S> } | { ok: false; problems: Problem[] } {
  // Final issues no longer carry the schema that raised them, so the keys an object allows
  // are noted while the error callback can still see it.
  const allowedKeys = new Map<string, string[]>();
  const result = schema.safeParse(data, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys" && issue.inst instanceof z.ZodObject) {
        allowedKeys.set(JSON.stringify(toSegments(issue.path)), Object.keys(issue.inst.shape));
      }
      return describeIssue(issue);
    },
  });
  if (result.success) return { ok: true, value: result.data };
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const path = toSegments(issue.path);
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys.get(JSON.stringify(path)) ?? [];
      for (const key of issue.keys) {
        problems.push({
          path: [...path, key],
          at: "key",
          message: unknownKeyMessage(key, path, allowed),
        });
      }
    } else {
      problems.push({ path, at: "value", message: issue.message });
    }
  }
  return { ok: false, problems };
}
