// What the playground teaches from: the library's scenarios with their lessons, and the guide's
// chapters. `npm run site` gathers them into the page; nothing is fetched.

export interface LessonScenario {
  name: string;
  /** As the CLI names it: `scenarios/NAME.yaml`. */
  file: string;
  lesson: string;
  description: string;
  text: string;
  /** Null when the page can run it; else why not (a trace file, a config.json). */
  needsCli: string | null;
}

export interface GuideChapter {
  /** The file's name without `.md`: `01-one-request`. */
  id: string;
  title: string;
  markdown: string;
  /** Library scenarios the chapter runs, in the order it first names them. */
  scenarios: string[];
}

export interface Lessons {
  scenarios: LessonScenario[];
  chapters: GuideChapter[];
}
