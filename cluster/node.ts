// A homeserver node: opens the database and the bus, starts the actor runtime for the configured
// modules, serves their shards, and exposes the gateway with health and metrics endpoints.
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { ModuleFactory } from '../actors/runtime/actor-kind.js';
import { MethodTable } from '../actors/runtime/method-table.js';
import { ActorRuntime } from '../actors/runtime/runtime.js';
import { OrmSnapshotStore } from '../actors/runtime/snapshot-store.js';
import type { Bus, Subscription } from '../transport/bus.js';
import { ActorClient, serveModule } from '../transport/envelope.js';
import { Gateway } from '../transport/gateway.js';
import { LocalBus } from '../transport/local-bus.js';
import { NatsBus } from '../transport/nats-bus.js';
import type { NodeConfig } from './config.js';
import { NodeMetrics } from './metrics.js';
import { databaseReachable, openDatabase } from './persistence/database.js';

export interface NodeParts {
  modules: readonly ModuleFactory[];
  /** Module-specific settings (the process environment in production). */
  env?: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Process-wide metrics (event loop, memory); off when several nodes share a process. */
  processMetrics?: boolean;
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
    private readonly orm: MikroORM,
    private readonly store: OrmSnapshotStore,
    private readonly subscriptions: Subscription[],
    private readonly log: Logger,
  ) {}

  static async start(config: NodeConfig, parts: NodeParts): Promise<HomeserverNode> {
    const { log } = parts;
    const orm = await openDatabase(config.database);
    let bus: Bus;
    try {
      bus = config.natsUrl ? await NatsBus.connect(config.natsUrl, `hs-${config.domain}`) : new LocalBus();
    } catch (error) {
      await orm.close();
      throw error;
    }
    const actors = new ActorClient(bus, config.domain, config.shardCount, config.requestTimeoutMs);
    const deps = { domain: config.domain, actors, bus, orm, log, env: parts.env ?? {} };
    const modules = await Promise.all(parts.modules.map((build) => build(deps)));
    const methods = new MethodTable(modules);
    const gates = modules.filter((module) => module.gate);
    if (gates.length > 1) throw new Error(`only one module may gate requests; ${gates.map((module) => module.name).join(' and ')} both do`);
    const store = new OrmSnapshotStore(orm);
    const runtime = new ActorRuntime(methods, store, log, { idleMs: config.actorIdleMs });
    const metrics = new NodeMetrics(() => runtime.activeCounts(), parts.processMetrics ?? false);

    // One node owns every shard for now; the cluster work will hand out subsets under leases.
    const allShards = Array.from({ length: config.shardCount }, (_, shard) => shard);
    const subscriptions: Subscription[] = [];
    for (const module of modules) {
      subscriptions.push(...await serveModule(bus, config.domain, module.name, allShards, runtime.call.bind(runtime)));
    }

    const gateway = new Gateway({
      methods, actors, bus, log,
      ...(gates[0]?.gate ? { gate: gates[0].gate } : {}),
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      observe: (route, status, seconds) => metrics.observeRequest(route, status, seconds),
    });
    for (const module of modules) {
      for (const [name, authorize] of Object.entries(module.streams ?? {})) gateway.addStream(name, authorize);
    }
    gateway.app.get('/healthz', async () => ({ status: 'ok' }));
    gateway.app.get('/readyz', async (_request, reply) => {
      const [busMs, databaseUp] = await Promise.all([bus.ping().catch(() => undefined), databaseReachable(orm)]);
      if (busMs !== undefined) metrics.observeBusRoundTrip(busMs);
      const ready = busMs !== undefined && databaseUp;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', bus: busMs !== undefined, database: databaseUp });
    });
    gateway.app.get('/metrics', async (_request, reply) => {
      const busMs = await bus.ping().catch(() => undefined);
      if (busMs !== undefined) metrics.observeBusRoundTrip(busMs);
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    const port = await gateway.listen(config.host, config.port);
    return new HomeserverNode(config, modules.map((module) => module.name), port, bus, actors, runtime, gateway, orm, store, subscriptions, log);
  }

  /** Graceful stop: refuse new HTTP and bus work, finish what is in flight, flush snapshots,
   *  then close the bus and the database. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const steps: [string, () => Promise<unknown>][] = [
      ['gateway closed', () => this.gateway.close()],
      ['bus subjects released', () => Promise.all(this.subscriptions.map((subscription) => subscription.unsubscribe()))],
      ['actors drained', () => this.runtime.drain()],
      ['snapshots flushed', () => this.store.close()],
      ['bus closed', () => this.bus.close()],
      ['database closed', () => this.orm.close()],
    ];
    for (const [done, step] of steps) {
      await step();
      this.log.debug(done);
    }
    this.log.info('node stopped');
  }
}
