// What a node (or one of its threads) has opened, closed in reverse order: on a graceful stop, and
// when starting fails half-way (so a failed start leaves no connection or timer behind).
import type { Logger } from 'pino';

export class Teardown {
  private readonly steps: [string, () => Promise<unknown>][] = [];

  add(done: string, step: () => Promise<unknown>): void {
    this.steps.push([done, step]);
  }

  async run(log: Logger): Promise<void> {
    for (const [done, step] of this.steps.reverse()) {
      await step();
      log.debug(done);
    }
  }

  /** After a failed start: close what can be closed, keep the original error. */
  async runQuietly(): Promise<void> {
    for (const [, step] of this.steps.reverse()) await step().catch(() => undefined);
  }
}
