// Whose numbers an invariant is checked against: the ground truth, one vLLM version's report,
// or the simulator itself (conservation laws that hold whatever is reported).

import {
  PROFILE_NAMES,
  PROFILES,
  type ProfileName,
  isProfileName,
} from "../accounting/profiles.ts";

export type Subject = "truth" | ProfileName | "simulator";

export const SUBJECTS: readonly Subject[] = ["truth", ...PROFILE_NAMES, "simulator"];

/** The profiles that export the three-way source split (every version since #33290). */
export const SPLIT_PROFILES = PROFILE_NAMES.filter((name) => PROFILES[name].hasSourceSplit);

/** The subject for an exposition or exporter error of the profile named `name`. */
export function profileSubject(name: string): ProfileName {
  if (!isProfileName(name)) throw new Error(`pdsim check holds only known profiles, not ${name}`);
  return name;
}

export function isProfile(subject: Subject): subject is ProfileName {
  return subject !== "truth" && subject !== "simulator";
}
