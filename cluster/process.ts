// The node as an operating-system process: configuration errors exit 2 with every problem listed;
// SIGTERM/SIGINT stop gracefully and exit 0 (1 if the stop does not finish in time).
import type { ModuleFactory } from '../actors/runtime/actor-kind.js';
import { SettingsError } from '../actors/runtime/settings.js';
import { describeConfig, loadConfig, type NodeConfig } from './config.js';
import { createLogger } from './logger.js';
import { HomeserverNode } from './node.js';

export async function runNodeProcess(modules: readonly ModuleFactory[]): Promise<void> {
  let config: NodeConfig;
  try {
    config = loadConfig();
  } catch (error) {
    exitOnSettingsError(error);
    throw error;
  }
  const log = createLogger(config.logLevel);
  log.info({ config: describeConfig(config) }, config.embedded
    ? 'starting in embedded mode: in-process bus and SQLite (set NATS_URL and DATABASE_URL for a cluster)'
    : 'starting');
  let node: HomeserverNode;
  try {
    node = await HomeserverNode.start(config, {
      modules, log, env: process.env, processMetrics: true,
      // Half a node is worse than none: let the process manager restart the whole of it.
      onThreadFailure: () => process.exit(1),
    });
  } catch (error) {
    // Modules read their own settings while the node starts.
    exitOnSettingsError(error);
    log.fatal({ err: { type: (error as Error).name, message: (error as Error).message } }, 'node failed to start');
    process.exit(1);
  }
  log.info({ port: node.port, modules: node.moduleNames }, 'listening');

  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      log.error('graceful stop timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    node.stop().then(() => process.exit(0), (error: Error) => {
      log.error({ err: { type: error.name, message: error.message } }, 'stop failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** A configuration problem: every problem on stderr, exit code 2. */
function exitOnSettingsError(error: unknown): void {
  if (error instanceof SettingsError) {
    console.error(error.message);
    process.exit(2);
  }
}
