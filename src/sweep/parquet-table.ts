// A table of typed columns as the bytes of one Parquet file, through hyparquet-writer: integers
// as INT64, numbers as DOUBLE, text as UTF8 strings, each OPTIONAL where a value may be missing.
import { parquetWriteBuffer, type ColumnSource } from "hyparquet-writer";
import type { ColumnType, TableColumn } from "./runs-table.ts";

const PARQUET_TYPE = {
  int: "INT64",
  double: "DOUBLE",
  string: "STRING",
} as const satisfies Record<ColumnType, ColumnSource["type"]>;

/** `createdBy` goes into the file's footer, which readers show as the writer. */
export function parquetBytes(columns: readonly TableColumn[], createdBy: string): Uint8Array {
  const columnData: ColumnSource[] = columns.map((c) => ({
    name: c.name,
    type: PARQUET_TYPE[c.type],
    nullable: c.nullable,
    data: c.values.map((v) => physical(c, v)),
  }));
  // One row group: a sweep's table is small, and one group reads back in one piece.
  const rows = columns[0]?.values.length ?? 0;
  return new Uint8Array(
    parquetWriteBuffer({ columnData, createdBy, rowGroupSize: Math.max(1, rows) }),
  );
}

function physical(
  column: TableColumn,
  value: number | string | null,
): bigint | number | string | null {
  if (value === null) {
    if (!column.nullable)
      throw new Error(`column '${column.name}' is not nullable, but a value is missing`);
    return null;
  }
  switch (column.type) {
    case "int":
      if (!Number.isSafeInteger(value)) {
        throw new Error(`column '${column.name}' holds integers, got ${String(value)}`);
      }
      // hyparquet-writer writes INT64 values from bigints.
      return BigInt(value);
    case "double":
      if (typeof value !== "number") {
        throw new Error(`column '${column.name}' holds numbers, got '${value}'`);
      }
      return value;
    case "string":
      return String(value);
  }
}
