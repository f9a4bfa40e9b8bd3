// The double-spend check: a token is accepted once, when its nonce is inserted into aas_spent_token
// (primary key: token key id + nonce). Concurrent redemptions are grouped into multi-row
// `insert ... on conflict do nothing` statements, so the database decides atomically which of them
// was first, and the gate costs one round trip per batch rather than per token.
import type { MikroORM } from '@mikro-orm/core';
import { badRequest, unavailable } from '../../protocol/errors.js';
import { pgConnections } from '../runtime/sql-session.js';

/** Token nonces are 32 bytes (RFC 9578 type 2; parseToken only yields tokens of that type). */
export const NONCE_BYTES = 32;

interface Pending {
  keyIdHex: string;
  nonce: Buffer;
  resolve(first: boolean): void;
  reject(error: unknown): void;
}

/** Inserts the nonces of one key (never the same nonce twice: the caller removes repeats, and the
 *  statements rely on that); returns, per nonce, whether this insert was its first. */
type NonceWriter = (keyIdHex: string, nonces: readonly Buffer[]) => Promise<boolean[]>;

/** Any dialect: a multi-row insert through MikroORM. */
function portableWriter(orm: MikroORM): NonceWriter {
  return async (keyIdHex, nonces) => {
    const rows = await orm.em.getConnection().execute<{ nonce: Uint8Array }[]>(
      `insert into aas_spent_token (token_key_id, nonce) values ${nonces.map(() => '(?, ?)').join(', ')} on conflict do nothing returning nonce`,
      nonces.flatMap((nonce) => [keyIdHex, nonce]), 'all');
    const inserted = new Set(rows.map((row: { nonce: Uint8Array }) => Buffer.from(row.nonce).toString('hex')));
    return nonces.map((nonce) => inserted.has(nonce.toString('hex')));
  };
}

/** A lone nonce: the row count is the answer. */
const INSERT_ONE = 'insert into aas_spent_token (token_key_id, nonce) values ($1, $2) on conflict do nothing';
/** A batch: the nonces travel as one binary parameter (their concatenation) and the reply names only
 *  the positions that were already there, which is usually none, so the driver has nothing to parse.
 *  (Sent as a bytea[] array and returned as rows, a batch of 64 cost ~4x the CPU in the driver.)
 *  Rows go in in nonce order: two statements (of two nodes) holding some of the same nonces then
 *  wait for each other in one direction only, where in arrival order they could deadlock. */
const INSERT_MANY = `with input as (
    select i, substring($2::bytea from i * ${NONCE_BYTES} + 1 for ${NONCE_BYTES}) as nonce
    from generate_series(0, length($2::bytea) / ${NONCE_BYTES} - 1) as i),
  inserted as (
    insert into aas_spent_token (token_key_id, nonce) select $1, nonce from input order by nonce
    on conflict do nothing returning nonce)
  select i from input where nonce not in (select nonce from inserted)`;

/** PostgreSQL: prepared statements straight on a pooled connection (nonces as binary parameters). */
function postgresWriter(orm: MikroORM): NonceWriter | undefined {
  const withConnection = pgConnections(orm);
  if (!withConnection) return undefined;
  return (keyIdHex, nonces) => withConnection(async (pg) => {
    if (nonces.length === 1) {
      const result = await pg.query({ name: 'aas-spend-token', text: INSERT_ONE, values: [keyIdHex, nonces[0]] });
      return [result.rowCount === 1];
    }
    const result = await pg.query({ name: 'aas-spend-tokens', text: INSERT_MANY, values: [keyIdHex, Buffer.concat(nonces)] });
    const first = new Array<boolean>(nonces.length).fill(true);
    for (const row of result.rows as { i: number }[]) first[row.i] = false;
    return first;
  });
}

export class SpentTokens {
  private queue: Pending[] = [];
  private flushing = false;
  private writer: NonceWriter | undefined;

  /** `lingerMs`: how long the first redemption waits for others to share its insert (0: those arriving
   *  in the same turn of the event loop, plus all that queue while an insert is in flight). */
  constructor(private readonly orm: MikroORM, private readonly lingerMs: number, private readonly maxBatch = 500) {}

  /** Resolves true for the first redemption of this nonce under this key, false for every later one. */
  spend(keyIdHex: string, nonce: Uint8Array): Promise<boolean> {
    // Checked here so that one odd nonce can never fail the batch it would have joined.
    if (nonce.length !== NONCE_BYTES) return Promise.reject(badRequest(`a token nonce is ${NONCE_BYTES} bytes`));
    return new Promise((resolve, reject) => {
      this.queue.push({ keyIdHex, nonce: Buffer.isBuffer(nonce) ? nonce : Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength), resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      if (this.lingerMs > 0) setTimeout(this.flush, this.lingerMs);
      else setImmediate(this.flush);
    });
  }

  /** One statement at a time; what queues meanwhile goes in the next one. (Measured: letting a second
   *  statement start while one is in flight only made batches smaller and cost more CPU per token.) */
  private readonly flush = async (): Promise<void> => {
    while (this.queue.length > 0) {
      let batch: Pending[];
      if (this.queue.length <= this.maxBatch) {
        batch = this.queue;
        this.queue = [];
      } else {
        batch = this.queue.slice(0, this.maxBatch);
        this.queue = this.queue.slice(this.maxBatch);
      }
      await this.insert(batch);
    }
    this.flushing = false;
  };

  private async insert(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.insertForKey(batch[0]!.keyIdHex, batch);
    // One statement per key (almost always one key; two around a rotation). The same nonce twice in
    // one batch goes to the database once and the later ones are refused: the statements must never
    // see a repeat, since both copies would come back as inserted.
    const byKey = new Map<string, Map<string, Pending>>();
    for (const pending of batch) {
      let unique = byKey.get(pending.keyIdHex);
      if (!unique) byKey.set(pending.keyIdHex, (unique = new Map()));
      const id = pending.nonce.toString('hex');
      if (unique.has(id)) pending.resolve(false);
      else unique.set(id, pending);
    }
    await Promise.all([...byKey].map(([keyIdHex, unique]) => this.insertForKey(keyIdHex, [...unique.values()])));
  }

  private async insertForKey(keyIdHex: string, rows: Pending[]): Promise<void> {
    let first: boolean[];
    try {
      this.writer ??= postgresWriter(this.orm) ?? portableWriter(this.orm);
      first = await this.writer(keyIdHex, rows.map((row) => row.nonce));
    } catch (error) {
      const failure = unavailable(`token redemption could not be recorded: ${(error as Error).message}`);
      for (const row of rows) row.reject(failure);
      return;
    }
    rows.forEach((row, i) => row.resolve(first[i]!));
  }
}
