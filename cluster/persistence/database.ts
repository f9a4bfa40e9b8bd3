// Opens the database (PostgreSQL in production, SQLite for the embedded mode) through MikroORM and
// brings its schema up to date with the committed migrations.
import { MikroORM as PostgresOrm } from '@mikro-orm/postgresql';
import { MikroORM as SqliteOrm } from '@mikro-orm/better-sqlite';
import type { MikroORM } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ActorSnapshot } from '../../actors/runtime/snapshot-entity.js';
import { migrationsList } from './migrations/index.js';

/** Connections one thread's pool may hold open on PostgreSQL (DB_POOL_MAX). */
export const DEFAULT_POOL_MAX = 10;

export type DatabaseTarget =
  /** poolMax: DEFAULT_POOL_MAX when absent. */
  | { kind: 'postgresql'; url: string; poolMax?: number }
  | { kind: 'sqlite'; file: string };

export const entities = [ActorSnapshot];

/** The most connections a pool opened for `target` holds; undefined on SQLite (no pool). */
export function poolMaxOf(target: DatabaseTarget): number | undefined {
  return target.kind === 'postgresql' ? target.poolMax ?? DEFAULT_POOL_MAX : undefined;
}

export async function openDatabase(target: DatabaseTarget): Promise<MikroORM> {
  const common = {
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, snapshot: false, silent: true },
    // Queries carry user data; they are never logged.
    debug: false,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
  };
  let orm: MikroORM;
  if (target.kind === 'postgresql') {
    orm = await PostgresOrm.init({ ...common, clientUrl: target.url, pool: { min: 1, max: poolMaxOf(target)! } });
  } else {
    if (target.file !== ':memory:') mkdirSync(dirname(target.file), { recursive: true });
    orm = await SqliteOrm.init({ ...common, dbName: target.file });
    // WAL lets readers proceed during the single writer's commits.
    await orm.em.getConnection().execute('pragma journal_mode = wal');
  }
  await orm.getMigrator().up();
  return orm;
}

/** True when the database answers a trivial query. */
export async function databaseReachable(orm: MikroORM): Promise<boolean> {
  try {
    await orm.em.getConnection().execute('select 1');
    return true;
  } catch {
    return false;
  }
}
