import { Migration } from '@mikro-orm/migrations';

// The Queuing Service's rows outside actor snapshots: queued messages (ratchet-encrypted; written with
// the queue's snapshot in one transaction), published KeyPackages, and the QS server keys (sealed under
// the operator key). Queues are keyed by PCID only: nothing here names a user.
export class Migration0100QsTables extends Migration {
  override up(): void {
    const schema = this.getKnex().schema
      .createTable('qs_message', (table) => {
        table.string('queue', 64).notNullable();
        table.bigInteger('seq').notNullable();
        table.binary('data').notNullable();
        table.primary(['queue', 'seq']);
      })
      .createTable('qs_key_package', (table) => {
        table.string('queue', 64).notNullable();
        table.integer('position').notNullable();
        // 0 or 1: an integer binds the same way on both databases (SQLite has no boolean parameters).
        table.integer('last_resort').notNullable();
        table.binary('ref').notNullable();
        table.binary('data').notNullable();
        table.primary(['queue', 'position']);
      })
      .createTable('qs_server_keys', (table) => {
        table.string('id', 32).primary();
        table.binary('sealed').notNullable();
      });
    for (const statement of schema.toSQL()) this.addSql(statement.sql);
  }

  override down(): void {
    this.addSql('drop table if exists qs_server_keys');
    this.addSql('drop table if exists qs_key_package');
    this.addSql('drop table if exists qs_message');
  }
}
