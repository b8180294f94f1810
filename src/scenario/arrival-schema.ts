// How requests (or sessions) arrive: a Poisson process or a constant interval.
import { z } from "zod";
import { arrivalRate, spanSeconds } from "./primitives.ts";

/** When a generator's last request arrives, on average: start_s plus one mean gap a request. */
export function generatedArrivalSpan(
  startS: number,
  numRequests: number,
  arrival: ArrivalConfig,
): number {
  const meanGap = arrival.process === "poisson" ? 1 / arrival.rate_per_s : arrival.interval_s;
  return startS + numRequests * meanGap;
}

export const arrivalSchema = z
  .discriminatedUnion("process", [
    z.strictObject({ process: z.literal("poisson"), rate_per_s: arrivalRate }),
    z.strictObject({ process: z.literal("constant"), interval_s: spanSeconds }),
  ])
  .describe("an arrival process such as { process: poisson, rate_per_s: 5 }");

export type ArrivalConfig = z.output<typeof arrivalSchema>;
