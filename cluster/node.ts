// A homeserver node: opens the database and the bus, starts the actor runtime for the configured
// modules, serves their shards, and exposes the gateway with health and metrics endpoints.
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
import { loadOperatorKey } from './operator-key.js';
import type { OperatorKey } from '../actors/runtime/operator-key.js';
import { databaseReachable, openDatabase } from './persistence/database.js';

export interface NodeParts {
  modules: readonly ModuleFactory[];
  /** Module-specific settings (the process environment in production). */
  env?: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Process-wide metrics (event loop, memory); off when several nodes share a process. */
  processMetrics?: boolean;
}

/** What a node has opened, closed in reverse order: on a graceful stop, and when starting fails
 *  half-way (so a failed start leaves no connection or timer behind). */
class Teardown {
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
    const orm = await openDatabase(config.database);
    teardown.add('database closed', () => orm.close());
    const bus: Bus = config.natsUrl ? await NatsBus.connect(config.natsUrl, `hs-${config.domain}`) : new LocalBus();
    teardown.add('bus closed', () => bus.close());
    const actors = new ActorClient(bus, config.domain, config.shardCount, config.requestTimeoutMs);
    const env = parts.env ?? {};
    let operatorKey: OperatorKey | undefined;
    const deps = { domain: config.domain, actors, bus, orm, log, env, operatorKey: () => (operatorKey ??= loadOperatorKey(env, log)) };
    const modules = await Promise.all(parts.modules.map((build) => build(deps)));
    const methods = new MethodTable(modules);
    const gates = modules.filter((module) => module.gate);
    if (gates.length > 1) throw new Error(`only one module may gate requests; ${gates.map((module) => module.name).join(' and ')} both do`);
    const store = new OrmSnapshotStore(orm);
    teardown.add('snapshots flushed', () => store.close());
    const runtime = new ActorRuntime(methods, store, log, { idleMs: config.actorIdleMs });
    teardown.add('actors drained', () => runtime.drain());
    const metrics = new NodeMetrics(() => runtime.activeCounts(), parts.processMetrics ?? false);

    // One node owns every shard for now; the cluster work will hand out subsets under leases.
    const allShards = Array.from({ length: config.shardCount }, (_, shard) => shard);
    const subscriptions: Subscription[] = [];
    teardown.add('bus subjects released', () => Promise.all(subscriptions.map((subscription) => subscription.unsubscribe())));
    const serve = runtime.call.bind(runtime);
    for (const module of modules) {
      subscriptions.push(...await serveModule(bus, config.domain, module.name, allShards, serve));
      if (config.localDispatch) actors.serveLocally(module.name, serve);
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
      const ready = busMs !== undefined && databaseUp;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', bus: busMs !== undefined, database: databaseUp });
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
