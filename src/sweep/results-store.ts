// A sweep's results directory: one file a finished run (runs/KEY.json, written whole by a
// rename, so that an interrupted sweep leaves only whole results), and the tables made from
// them: runs.csv and runs.parquet (a row a run), sweep.json (the sweep, pdsim's version, times and
// counts) and report.html (charts of the collected columns, the best configurations).
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "csv-stringify/sync";
import { OutputDirError } from "../output/output-dir.ts";
import { parquetBytes } from "./parquet-table.ts";
import { collectedColumns, type RunResult } from "./run-one.ts";
import { runsTable, statusCounts } from "./runs-table.ts";
import { sweepReportData } from "./sweep-report.ts";
import { renderSweepReport } from "./sweep-report-page.ts";
import type { Sweep } from "./sweep-file.ts";

export class ResultsStore {
  readonly runsDir: string;

  constructor(readonly dir: string) {
    this.runsDir = path.join(dir, "runs");
    try {
      fs.mkdirSync(this.runsDir, { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === "ENOTDIR" || code === "EEXIST"
          ? "it or a folder above it is a file, not a directory"
          : code === "EACCES"
            ? "permission denied"
            : (error as Error).message;
      throw new OutputDirError(`--out ${dir}: cannot hold a sweep's results: ${reason}`);
    }
  }

  /**
   * The runs already done (failed runs are run again). A result file that cannot be read whole
   * (written by hand, or by something other than pdsim) counts as not run: the run is simply
   * run again and its file replaced.
   */
  done(): Map<string, RunResult> {
    const done = new Map<string, RunResult>();
    for (const name of fs.readdirSync(this.runsDir)) {
      if (!name.endsWith(".json")) continue;
      let result: RunResult;
      try {
        result = JSON.parse(fs.readFileSync(path.join(this.runsDir, name), "utf8")) as RunResult;
      } catch {
        continue;
      }
      if (result.status === "ok" && typeof result.key === "string") done.set(result.key, result);
    }
    return done;
  }

  record(result: RunResult): void {
    writeWhole(path.join(this.runsDir, `${result.key}.json`), JSON.stringify(result) + "\n");
  }

  /**
   * runs.csv, runs.parquet (the same columns, typed), sweep.json and report.html from every
   * run's latest result, in the sweep's run order.
   */
  writeTables(sweep: Sweep, results: ReadonlyMap<string, RunResult>, info: SweepInfo): void {
    const table = runsTable(sweep, results);
    const rows = sweep.runs.map((_, i) => table.map((c) => c.values[i] ?? ""));
    writeWhole(path.join(this.dir, "runs.csv"), stringify([table.map((c) => c.name), ...rows]));
    writeWhole(path.join(this.dir, "runs.parquet"), parquetBytes(table, `pdsim ${info.version}`));
    const columns = collectedColumns(sweep.collect);
    const counts = statusCounts(sweep, results);
    const json = {
      sweep: { name: sweep.name, file: sweep.file, description: sweep.description },
      scenario: sweep.scenarioFile,
      pdsim_version: info.version,
      started: info.started,
      ended: info.ended,
      workers: info.workers,
      keys: sweep.keys,
      seeds: sweep.seeds,
      columns,
      counts,
    };
    writeWhole(path.join(this.dir, "sweep.json"), JSON.stringify(json, null, 2) + "\n");
    const report = sweepReportData(sweep, results, path.basename(sweep.scenarioFile));
    writeWhole(path.join(this.dir, "report.html"), renderSweepReport(report, info.version, info));
  }
}

export interface SweepInfo {
  version: string;
  /** Wall-clock times, ISO 8601: the sweep's record, not a run's input. */
  started: string;
  ended: string;
  workers: number;
}

/** Written to a temporary file and renamed, so that an interrupted write leaves the old file. */
export function writeWhole(file: string, data: string | Uint8Array): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}
