// Entry point of a node's extra threads (worker_threads). Each builds the node's modules from their
// sources, serves the shards it owns, and answers the first thread: 'ready' once it serves, 'stopped'
// once a 'stop' has drained it, its active actors when asked; a failed start is reported with its
// message and ends the thread.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ModuleFactory, ModuleSource } from '../actors/runtime/actor-kind.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { ShardHost } from './shard-host.js';
import { Teardown } from './teardown.js';

export interface ShardThreadData {
  /** This module's URL (the loader in typescript-thread.mjs imports it). */
  entry: string;
  env: Record<string, string | undefined>;
  modules: ModuleSource[];
  index: number;
  /** A port to every other thread of the node, by that thread's index. */
  ports: Record<number, MessagePort>;
}

export type ShardThreadReport =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'stopped' }
  | { type: 'active'; counts: Record<string, number> };

/** What the first thread asks: drain and stop, or the active actors per kind (for /metrics). */
export type ShardThreadCommand = { type: 'stop' } | { type: 'active' };

async function importModule(source: ModuleSource): Promise<ModuleFactory> {
  const factory = ((await import(source.url)) as Record<string, unknown>)[source.exportName];
  if (typeof factory !== 'function') throw new Error(`${source.url} has no module factory ${source.exportName}`);
  return factory as ModuleFactory;
}

async function run(data: ShardThreadData, port: MessagePort): Promise<void> {
  const report = (message: ShardThreadReport): void => port.postMessage(message);
  const config = loadConfig(data.env);
  const log = createLogger(config.logLevel).child({ thread: data.index });
  const teardown = new Teardown();
  let host: ShardHost;
  try {
    const modules = await Promise.all(data.modules.map(importModule));
    host = await ShardHost.open({ config, modules, env: data.env, log, threadIndex: data.index }, teardown);
    for (const [index, link] of Object.entries(data.ports)) host.connect(Number(index), link);
  } catch (error) {
    await teardown.runQuietly();
    report({ type: 'failed', message: (error as Error).message });
    port.close();
    return;
  }
  port.on('message', (command: ShardThreadCommand) => {
    if (command.type === 'active') {
      report({ type: 'active', counts: host.runtime.activeCounts() });
      return;
    }
    teardown.run(log).then(() => report({ type: 'stopped' }), (error: Error) => {
      log.error({ err: { type: error.name, message: error.message } }, 'thread stop failed');
      report({ type: 'stopped' });
    }).finally(() => port.close());
  });
  report({ type: 'ready' });
}

if (parentPort) await run(workerData as ShardThreadData, parentPort);
