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

export class SpentTokens {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly orm: MikroORM, private readonly maxBatch = 500) {}

  /** Resolves true for the first redemption of this nonce under this key, false for every later one. */
  spend(keyIdHex: string, nonce: Uint8Array): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ keyIdHex, nonce: Buffer.from(nonce), resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
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
    let inserted: { token_key_id: string; nonce: Buffer }[];
    try {
      inserted = await this.orm.em.getConnection().execute(
        `insert into aas_spent_token (token_key_id, nonce) values ${rows.map(() => '(?, ?)').join(', ')} on conflict do nothing returning token_key_id, nonce`,
        rows.flatMap((row) => [row.keyIdHex, row.nonce]), 'all');
    } catch (error) {
      const failure = unavailable(`token redemption could not be recorded: ${(error as Error).message}`);
      for (const row of rows) row.reject(failure);
      return;
    }
    const first = new Set(inserted.map((row) => idOf(row.token_key_id, Buffer.from(row.nonce))));
    for (const [id, row] of unique) row.resolve(first.has(id));
  }
}
