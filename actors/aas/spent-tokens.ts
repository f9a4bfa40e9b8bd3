// The double-spend check: a token is accepted once, when its nonce is inserted into aas_spent_token
// (primary key: token key id + nonce). Concurrent redemptions are grouped into one multi-row
// `insert ... on conflict do nothing returning`, so the database decides atomically which of them was
// first, and the gate costs one round trip per batch rather than per token.
import type { MikroORM } from '@mikro-orm/core';
import { unavailable } from '../../protocol/errors.js';

interface Pending {
  keyIdHex: string;
  nonce: Buffer;
  resolve(first: boolean): void;
  reject(error: unknown): void;
}

const idOf = (keyIdHex: string, nonce: Buffer): string => `${keyIdHex}:${nonce.toString('hex')}`;

interface InsertedRow {
  token_key_id: string;
  nonce: Buffer;
}

type NonceWriter = (rows: readonly Pending[]) => Promise<InsertedRow[]>;

/** The parts of knex's PostgreSQL client used for the fast path (MikroORM does not type them). */
interface PgKnex {
  client: {
    dialect: string;
    acquireConnection(): Promise<{ query(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: InsertedRow[] }> }>;
    releaseConnection(connection: unknown): Promise<void>;
  };
}

/** Any dialect: a multi-row insert through MikroORM. */
function portableWriter(orm: MikroORM): NonceWriter {
  return (rows) => orm.em.getConnection().execute<InsertedRow[]>(
    `insert into aas_spent_token (token_key_id, nonce) values ${rows.map(() => '(?, ?)').join(', ')} on conflict do nothing returning token_key_id, nonce`,
    rows.flatMap((row) => [row.keyIdHex, row.nonce]), 'all');
}

/** PostgreSQL: one prepared statement for any batch size (arrays through unnest), straight on a pooled
 *  connection. Measured here it costs about half the CPU of the portable path per statement, which is
 *  most of the gate's cost when redemptions arrive one by one. */
function postgresWriter(orm: MikroORM): NonceWriter | undefined {
  const connection = orm.em.getConnection() as unknown as { getKnex?: () => PgKnex };
  const knex = connection.getKnex?.();
  if (knex?.client.dialect !== 'postgresql') return undefined;
  return async (rows) => {
    const pg = await knex.client.acquireConnection();
    try {
      const result = await pg.query({
        name: 'aas-spend-tokens',
        text: 'insert into aas_spent_token (token_key_id, nonce) select * from unnest($1::text[], $2::bytea[]) on conflict do nothing returning token_key_id, nonce',
        values: [rows.map((row) => row.keyIdHex), rows.map((row) => row.nonce)],
      });
      return result.rows;
    } finally {
      await knex.client.releaseConnection(pg);
    }
  };
}

export class SpentTokens {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private writer: NonceWriter | undefined;

  /** `lingerMs`: how long the first redemption waits for others to share its insert. A statement costs
   *  far more CPU than a row (driver, query builder, commit: ~0.5-1 ms here), so batching is what keeps
   *  the gate cheap; a few milliseconds are small next to a request's round trip. */
  constructor(private readonly orm: MikroORM, private readonly lingerMs: number, private readonly maxBatch = 500) {}

  /** Resolves true for the first redemption of this nonce under this key, false for every later one. */
  spend(keyIdHex: string, nonce: Uint8Array): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ keyIdHex, nonce: Buffer.from(nonce), resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    await new Promise((resolve) => (this.lingerMs > 0 ? setTimeout(resolve, this.lingerMs) : setImmediate(resolve)));
    while (this.queue.length > 0) await this.insert(this.queue.splice(0, this.maxBatch));
    this.flushing = undefined;
  }

  private async insert(batch: Pending[]): Promise<void> {
    // The same nonce twice in one batch: only the first goes to the database.
    const unique = new Map<string, Pending>();
    const repeats: Pending[] = [];
    for (const pending of batch) {
      const id = idOf(pending.keyIdHex, pending.nonce);
      if (unique.has(id)) repeats.push(pending);
      else unique.set(id, pending);
    }
    for (const repeat of repeats) repeat.resolve(false);
    const rows = [...unique.values()];
    let inserted: InsertedRow[];
    try {
      this.writer ??= postgresWriter(this.orm) ?? portableWriter(this.orm);
      inserted = await this.writer(rows);
    } catch (error) {
      const failure = unavailable(`token redemption could not be recorded: ${(error as Error).message}`);
      for (const row of rows) row.reject(failure);
      return;
    }
    const first = new Set(inserted.map((row) => idOf(row.token_key_id, Buffer.from(row.nonce))));
    for (const [id, row] of unique) row.resolve(first.has(id));
  }
}
