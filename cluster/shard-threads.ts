// The first thread's side of a multi-threaded node: starts threads 1..n-1 (cluster/shard-thread.ts),
// gives every pair of threads a MessageChannel, and stops them again. Modules reach the other threads
// by their source (an ES module export), since closures cannot cross threads.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ModuleFactory, ModuleSource } from '../actors/runtime/actor-kind.js';
import type { ShardThreadCommand, ShardThreadData, ShardThreadReport } from './shard-thread.js';

// Run from TypeScript sources (through tsx), a thread starts in a small loader that registers tsx
// first; compiled, it starts in shard-thread.js directly.
const FROM_SOURCES = extname(fileURLToPath(import.meta.url)) === '.ts';
const THREAD_ENTRY = new URL(FROM_SOURCES ? './shard-thread.ts' : './shard-thread.js', import.meta.url);
const THREAD_START = FROM_SOURCES ? new URL('./typescript-thread.mjs', import.meta.url) : THREAD_ENTRY;

/** V8 flags do not size a worker's heap: give each thread the young generation the first one was
 *  started with (--max-semi-space-size; V8's young generation is three semi-spaces). Without it the
 *  threads scavenge several times as often (measured: a third more CPU per queued message). */
export function youngGenerationMb(): number | undefined {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const semiSpace = options.find((option) => option.startsWith('--max-semi-space-size='));
  return semiSpace ? 3 * Number(semiSpace.split('=')[1]) : undefined;
}

export class ShardThreads {
  private readonly exited = new Set<Worker>();
  private stopping = false;

  private constructor(private readonly workers: Worker[], private readonly log: Logger) {}

  /**
   * Starts `threads - 1` threads and resolves once each serves its shards. Returns them with the
   * first thread's port to each (by index) for `ShardHost.connect`. `onFailure` hears of a thread that
   * ends when nobody stopped it.
   */
  static async start(threads: number, modules: readonly ModuleFactory[], env: Readonly<Record<string, string | undefined>>, log: Logger,
    onFailure: (thread: number) => void): Promise<{ threads: ShardThreads; ports: Map<number, MessagePort> }> {
    const sources = modules.map((module, i): ModuleSource => {
      if (!module.source) throw new Error(`module ${i + 1} has no source, so it cannot run on ${threads} threads (see exportedModule)`);
      return module.source;
    });
    // ports[a][b]: thread a's end of the channel between a and b.
    const ports: Map<number, MessagePort>[] = Array.from({ length: threads }, () => new Map());
    for (let a = 0; a < threads; a++) {
      for (let b = a + 1; b < threads; b++) {
        const { port1, port2 } = new MessageChannel();
        ports[a]!.set(b, port1);
        ports[b]!.set(a, port2);
      }
    }
    const workers: Worker[] = [];
    const pool = new ShardThreads(workers, log);
    try {
      for (let index = 1; index < threads; index++) {
        const own = Object.fromEntries(ports[index]!);
        const data: ShardThreadData = { entry: THREAD_ENTRY.href, env: { ...env }, modules: sources, index, ports: own };
        const young = youngGenerationMb();
        const worker = new Worker(THREAD_START, {
          workerData: data, transferList: Object.values(own), ...(young ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {}),
        });
        workers.push(worker);
        worker.once('exit', () => pool.exited.add(worker));
        await pool.waitFor(worker, 'ready');
        // A thread that dies later leaves its shards unserved: calls to them fail UNAVAILABLE (its
        // ports close), /readyz reports the node unavailable, and onFailure decides what happens.
        worker.on('error', (error) => log.fatal({ thread: index, err: { type: error.name, message: error.message } }, 'node thread crashed'));
        worker.once('exit', (code) => {
          if (pool.stopping) return;
          log.fatal({ thread: index, code }, 'node thread ended; its shards are unserved');
          onFailure(index);
        });
      }
    } catch (error) {
      await pool.stop();
      throw error;
    }
    return { threads: pool, ports: ports[0]! };
  }

  /** Whether every thread is still running. */
  get running(): boolean {
    return this.exited.size === 0;
  }

  /** Active actors per kind on each running thread (a thread that does not answer within a second
   *  is left out). */
  async activeCounts(): Promise<Record<string, number>[]> {
    const answers = await Promise.all(this.liveWorkers().map(async (worker) => {
      const answer = this.waitFor(worker, 'active', 1000);
      command(worker, { type: 'active' });
      return answer.then((report) => report.counts, () => undefined);
    }));
    return answers.filter((counts) => counts !== undefined);
  }

  /** Drains and stops every thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.liveWorkers().map(async (worker) => {
      const stopped = this.waitFor(worker, 'stopped').catch((error: Error) => this.log.error({ err: { type: error.name, message: error.message } }, 'node thread did not stop cleanly'));
      command(worker, { type: 'stop' });
      await stopped;
      await worker.terminate();
    }));
  }

  private liveWorkers(): Worker[] {
    return this.workers.filter((worker) => !this.exited.has(worker));
  }

  /** The worker's next report of `type` (rejects if it fails, exits, or `timeoutMs` passes). */
  private waitFor<T extends ShardThreadReport['type']>(worker: Worker, type: T, timeoutMs = 0): Promise<Extract<ShardThreadReport, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => done(() => reject(new Error(`node thread sent no ${type} report`))), timeoutMs) : undefined;
      const onMessage = (report: ShardThreadReport): void => {
        if (report.type === type) done(() => resolve(report as Extract<ShardThreadReport, { type: T }>));
        else if (report.type === 'failed') done(() => reject(new Error(`node thread failed to start: ${report.message}`)));
      };
      const onError = (error: Error): void => done(() => reject(error));
      const onExit = (): void => done(() => reject(new Error('node thread exited')));
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        settle();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }
}

function command(worker: Worker, message: ShardThreadCommand): void {
  worker.postMessage(message);
}
