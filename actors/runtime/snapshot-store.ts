// Where actors keep their state between activations. Writes are conditional on the version the
// actor loaded (optimistic locking), so an actor that lost ownership cannot overwrite a newer state.
import type { MikroORM } from '@mikro-orm/core';
import type { SqlStatement } from './actor-kind.js';
import { conflict, unavailable, HsError } from '../../protocol/errors.js';

export interface Snapshot {
  version: number;
  data: Uint8Array;
}

export interface SnapshotStore {
  load(kind: string, key: string): Promise<Snapshot | undefined>;
  /** Writes `data` if the stored version is still `expectedVersion` (0: no row yet); returns the new
   *  version. `data === null` deletes the row. `records` run in the same transaction, after the
   *  snapshot write and only if it succeeded. Rejects with CONFLICT when fenced out. */
  save(kind: string, key: string, expectedVersion: number, data: Uint8Array | null, records?: SqlStatement[]): Promise<number>;
  close(): Promise<void>;
}

interface PendingWrite {
  kind: string;
  key: string;
  expectedVersion: number;
  data: Uint8Array | null;
  records: SqlStatement[];
  resolve(version: number): void;
  reject(error: unknown): void;
}

/**
 * MikroORM-backed store. Writes arriving while a transaction is in flight are grouped into the next
 * one (group commit): many actors share one commit, and each write is still acknowledged only once
 * its transaction is durable.
 */
export class OrmSnapshotStore implements SnapshotStore {
  private queue: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly orm: MikroORM, private readonly maxBatch = 500) {}

  async load(kind: string, key: string): Promise<Snapshot | undefined> {
    const rows = await this.orm.em.getConnection().execute<{ version: number; data: Buffer }[]>(
      'select version, data from actor_snapshot where kind = ? and key = ?', [kind, key]);
    const row = rows[0];
    return row ? { version: Number(row.version), data: new Uint8Array(row.data) } : undefined;
  }

  save(kind: string, key: string, expectedVersion: number, data: Uint8Array | null, records: SqlStatement[] = []): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, key, expectedVersion, data, records, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  async close(): Promise<void> {
    await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    // Yield once so writes issued in the same tick join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      await this.commit(batch);
    }
    this.flushing = undefined;
  }

  private async commit(batch: PendingWrite[]): Promise<void> {
    const outcomes: (number | HsError)[] = [];
    try {
      await this.orm.em.fork().transactional(async (em) => {
        const connection = em.getConnection();
        const ctx = em.getTransactionContext();
        const now = new Date();
        for (const write of batch) {
          const newVersion = write.expectedVersion + 1;
          let affected: number;
          if (write.data === null) {
            affected = await run(connection, 'delete from actor_snapshot where kind = ? and key = ? and version = ?',
              [write.kind, write.key, write.expectedVersion], ctx);
          } else if (write.expectedVersion === 0) {
            affected = await run(connection, 'insert into actor_snapshot (kind, key, version, data, updated_at) values (?, ?, ?, ?, ?) on conflict do nothing',
              [write.kind, write.key, newVersion, Buffer.from(write.data), now], ctx);
          } else {
            affected = await run(connection, 'update actor_snapshot set version = ?, data = ?, updated_at = ? where kind = ? and key = ? and version = ?',
              [newVersion, Buffer.from(write.data), now, write.kind, write.key, write.expectedVersion], ctx);
          }
          if (affected !== 1) {
            outcomes.push(conflict(`${write.kind} actor state changed concurrently (expected version ${write.expectedVersion})`));
            continue;
          }
          for (const record of write.records) await run(connection, record.sql, record.params, ctx);
          outcomes.push(newVersion);
        }
      });
    } catch (error) {
      const failure = unavailable(`snapshot write failed: ${(error as Error).message}`);
      for (const write of batch) write.reject(failure);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof HsError) write.reject(outcome);
      else write.resolve(outcome);
    });
  }
}

type Connection = ReturnType<MikroORM['em']['getConnection']>;

async function run(connection: Connection, sql: string, params: unknown[], ctx: unknown): Promise<number> {
  const result = await connection.execute<{ affectedRows: number }>(sql, params, 'run', ctx as never);
  return result.affectedRows;
}
