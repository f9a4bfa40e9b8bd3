// The snapshot store on PostgreSQL and SQLite: version fencing, group commit with collapsed chains,
// deletes, records written only with the state they belong to, journal writes (records alone), and
// commit lanes that do not wait for each other.
import test from 'ava';
import type { MikroORM } from '@mikro-orm/core';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { laneOf, OrmSnapshotStore, type SnapshotStoreOptions } from '../../actors/runtime/snapshot-store.js';
import { openDatabase, type DatabaseTarget } from '../../cluster/persistence/database.js';
import { createTestEnvironment, type Backend } from '../helpers/node.js';
import { join } from 'node:path';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

for (const backend of ['nats-postgres', 'embedded'] as Backend[]) {
  const database = backend === 'nats-postgres' ? 'postgresql' : 'sqlite';

  // Tests of what one batch does pin one lane: with several, writes of different actors may go into
  // different transactions.
  const withStore = async (work: (store: OrmSnapshotStore, orm: MikroORM) => Promise<void>, options: SnapshotStoreOptions = { lanes: 1 }): Promise<void> => {
    const environment = await createTestEnvironment(backend);
    const target: DatabaseTarget = environment.env.DATABASE_URL
      ? { kind: 'postgresql', url: environment.env.DATABASE_URL }
      : { kind: 'sqlite', file: join(environment.env.DATA_DIR!, 'store.sqlite') };
    const orm = await openDatabase(target);
    try {
      // A scratch table for records, as a module's migration would create.
      await orm.em.getConnection().execute('create table store_test_record (owner varchar(20) not null, n integer not null)');
      await work(new OrmSnapshotStore(orm, options), orm);
    } finally {
      await orm.close();
      await environment.cleanup();
    }
  };

  const recordsOf = async (orm: MikroORM, owner: string): Promise<number[]> =>
    (await orm.em.getConnection().execute<{ n: number }[]>('select n from store_test_record where owner = ? order by n', [owner])).map((row: { n: number }) => Number(row.n));

  test(`${database}: writes are fenced by version`, async (t) => {
    await withStore(async (store) => {
      t.is(await store.save('k', 'a', 0, bytes(1)), 1);
      t.is(await store.save('k', 'a', 1, bytes(2)), 2);
      const stale = await t.throwsAsync(store.save('k', 'a', 1, bytes(9)), { instanceOf: HsError });
      t.is(stale?.code, ErrorCode.CONFLICT);
      const duplicate = await t.throwsAsync(store.save('k', 'a', 0, bytes(9)), { instanceOf: HsError });
      t.is(duplicate?.code, ErrorCode.CONFLICT);
      t.deepEqual(await store.load('k', 'a'), { version: 2, data: bytes(2) });
    });
  });

  test(`${database}: a chain of writes in one batch commits as one, with every record`, async (t) => {
    await withStore(async (store, orm) => {
      const versions = await Promise.all(Array.from({ length: 300 }, (_, i) =>
        store.save('k', 'chain', i, bytes(i % 256), [{ insertInto: 'store_test_record', values: { owner: 'chain', n: i } }])));
      t.deepEqual(versions, Array.from({ length: 300 }, (_, i) => i + 1));
      t.deepEqual(await store.load('k', 'chain'), { version: 300, data: bytes(299 % 256) });
      t.deepEqual(await recordsOf(orm, 'chain'), Array.from({ length: 300 }, (_, i) => i));
    });
  });

  test(`${database}: a refused write takes its records with it, the others in the batch commit`, async (t) => {
    await withStore(async (store, orm) => {
      await store.save('k', 'taken', 0, bytes(1));
      const results = await Promise.allSettled([
        store.save('k', 'taken', 0, bytes(2), [{ sql: 'insert into store_test_record (owner, n) values (?, ?)', params: ['taken', 1] }]),
        store.save('k', 'free', 0, bytes(3), [{ insertInto: 'store_test_record', values: { owner: 'free', n: 7 } }]),
        store.save('k', 'other', 0, bytes(4)),
      ]);
      t.deepEqual(results.map((result) => result.status), ['rejected', 'fulfilled', 'fulfilled']);
      t.deepEqual(await recordsOf(orm, 'taken'), []);
      t.deepEqual(await recordsOf(orm, 'free'), [7]);
      t.deepEqual(await store.load('k', 'taken'), { version: 1, data: bytes(1) });
    });
  });

  test(`${database}: a delete and a re-creation in the same batch apply in order`, async (t) => {
    await withStore(async (store) => {
      await store.save('k', 'phoenix', 0, bytes(1));
      const [deleted, created, updated] = await Promise.all([
        store.save('k', 'phoenix', 1, null),
        store.save('k', 'phoenix', 0, bytes(5)),
        store.save('k', 'phoenix', 1, bytes(6)),
      ]);
      t.deepEqual([deleted, created, updated], [2, 1, 2]);
      t.deepEqual(await store.load('k', 'phoenix'), { version: 2, data: bytes(6) });
      await store.save('k', 'phoenix', 2, null);
      t.is(await store.load('k', 'phoenix'), undefined);
    });
  });

  test(`${database}: journal writes add records in order with the actor's snapshot writes and leave the version`, async (t) => {
    await withStore(async (store, orm) => {
      await store.save('k', 'log', 0, bytes(1));
      const record = (n: number) => [{ insertInto: 'store_test_record', values: { owner: 'log', n } }];
      const valid = () => true;
      // One batch: journal, journal, snapshot write (continuing the same version), journal after it.
      const versions = await Promise.all([
        store.append('k', 'log', 1, record(1), valid),
        store.append('k', 'log', 1, record(2), valid),
        store.save('k', 'log', 1, bytes(2), [{ sql: 'delete from store_test_record where owner = ? and n < ?', params: ['log', 2] }]),
        store.append('k', 'log', 2, record(3), valid),
      ]);
      t.deepEqual(versions, [1, 1, 2, 2]);
      t.deepEqual(await recordsOf(orm, 'log'), [2, 3]);
      t.deepEqual(await store.load('k', 'log'), { version: 2, data: bytes(2) });
    });
  });

  test(`${database}: a journal write on a failed chain is refused with nothing written`, async (t) => {
    await withStore(async (store, orm) => {
      await store.save('k', 'stale', 0, bytes(1));
      const record = (n: number) => [{ insertInto: 'store_test_record', values: { owner: 'stale', n } }];
      // The snapshot write loses its version check, so the journal write continuing it fails with it.
      const results = await Promise.allSettled([store.save('k', 'stale', 7, bytes(2)), store.append('k', 'stale', 8, record(1), () => true)]);
      t.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
      // An earlier write failed (the runtime's stillValid says so): refused before it reaches the database.
      const refused = await t.throwsAsync(store.append('k', 'stale', 1, record(2), () => false), { instanceOf: HsError });
      t.is(refused?.code, ErrorCode.CONFLICT);
      t.deepEqual(await recordsOf(orm, 'stale'), []);
      t.is(await store.append('k', 'stale', 1, record(3), () => true), 1);
      t.deepEqual(await recordsOf(orm, 'stale'), [3]);
      t.deepEqual(await store.load('k', 'stale'), { version: 1, data: bytes(1) });
    });
  });

  test(`${database}: a failing record rolls back the whole batch and every write in it is refused`, async (t) => {
    await withStore(async (store) => {
      const results = await Promise.allSettled([
        store.save('k', 'good', 0, bytes(1)),
        store.save('k', 'bad', 0, bytes(2), [{ sql: 'insert into no_such_table (x) values (?)', params: [1] }]),
      ]);
      t.true(results.every((result) => result.status === 'rejected' && (result.reason as HsError).code === ErrorCode.UNAVAILABLE));
      t.is(await store.load('k', 'good'), undefined);
      t.is(await store.save('k', 'good', 0, bytes(1)), 1);
    });
  });

  test(`${database}: byte strings in records are written as they are, views of larger buffers included`, async (t) => {
    await withStore(async (store, orm) => {
      await orm.em.getConnection().execute(`create table store_test_blob (owner varchar(20) not null, data ${database === 'postgresql' ? 'bytea' : 'blob'})`);
      const pool = Uint8Array.from({ length: 64 }, (_, i) => i);
      const values = [pool.subarray(10, 20), new Uint8Array(0), Buffer.from([7, 8, 9]), null];
      await Promise.all(values.map((data, i) => store.append('k', `blob-${i}`, 0, [{ insertInto: 'store_test_blob', values: { owner: `blob-${i}`, data } }], () => true)));
      const rows: { owner: string; data: Uint8Array | null }[] = await orm.em.getConnection().execute('select owner, data from store_test_blob order by owner');
      t.deepEqual(rows.map((row) => (row.data === null ? null : [...row.data])), values.map((data) => (data === null ? null : [...data])));
    });
  });

  // On PostgreSQL such a batch is one statement without a transaction around it (commitAlone).
  test(`${database}: a batch of journal writes commits all of its records or none`, async (t) => {
    await withStore(async (store, orm) => {
      const append = (owner: string | null, n: number) => store.append('k', owner ?? 'nobody', 1, [{ insertInto: 'store_test_record', values: { owner, n } }], () => true);
      const together = await Promise.all([append('one', 1), append('two', 2), append('one', 3)]);
      t.deepEqual(together, [1, 1, 1]);
      t.deepEqual([await recordsOf(orm, 'one'), await recordsOf(orm, 'two')], [[1, 3], [2]]);
      // One record breaks a constraint (owner is not null): the whole batch is refused, nothing written.
      const results = await Promise.allSettled([append('three', 4), append(null, 5), append('three', 6)]);
      t.true(results.every((result) => result.status === 'rejected' && (result.reason as HsError).code === ErrorCode.UNAVAILABLE));
      t.deepEqual(await recordsOf(orm, 'three'), []);
      // More rows than one statement takes (PostgreSQL packs at most 4,096): several statements, one
      // transaction, every row written.
      const many = Array.from({ length: 5000 }, (_, n) => ({ insertInto: 'store_test_record', values: { owner: 'many', n } }));
      t.is(await store.append('k', 'many', 1, many, () => true), 1);
      t.deepEqual(await recordsOf(orm, 'many'), many.map((record) => record.values.n));
    });
  });

  if (database === 'postgresql') {
    test(`${database}: an actor's writes keep to one lane, and a blocked lane holds up no other`, async (t) => {
      const lanes = 3;
      await withStore(async (store, orm) => {
        const keys = Array.from({ length: 40 }, (_, i) => `actor-${i}`);
        const blockedKey = keys[0]!;
        const freeKey = keys.find((key) => laneOf(key, lanes) !== laneOf(blockedKey, lanes))!;
        await Promise.all([store.save('k', blockedKey, 0, bytes(0)), store.save('k', freeKey, 0, bytes(0))]);
        // Another connection holds the blocked actor's row: its lane's next transaction waits for it.
        const holder = orm.em.fork();
        await holder.begin();
        await holder.getConnection().execute('select version from actor_snapshot where kind = ? and key = ? for update', ['k', blockedKey], 'all', holder.getTransactionContext());
        let released = false;
        try {
          const blocked = store.save('k', blockedKey, 1, bytes(1));
          t.is(await store.save('k', freeKey, 1, bytes(1)), 2);
          // Meanwhile many actors of the other lanes, each a chain of writes with records: every chain
          // commits.
          const others = keys.slice(2).filter((key) => laneOf(key, lanes) !== laneOf(blockedKey, lanes));
          const chains = await Promise.all(others.map((key) => Promise.all(Array.from({ length: 20 }, (_, i) =>
            store.append('k', key, 0, [{ insertInto: 'store_test_record', values: { owner: key, n: i } }], () => true)))));
          t.true(chains.every((versions) => versions.length === 20 && versions.every((version) => version === 0)));
          for (const key of others) t.deepEqual(await recordsOf(orm, key), Array.from({ length: 20 }, (_, i) => i));
          await holder.commit();
          released = true;
          t.is(await blocked, 2);
        } finally {
          // A failed assertion must not leave the lane waiting on the lock (closing the store would hang).
          if (!released) await holder.rollback();
        }
        t.deepEqual(await store.load('k', blockedKey), { version: 2, data: bytes(1) });
      }, { lanes });
    });
  }
}
