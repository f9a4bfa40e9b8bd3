// Opaque key columns compare as bytes on PostgreSQL (migration 0102), whatever the database's default
// collation: index inserts of many actors' rows then need no locale-aware comparison.
import test from 'ava';
import { openDatabase } from '../../cluster/persistence/database.js';
import { createTestDatabase } from '../helpers/database.js';

test('actor and queue key columns use the C collation on PostgreSQL', async (t) => {
  const database = await createTestDatabase();
  const orm = await openDatabase({ kind: 'postgresql', url: database.url });
  try {
    const rows: { table_name: string; column_name: string; collation_name: string | null }[] = await orm.em.getConnection().execute(
      `select table_name, column_name, collation_name from information_schema.columns
        where table_schema = current_schema() and (table_name, column_name) in
          (('actor_snapshot', 'kind'), ('actor_snapshot', 'key'), ('qs_message', 'queue'), ('qs_key_package', 'queue'))
        order by table_name, column_name`);
    t.deepEqual(rows.map((row) => `${row.table_name}.${row.column_name}=${row.collation_name}`), [
      'actor_snapshot.key=C', 'actor_snapshot.kind=C', 'qs_key_package.queue=C', 'qs_message.queue=C',
    ]);
    // Byte order: upper case before lower case, as memcmp has it.
    await orm.em.getConnection().execute(`insert into qs_message (queue, seq, data) values ('b', 0, '\\x00'), ('B', 0, '\\x00'), ('a', 0, '\\x00')`);
    const ordered: { queue: string }[] = await orm.em.getConnection().execute('select queue from qs_message order by queue');
    t.deepEqual(ordered.map((row) => row.queue), ['B', 'a', 'b']);
  } finally {
    await orm.close();
    await database.drop();
  }
});
