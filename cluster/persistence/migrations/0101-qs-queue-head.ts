import { Migration } from '@mikro-orm/migrations';

// The queue head on message rows: the last row an Enqueue writes carries the queue's ratchet state
// after it (sealed under the operator key), so a busy queue appends rows without rewriting its
// snapshot for every message (docs/qs.md, "Journaled enqueue"). Null on every other row.
export class Migration0101QsQueueHead extends Migration {
  override up(): void {
    const schema = this.getKnex().schema.alterTable('qs_message', (table) => {
      table.binary('head').nullable();
    });
    for (const statement of schema.toSQL()) this.addSql(statement.sql);
  }

  override down(): void {
    this.addSql('alter table qs_message drop column head');
  }
}
