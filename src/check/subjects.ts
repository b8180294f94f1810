// Whose numbers an invariant is checked against: the ground truth, one vLLM version's report,
// or the simulator itself (conservation laws that hold whatever is reported).

import { PROFILE_NAMES, type ProfileName, hasSourceSplit } from "../accounting/profiles.ts";

export type Subject = "truth" | ProfileName | "simulator";

export const SUBJECTS: readonly Subject[] = ["truth", ...PROFILE_NAMES, "simulator"];

/** The profiles that export the three-way source split (every version since #33290). */
export const SPLIT_PROFILES = PROFILE_NAMES.filter(hasSourceSplit);

export function isProfile(subject: Subject): subject is ProfileName {
  return subject !== "truth" && subject !== "simulator";
}
