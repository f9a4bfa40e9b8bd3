// The double-spend record on its own, on PostgreSQL (the batched statements) and SQLite (the portable
// path): which redemption of a nonce is first, within one batch, across batches and across nodes.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import { NONCE_BYTES, SpentTokens } from '../../actors/aas/spent-tokens.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const KEY_A = 'aa'.repeat(32);
const KEY_B = 'bb'.repeat(32);
const nonce = (): Uint8Array => new Uint8Array(randomBytes(NONCE_BYTES));

let database: TestDatabase;
let postgres: MikroORM;
let sqlite: MikroORM;

test.before(async () => {
  database = await createTestDatabase();
  postgres = await openDatabase({ kind: 'postgresql', url: database.url });
  sqlite = await openDatabase({ kind: 'sqlite', file: ':memory:' });
});
test.after.always(async () => {
  await postgres?.close();
  await sqlite?.close();
  await database?.drop();
});

const rowsOf = async (orm: MikroORM, keyIdHex: string): Promise<number> => Number((await orm.em.fork().getConnection().execute<{ n: string | number }[]>(
  'select count(*) as n from aas_spent_token where token_key_id = ?', [keyIdHex]))[0]!.n);

for (const [name, orm] of [['postgresql', () => postgres], ['sqlite', () => sqlite]] as const) {
  test.serial(`${name}: one batch with new, repeated and already spent nonces under two keys`, async (t) => {
    const spent = new SpentTokens(orm(), 0);
    const [old, fresh, repeated, shared] = [nonce(), nonce(), nonce(), nonce()];
    const before = { a: await rowsOf(orm(), KEY_A), b: await rowsOf(orm(), KEY_B) };
    t.true(await spent.spend(KEY_A, old), 'a lone redemption (the single-row statement)');
    t.false(await spent.spend(KEY_A, old), 'and its replay');
    // All of these join one batch (same turn of the event loop).
    const results = await Promise.all([
      spent.spend(KEY_A, old), spent.spend(KEY_A, fresh), spent.spend(KEY_A, repeated), spent.spend(KEY_A, repeated),
      spent.spend(KEY_A, shared), spent.spend(KEY_B, shared), spent.spend(KEY_B, Uint8Array.from(shared)), spent.spend(KEY_A, Uint8Array.from(repeated)),
    ]);
    t.deepEqual(results, [false, true, true, false, true, true, false, false]);
    t.is(await rowsOf(orm(), KEY_A), before.a + 4);
    t.is(await rowsOf(orm(), KEY_B), before.b + 1);
    // Only the nonces that had been spent are refused in a batch of otherwise new ones.
    const next = Array.from({ length: 50 }, nonce);
    const mixed = await Promise.all([...next.map((n) => spent.spend(KEY_A, n)), spent.spend(KEY_A, fresh), spent.spend(KEY_B, shared)]);
    t.deepEqual(mixed, [...next.map(() => true), false, false]);
  });

  test.serial(`${name}: a nonce of the wrong length is refused on its own and fails no batch`, async (t) => {
    const spent = new SpentTokens(orm(), 0);
    const [good, refused] = await Promise.allSettled([spent.spend(KEY_A, nonce()), spent.spend(KEY_A, new Uint8Array(31))]);
    t.deepEqual(good, { status: 'fulfilled', value: true });
    t.is(refused.status, 'rejected');
    t.true((refused as PromiseRejectedResult).reason instanceof HsError);
    t.is(((refused as PromiseRejectedResult).reason as HsError).code, ErrorCode.BAD_REQUEST);
  });
}

test.serial('postgresql: nodes redeeming the same nonces at once (in opposite orders) each win exactly once, none fails', async (t) => {
  const orms = [postgres, await openDatabase({ kind: 'postgresql', url: database.url }), await openDatabase({ kind: 'postgresql', url: database.url })];
  try {
    const nodes = orms.map((orm) => new SpentTokens(orm, 0));
    // Without a fixed lock order in the statement, such overlapping batches deadlock now and then.
    for (let round = 0; round < 8; round++) {
      const nonces = Array.from({ length: 300 }, nonce);
      const results = await Promise.all(nodes.map(async (node, i) => {
        const order = i % 2 === 0 ? nonces : [...nonces].reverse();
        // One batch per node, so the nodes' statements overlap in the database with the same rows.
        const answers = await Promise.all(order.map((n) => node.spend(KEY_B, n)));
        return i % 2 === 0 ? answers : answers.reverse();
      }));
      const winners = nonces.map((_, n) => results.filter((answers) => answers[n]).length);
      t.true(winners.every((count) => count === 1), `round ${round}: every nonce won exactly once`);
    }
  } finally {
    await Promise.all(orms.slice(1).map((orm) => orm.close()));
  }
});
