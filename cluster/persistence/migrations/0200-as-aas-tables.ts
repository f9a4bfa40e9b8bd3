import { Migration } from '@mikro-orm/migrations';

// The AS and AAS rows outside actor snapshots: direct queue messages (written with the user actor's
// snapshot in one transaction), the AAS issuer keys (private halves sealed under the operator key; read
// by every node's gate and issuers), and the nonces of spent tokens (a unique insert is the atomic
// double-spend check; rows are pruned with their key).
export class Migration0200AsAasTables extends Migration {
  override up(): void {
    const schema = this.getKnex().schema
      .createTable('as_direct_message', (table) => {
        table.string('client_id', 200).notNullable();
        table.bigInteger('seq').notNullable();
        table.binary('data').notNullable();
        table.primary(['client_id', 'seq']);
      })
      .createTable('aas_issuer_key', (table) => {
        table.integer('epoch').primary();
        table.string('token_key_id', 64).notNullable().unique();
        table.binary('token_key').notNullable();
        table.binary('sealed_private_key').notNullable();
        table.bigInteger('not_before_ms').notNullable();
        table.bigInteger('issue_until_ms').notNullable();
        table.bigInteger('retire_at_ms').notNullable();
      })
      .createTable('aas_spent_token', (table) => {
        table.string('token_key_id', 64).notNullable();
        table.binary('nonce').notNullable();
        table.primary(['token_key_id', 'nonce']);
      });
    for (const statement of schema.toSQL()) this.addSql(statement.sql);
  }

  override down(): void {
    for (const table of ['aas_spent_token', 'aas_issuer_key', 'as_direct_message']) this.addSql(`drop table if exists ${table}`);
  }
}
