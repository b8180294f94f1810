// The playground's Web Worker: it validates, runs and explains scenarios with the simulator's
// own code, so that the page stays responsive. Stop ends the worker; the page starts another.

import { explainPageRequest, parsePageScenario, runPageScenario } from "./page-run.ts";
import type { FromWorker, ToWorker } from "./worker-protocol.ts";

/** What the worker's global scope offers; the page's tsconfig has the DOM's types, not a worker's. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}

const scope = self as unknown as WorkerScope;

function handle(message: ToWorker): FromWorker {
  switch (message.type) {
    case "validate": {
      const parsed = parsePageScenario(message.text, message.file);
      return "kind" in parsed
        ? { type: "validated", id: message.id, issues: parsed.issues, omitted: parsed.omitted }
        : { type: "validated", id: message.id, issues: [], omitted: 0 };
    }
    case "run": {
      const outcome = runPageScenario(
        message.text,
        message.file,
        { seed: message.seed, profile: message.profile },
        {
          onProgress: (done, total, simulatedS) =>
            scope.postMessage({ type: "progress", id: message.id, done, total, simulatedS }),
        },
      );
      return { type: "result", id: message.id, outcome };
    }
    case "explain":
      return {
        type: "explained",
        id: message.id,
        text: explainPageRequest(message.text, message.file, message.seed, message.request),
      };
  }
}

scope.onmessage = (event) => {
  try {
    scope.postMessage(handle(event.data));
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    scope.postMessage({ type: "crashed", id: event.data.id, message });
  }
};
