// What every thread of a node runs: its own database pool, bus connection, actor runtime and module
// instances, serving the shards the thread owns (over the bus, and directly to callers in the same
// node). Calls for shards another thread owns go to it over a ThreadLink.
import type { MikroORM } from '@mikro-orm/core';
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ModuleDefinition, ModuleFactory } from '../actors/runtime/actor-kind.js';
import { MethodTable } from '../actors/runtime/method-table.js';
import type { OperatorKey } from '../actors/runtime/operator-key.js';
import { ActorRuntime } from '../actors/runtime/runtime.js';
import { OrmSnapshotStore } from '../actors/runtime/snapshot-store.js';
import { asHsError, notFound, unavailable, type HsError } from '../protocol/errors.js';
import { encodeMessage } from '../schemas/index.js';
import type { Bus, Subscription } from '../transport/bus.js';
import { ActorClient, serveModule, type EnvelopeHandler, type TypedHandler } from '../transport/envelope.js';
import { LocalBus } from '../transport/local-bus.js';
import { NatsBus } from '../transport/nats-bus.js';
import { shardOf } from '../transport/subjects.js';
import { ThreadLink } from '../transport/thread-link.js';
import type { NodeConfig } from './config.js';
import { loadOperatorKey } from './operator-key.js';
import { openDatabase } from './persistence/database.js';
import type { Teardown } from './teardown.js';

export interface ShardHostOptions {
  config: NodeConfig;
  modules: readonly ModuleFactory[];
  /** Module-specific settings (the process environment in production). */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** This thread's index among the node's `config.threads` threads. */
  threadIndex: number;
}

/** The thread that owns a shard: its number modulo the thread count. */
export const threadOfShard = (shard: number, threads: number): number => shard % threads;

function shardsOfThread(shardCount: number, threads: number, index: number): number[] {
  return Array.from({ length: shardCount }, (_, shard) => shard).filter((shard) => threadOfShard(shard, threads) === index);
}

export class ShardHost {
  private constructor(
    readonly orm: MikroORM,
    readonly bus: Bus,
    readonly actors: ActorClient,
    readonly modules: readonly ModuleDefinition[],
    readonly methods: MethodTable,
    readonly runtime: ActorRuntime,
    private readonly config: NodeConfig,
    private readonly threadIndex: number,
    /** The other threads of the node, by index (none for a single-threaded node). */
    private readonly links: Map<number, ThreadLink>,
    /** This thread's own actors. */
    private readonly serveOwn: EnvelopeHandler = runtime.call.bind(runtime),
  ) {}

  /** Opens everything; each step registers its undoing with `teardown`. */
  static async open(options: ShardHostOptions, teardown: Teardown): Promise<ShardHost> {
    const { config, log, threadIndex } = options;
    const orm = await openDatabase(config.database);
    teardown.add('database closed', () => orm.close());
    const bus: Bus = config.natsUrl ? await NatsBus.connect(config.natsUrl, `hs-${config.domain}`) : new LocalBus();
    teardown.add('bus closed', () => bus.close());
    const actors = new ActorClient(bus, config.domain, config.shardCount, config.requestTimeoutMs);
    // Closed only after the actors have drained: their last calls may still cross threads.
    const links = new Map<number, ThreadLink>();
    teardown.add('thread links closed', async () => links.forEach((link) => link.close()));
    let operatorKey: OperatorKey | undefined;
    const env = options.env;
    const deps = { domain: config.domain, actors, bus, orm, log, env, operatorKey: () => (operatorKey ??= loadOperatorKey(env, log)) };
    const modules = await Promise.all(options.modules.map((build) => build(deps)));
    const methods = new MethodTable(modules);
    const store = new OrmSnapshotStore(orm, { lanes: config.commitLanes });
    teardown.add('snapshots flushed', () => store.close());
    const runtime = new ActorRuntime(methods, store, log, { idleMs: config.actorIdleMs });
    teardown.add('actors drained', () => runtime.drain());
    const host = new ShardHost(orm, bus, actors, modules, methods, runtime, config, threadIndex, links);

    const subscriptions: Subscription[] = [];
    teardown.add('bus subjects released', () => Promise.all(subscriptions.map((subscription) => subscription.unsubscribe())));
    const ownShards = shardsOfThread(config.shardCount, config.threads, threadIndex);
    const route = host.router();
    const routeTyped = host.typedRouter();
    const placement = { threadOf: (key: string): number => host.threadOfKey(key), thread: threadIndex };
    for (const module of modules) {
      subscriptions.push(...await serveModule(bus, config.domain, module.name, ownShards, host.serveOwn));
      if (config.localDispatch) actors.serveLocally(module.name, route, routeTyped, placement);
    }
    return host;
  }

  /** Connects this thread to thread `index` of the same node; calls for its shards go there. */
  connect(index: number, port: MessagePort): void {
    this.links.set(index, new ThreadLink(port, this.serveOwn));
  }

  /** Whether every other thread of the node still answers. */
  get linksOpen(): boolean {
    return [...this.links.values()].every((link) => link.open);
  }

  /** Calls for this thread's shards go to its own actors; others to the thread that owns them. */
  private router(): EnvelopeHandler {
    if (this.config.threads === 1) return this.serveOwn;
    return (module, key, method, body, deadline) => {
      const link = this.linkFor(key);
      if (link === 'own') return this.serveOwn(module, key, method, body, deadline);
      return link ? link.call(module, key, method, body, deadline) : Promise.reject(this.unlinked(key));
    };
  }

  /** Typed calls (ActorClient.callTyped and sendTyped): this thread's actors take them as they are,
   *  another thread's encoded (objects do not cross threads). */
  private typedRouter(): TypedHandler {
    const own: TypedHandler = (module, key, method, request, deadline, answer, fail) => this.runtime.sendTyped(module, key, method, request, deadline, answer, fail);
    if (this.config.threads === 1) return own;
    // Calls to this thread's own actors go straight through, without a promise.
    return (module, key, method, request, deadline, answer, fail) => {
      const link = this.linkFor(key);
      if (link === 'own') own(module, key, method, request, deadline, answer, fail);
      else this.callOtherThread(link, module, key, method, request, deadline).then(answer, (error: unknown) => fail(asHsError(error)));
    };
  }

  /** A typed call for another thread's actor, encoded there and back. */
  private async callOtherThread(link: ThreadLink | undefined, module: string, key: string, method: string, request: unknown, deadline: number): Promise<unknown> {
    if (!link) throw this.unlinked(key);
    const resolved = this.methods.resolve(module, method);
    if (!resolved) throw notFound(`unknown method ${module}/${method}`);
    const reply = await link.call(module, key, method, encodeMessage(resolved.method.request, request), deadline);
    return resolved.method.response.decode(reply);
  }

  /** The thread of this node that serves the actor for `key`. */
  private threadOfKey(key: string): number {
    return threadOfShard(shardOf(key, this.config.shardCount), this.config.threads);
  }

  /** Where the actor for `key` lives: this thread, or the link to the thread that owns its shard. */
  private linkFor(key: string): ThreadLink | 'own' | undefined {
    const owner = this.threadOfKey(key);
    return owner === this.threadIndex ? 'own' : this.links.get(owner);
  }

  private unlinked(key: string): HsError {
    return unavailable(`thread ${this.threadOfKey(key)} of this node is not connected`);
  }
}
