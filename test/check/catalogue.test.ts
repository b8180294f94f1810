// docs/INVARIANTS.md, the checkers in src/check/invariants/ and the tests cannot drift: every
// invariant is catalogued as implemented, every one has a test that names it, and no test names
// an id the catalogue lacks.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { INVARIANTS } from "../../src/check/invariants/index.ts";
import { PROFILE_NAMES } from "../../src/accounting/profiles.ts";
import { REPO, readCatalogue } from "./catalogue-doc.ts";

const { invariants: rows, knownBreaks } = readCatalogue();

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every invariant a test file names with `invariant(…)`, by file (relative to the repository). */
const named = new Map(
  testFiles(path.join(REPO, "test")).map((file) => [
    path.relative(REPO, file),
    new Set(
      [...fs.readFileSync(file, "utf8").matchAll(/invariant\("([^"]+)"\)/g)].map((m) => m[1]!),
    ),
  ]),
);

describe("the invariant catalogue", () => {
  it("lists exactly the implemented invariants, in their order", () => {
    expect(rows.map((r) => r.id)).toEqual(INVARIANTS.map((i) => i.id));
  });

  it("states each one, its level and who promises it as the checker does", () => {
    const everyProfile = [...PROFILE_NAMES].sort();
    for (const inv of INVARIANTS) {
      const row = rows.find((r) => r.id === inv.id)!;
      const promised =
        row.promisedBy[0] === "every profile" ? everyProfile : [...row.promisedBy].sort();
      expect({ id: row.id, statement: row.statement, level: row.level, promised }).toEqual({
        id: inv.id,
        statement: inv.statement.replace(/`/g, ""),
        level: inv.level,
        promised: [...inv.promisedBy].sort(),
      });
    }
  });

  it("names, for each invariant, test files that exist and check it", () => {
    for (const row of rows) {
      expect(row.tests.length, row.id).toBeGreaterThan(0);
      for (const file of row.tests) {
        expect(named.get(file)?.has(row.id), `${file} names ${row.id}`).toBe(true);
      }
    }
  });

  it("has no test naming an invariant it lacks", () => {
    const ids = new Set(rows.map((r) => r.id));
    const unknown = [...named].flatMap(([file, set]) =>
      [...set].filter((id) => !ids.has(id)).map((id) => `${file}: ${id}`),
    );
    expect(unknown).toEqual([]);
  });

  it("lists known breaks only of catalogued invariants and real profiles", () => {
    for (const row of knownBreaks) {
      expect(
        rows.some((r) => r.id === row.id),
        row.id,
      ).toBe(true);
      expect(PROFILE_NAMES as readonly string[]).toContain(row.profile);
    }
  });
});
