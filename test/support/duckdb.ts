// The second, independent reader of the Parquet files pdsim writes: DuckDB (its C++ reader,
// through its official Node API), and the check that a runs.parquet holds what runs.csv holds.
import * as fs from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";
import { parse as parseCsv } from "csv-parse/sync";
import { expect } from "vitest";

export interface ParquetRead {
  /** Each column's name, DuckDB's type for it, and whether the file lets it be null. */
  columns: { name: string; type: string; optional: boolean }[];
  rows: unknown[][];
}

export async function readParquet(file: string): Promise<ParquetRead> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const quoted = `'${file.replace(/'/g, "''")}'`;
    const data = await connection.runAndReadAll(`SELECT * FROM read_parquet(${quoted})`);
    const schema = await connection.runAndReadAll(
      `SELECT name, repetition_type FROM parquet_schema(${quoted}) WHERE num_children IS NULL`,
    );
    const repetition = new Map(
      schema.getRowsJS().map(([name, rep]) => [String(name), String(rep)] as const),
    );
    const names = data.columnNames();
    const types = data.columnTypes();
    return {
      columns: names.map((name, i) => ({
        name,
        type: types[i]!.toString(),
        optional: repetition.get(name) === "OPTIONAL",
      })),
      rows: data.getRowsJS(),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * runs.parquet as DuckDB reads it equals runs.csv value for value: the same header, an empty
 * cell where the Parquet value is null, integers and doubles equal as numbers, text as text.
 */
export async function expectParquetEqualsCsv(parquetFile: string, csvFile: string): Promise<void> {
  const [header, ...csvRows] = parseCsv(fs.readFileSync(csvFile, "utf8")) as string[][];
  const parquet = await readParquet(parquetFile);
  expect(parquet.columns.map((c) => c.name)).toEqual(header);
  expect(parquet.rows).toHaveLength(csvRows.length);
  csvRows.forEach((csvRow, r) => {
    parquet.columns.forEach((column, c) => {
      const text = csvRow[c]!;
      const value = parquet.rows[r]![c];
      const where = `row ${r}, column ${column.name} (${column.type}): csv '${text}', parquet ${String(value)}`;
      if (value === null) {
        expect(text, where).toBe("");
        expect(column.optional, where).toBe(true);
        return;
      }
      switch (column.type) {
        case "BIGINT":
          expect(value, where).toBe(BigInt(text));
          break;
        case "DOUBLE":
          expect(Object.is(value, Number(text)), where).toBe(true);
          break;
        case "VARCHAR":
          expect(value, where).toBe(text);
          break;
        default:
          throw new Error(`${where}: pdsim writes no ${column.type} column`);
      }
    });
  });
}
