// A homeserver node: opens the database and the bus, starts the actor runtime for the configured
// modules, serves their shards, and exposes the gateway with health and metrics endpoints.
import type { Logger } from 'pino';
import type { ModuleFactory } from '../actors/runtime/actor-kind.js';
import type { ActorRuntime } from '../actors/runtime/runtime.js';
import type { Bus } from '../transport/bus.js';
import type { ActorClient } from '../transport/envelope.js';
import { Gateway } from '../transport/gateway.js';
import type { NodeConfig } from './config.js';
import { NodeMetrics } from './metrics.js';
import { databaseReachable } from './persistence/database.js';
import { warnOfConnectionBudget } from './persistence/connection-budget.js';
import { ShardHost } from './shard-host.js';
import { ShardThreads } from './shard-threads.js';
import { Teardown } from './teardown.js';

export interface NodeParts {
  modules: readonly ModuleFactory[];
  /** Module-specific settings (the process environment in production). */
  env?: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Process-wide metrics (event loop, memory); off when several nodes share a process. */
  processMetrics?: boolean;
  /** Called when one of the node's threads ends unexpectedly (its shards are then unserved). The
   *  process runner exits, as a single-threaded node would have on the same crash; by default the node
   *  stays up and reports itself not ready. */
  onThreadFailure?: () => void;
}

export class HomeserverNode {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: NodeConfig,
    readonly moduleNames: string[],
    readonly port: number,
    readonly bus: Bus,
    readonly actors: ActorClient,
    readonly runtime: ActorRuntime,
    readonly gateway: Gateway,
    private readonly teardown: Teardown,
    private readonly log: Logger,
  ) {}

  static async start(config: NodeConfig, parts: NodeParts): Promise<HomeserverNode> {
    const teardown = new Teardown();
    try {
      return await HomeserverNode.open(config, parts, teardown);
    } catch (error) {
      await teardown.runQuietly();
      throw error;
    }
  }

  private static async open(config: NodeConfig, parts: NodeParts, teardown: Teardown): Promise<HomeserverNode> {
    const { log } = parts;
    const env = parts.env ?? {};
    const host = await ShardHost.open({ config, modules: parts.modules, env, log, threadIndex: 0 }, teardown);
    const { modules, methods, runtime, actors, bus, orm } = host;
    await warnOfConnectionBudget(orm, config.database, config.threads, log);
    const gates = modules.filter((module) => module.gate);
    if (gates.length > 1) throw new Error(`only one module may gate requests; ${gates.map((module) => module.name).join(' and ')} both do`);
    let threads: ShardThreads | undefined;
    const metrics = new NodeMetrics(async () => sumCounts([runtime.activeCounts(), ...(await threads?.activeCounts() ?? [])]), parts.processMetrics ?? false);
    // The other threads start once this one has built the modules (which create any missing server
    // keys), so they only ever load them.
    if (config.threads > 1) {
      const started = await ShardThreads.start(config.threads, parts.modules, env, log, () => parts.onThreadFailure?.());
      threads = started.threads;
      teardown.add('node threads stopped', () => started.threads.stop());
      for (const [index, port] of started.ports) host.connect(index, port);
    }

    const gateway = new Gateway({
      methods, actors, bus, log,
      ...(gates[0]?.gate ? { gate: gates[0].gate } : {}),
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      observe: (route, status, seconds) => metrics.observeRequest(route, status, seconds),
    });
    teardown.add('gateway closed', () => gateway.close());
    for (const module of modules) {
      for (const [name, authorize] of Object.entries(module.streams ?? {})) gateway.addStream(name, authorize);
    }
    gateway.app.get('/healthz', async () => ({ status: 'ok' }));
    gateway.app.get('/readyz', async (_request, reply) => {
      const [busMs, databaseUp] = await Promise.all([bus.ping().catch(() => undefined), databaseReachable(orm)]);
      if (busMs !== undefined) metrics.observeBusRoundTrip(busMs);
      const threadsUp = (threads?.running ?? true) && host.linksOpen;
      const ready = busMs !== undefined && databaseUp && threadsUp;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', bus: busMs !== undefined, database: databaseUp, threads: threadsUp });
    });
    gateway.app.get('/metrics', async (_request, reply) => {
      const busMs = await bus.ping().catch(() => undefined);
      if (busMs !== undefined) metrics.observeBusRoundTrip(busMs);
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    const port = await gateway.listen(config.host, config.port);
    return new HomeserverNode(config, modules.map((module) => module.name), port, bus, actors, runtime, gateway, teardown, log);
  }

  /** Graceful stop: refuse new HTTP and bus work, finish what is in flight, flush snapshots,
   *  then close the bus and the database. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.teardown.run(this.log).then(() => this.log.info('node stopped'));
    return this.stopping;
  }
}

/** Per-kind counts of several threads, added up. */
function sumCounts(perThread: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const counts of perThread) for (const [kind, count] of Object.entries(counts)) total[kind] = (total[kind] ?? 0) + count;
  return total;
}
