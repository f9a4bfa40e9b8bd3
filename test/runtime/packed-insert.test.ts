// Row inserts on PostgreSQL travel as arrays (actors/runtime/packed-insert.ts): every value must come
// back exactly as it went in, whatever characters a string holds, empty and absent byte strings
// apart, and rows whose values have no array form still written (as VALUES lists).
import test from 'ava';
import { OrmSnapshotStore } from '../../actors/runtime/snapshot-store.js';
import type { RowInsert } from '../../actors/runtime/actor-kind.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { createTestDatabase } from '../helpers/database.js';

interface Row {
  id: number;
  label: string | null;
  amount: number | null;
  flag: boolean | null;
  data: Uint8Array | null;
  note: string | null;
}

const rowInsert = (row: Row): RowInsert => ({ insertInto: 'packed_test', values: { ...row } });

test('packed inserts keep every value, nulls and awkward strings included', async (t) => {
  const database = await createTestDatabase();
  const orm = await openDatabase({ kind: 'postgresql', url: database.url });
  try {
    await orm.em.getConnection().execute(
      'create table packed_test (id integer primary key, label text, amount bigint, flag boolean, data bytea, note text)');
    const awkward = ['', 'NULL', 'null', 'a,b', '{x}', '"quoted"', 'back\\slash', 'tab\tand\nnewline', ' spaced ', 'ünïcödé ✓', "it's"];
    const rows: Row[] = Array.from({ length: 600 }, (_, id) => ({
      id,
      label: id % 7 === 3 ? null : `${awkward[id % awkward.length]}-${id}`,
      amount: id % 5 === 0 ? null : id * 1_000_003,
      flag: id % 3 === 0 ? null : id % 2 === 0,
      data: id % 4 === 1 ? null : Uint8Array.from({ length: id % 9 }, (_, i) => (id * 31 + i) % 256),
      // A column that is null in every row.
      note: null,
    }));
    const store = new OrmSnapshotStore(orm);
    // Many writes of many actors, so they meet in one batch.
    await Promise.all(rows.map((row) => store.save('packed', `actor-${row.id}`, 0, Uint8Array.of(1), [rowInsert(row)])));
    type Stored = { id: number; label: string | null; amount: string | null; flag: boolean | null; data: Buffer | null; note: string | null };
    const stored: Stored[] = await orm.em.getConnection().execute('select id, label, amount, flag, data, note from packed_test order by id');
    t.is(stored.length, rows.length);
    t.deepEqual(stored.map((row) => ({
      id: row.id, label: row.label, amount: row.amount === null ? null : Number(row.amount), flag: row.flag,
      data: row.data === null ? null : new Uint8Array(row.data), note: row.note,
    })), rows);

    // A value with no array form (a Date here) sends the rows as VALUES lists instead.
    await orm.em.getConnection().execute('create table packed_dated (id integer primary key, at timestamptz not null)');
    const at = new Date('2026-11-26T12:00:00Z');
    await Promise.all([0, 1, 2].map((id) => store.save('packed', `dated-${id}`, 0, Uint8Array.of(1), [{ insertInto: 'packed_dated', values: { id, at } }])));
    const dated: { id: number; at: Date }[] = await orm.em.getConnection().execute('select id, at from packed_dated order by id');
    t.deepEqual(dated.map((row) => [row.id, new Date(row.at).getTime()]), [[0, at.getTime()], [1, at.getTime()], [2, at.getTime()]]);
    await store.close();
  } finally {
    await orm.close();
    await database.drop();
  }
});
