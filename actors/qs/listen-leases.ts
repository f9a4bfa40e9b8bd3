// Which queues of this thread have a live listener somewhere: a queue publishes its new messages on
// the bus only while it holds a lease, granted when a listener is authorised and renewed by the
// listener's gateway while the socket stays open. Without listeners (most queues, most of the time)
// nothing goes on the bus. Kept beside the actors, not in them, so a queue actor passivated and
// activated again while someone listens still knows.
export class ListenLeases {
  private readonly until = new Map<string, number>();
  private grantsSinceSweep = 0;

  constructor(private readonly leaseMs: number) {}

  grant(queue: string, now = Date.now()): void {
    this.until.set(queue, now + this.leaseMs);
    // Leases of queues that never publish again would stay forever: sweep them now and then.
    if (++this.grantsSinceSweep >= 1000) {
      this.grantsSinceSweep = 0;
      for (const [key, until] of this.until) if (until <= now) this.until.delete(key);
    }
  }

  held(queue: string, now = Date.now()): boolean {
    const until = this.until.get(queue);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(queue);
    return false;
  }

  drop(queue: string): void {
    this.until.delete(queue);
  }
}
