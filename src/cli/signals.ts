// SIGINT (Ctrl-C) and SIGTERM, caught for the life of one command so that it can stop cleanly:
// `run` removes a half-written --out, `serve` closes its ports. Outside a command Node's default
// (exit at once) applies.

/** The command was stopped by a signal before it finished. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

export class SignalLatch {
  /** The first signal that came, if any. */
  received: NodeJS.Signals | null = null;
  private readonly waiters: (() => void)[] = [];
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    for (const wake of this.waiters.splice(0)) wake();
  };

  constructor() {
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  /** Resolves once a signal has come. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      if (this.received !== null) resolve();
      else this.waiters.push(resolve);
    });
  }

  dispose(): void {
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}
