// Joins callbacks that end at different simulated times: a step that ends once each of its loads
// (or saves) has, however many there are, including none.

export class Countdown {
  private pending = 1;

  constructor(private readonly then: () => void) {}

  /** A callback to hand to one more thing the countdown waits for; call it once. */
  expect(): () => void {
    this.pending += 1;
    return () => this.tick();
  }

  /** Nothing more will be expected: `then` runs now if everything already ended. */
  seal(): void {
    this.tick();
  }

  private tick(): void {
    this.pending -= 1;
    if (this.pending === 0) this.then();
  }
}
