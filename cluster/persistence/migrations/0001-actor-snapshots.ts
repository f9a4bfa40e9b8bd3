import { Migration } from '@mikro-orm/migrations';

// Written with knex's schema builder so the same migration runs on PostgreSQL and SQLite.
export class Migration0001ActorSnapshots extends Migration {
  override up(): void {
    const builder = this.getKnex().schema.createTable('actor_snapshot', (table) => {
      table.string('kind', 64).notNullable();
      table.string('key', 512).notNullable();
      table.integer('version').notNullable();
      table.binary('data').notNullable();
      table.datetime('updated_at').notNullable();
      table.primary(['kind', 'key']);
    });
    for (const statement of builder.toSQL()) this.addSql(statement.sql);
  }

  override down(): void {
    this.addSql('drop table if exists actor_snapshot');
  }
}
