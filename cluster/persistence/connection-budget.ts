// Whether a node's connection pools fit what its PostgreSQL server admits. Each thread keeps its own
// pool, so NODE_THREADS=auto on a large machine can ask for more connections than the server's
// default max_connections (100) allows; the server then refuses some under load, far from the cause.
// Checked once at start and logged, not refused: other clients share the limit, and the pools only
// grow to their maximum under load.
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { pgConnections } from '../../actors/runtime/sql-session.js';
import { poolMaxOf, type DatabaseTarget } from './database.js';

/** The connections the server admits for ordinary roles: max_connections less those it keeps for
 *  superusers. Undefined on SQLite. */
export async function serverConnectionLimit(orm: MikroORM): Promise<number | undefined> {
  const connections = pgConnections(orm);
  if (!connections) return undefined;
  const { rows } = await connections((client) => client.query({
    text: "select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int as admitted",
  }));
  return (rows[0] as { admitted: number } | undefined)?.admitted;
}

/** What to tell the operator when `threads` pools of `poolMax` connections exceed `admitted`;
 *  undefined when they fit (or the limit is unknown). */
export function connectionBudgetWarning(threads: number, poolMax: number, admitted: number | undefined): string | undefined {
  const wanted = threads * poolMax;
  if (admitted === undefined || wanted <= admitted) return undefined;
  return `this node may open ${wanted} PostgreSQL connections (NODE_THREADS ${threads} x DB_POOL_MAX ${poolMax}) but the server admits ${admitted}: ` +
    'under load some will be refused; lower DB_POOL_MAX or NODE_THREADS, or raise max_connections';
}

/** Logs connectionBudgetWarning for a node of `threads` threads, each with a pool opened for
 *  `target` (nothing on SQLite). */
export async function warnOfConnectionBudget(orm: MikroORM, target: DatabaseTarget, threads: number, log: Logger): Promise<void> {
  const poolMax = poolMaxOf(target);
  if (poolMax === undefined) return;
  const warning = connectionBudgetWarning(threads, poolMax, await serverConnectionLimit(orm));
  if (warning) log.warn(warning);
}
