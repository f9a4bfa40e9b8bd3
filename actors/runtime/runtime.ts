// The node's actor system: one nact system and one supervisor per actor kind, fed through the
// method table.
import { start, stop, type ActorSystemRef } from 'nact';
import type { Logger } from 'pino';
import { notFound, type HsError } from '../../protocol/errors.js';
import type { MethodTable } from './method-table.js';
import type { SnapshotStore } from './snapshot-store.js';
import { Supervisor } from './supervisor.js';

export interface RuntimeOptions {
  /** Actors idle this long are passivated (stopped; reactivated from their snapshot on next use). */
  idleMs: number;
}

export class ActorRuntime {
  private readonly system: ActorSystemRef;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly supervisors = new Map<string, Supervisor<any>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly methods: MethodTable, store: SnapshotStore, log: Logger, private readonly options: RuntimeOptions) {
    this.system = start();
    for (const kind of methods.kinds()) {
      this.supervisors.set(kind.name, new Supervisor(this.system, kind, store, log.child({ kind: kind.name })));
    }
    const sweepEvery = Math.max(10, Math.min(options.idleMs / 2, 30_000));
    this.sweeper = setInterval(() => this.passivateIdle(), sweepEvery);
    this.sweeper.unref();
  }

  call(module: string, key: string, method: string, body: Uint8Array, deadline: number): Promise<Uint8Array> {
    const supervisor = this.supervisorOf(module, method);
    return supervisor ? supervisor.call(key, method, body, deadline) : Promise.reject(notFound(`unknown method ${module}/${method}`));
  }

  /** `call` without encoding or a promise, for callers in this thread (see Supervisor.sendTyped). */
  sendTyped(module: string, key: string, method: string, request: unknown, deadline: number, answer: (reply: unknown) => void, fail: (error: HsError) => void): void {
    const supervisor = this.supervisorOf(module, method);
    if (supervisor) supervisor.sendTyped(key, method, request, deadline, answer, fail);
    else fail(notFound(`unknown method ${module}/${method}`));
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private supervisorOf(module: string, method: string): Supervisor<any> | undefined {
    const resolved = this.methods.resolve(module, method);
    return resolved && this.supervisors.get(resolved.kind.name);
  }

  activeCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [name, supervisor] of this.supervisors) counts[name] = supervisor.activeCount;
    return counts;
  }

  passivateIdle(): number {
    let stopped = 0;
    for (const supervisor of this.supervisors.values()) stopped += supervisor.passivateIdle(this.options.idleMs);
    return stopped;
  }

  /** Finishes the work in flight, refuses new work, and stops every actor. */
  async drain(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.supervisors.values()].map((supervisor) => supervisor.drain()));
    stop(this.system);
  }
}
