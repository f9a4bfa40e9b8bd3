import { Migration } from '@mikro-orm/migrations';

// Key columns that hold opaque identifiers (actor keys, queue ids: base64url of random bytes) compare
// byte by byte. Under any default collation but C, PostgreSQL compares every pair of keys through
// strcoll, and the enqueue path's index inserts (rows of many queues interleaved) compare against other
// queues' keys on every row; with a locale such as en_US.UTF-8 that is several times memcmp's cost.
// (With this machine's C.UTF-8 default the difference was within noise: docs/decisions.md.) SQLite
// already compares text as bytes (BINARY), so this is PostgreSQL only. Order by these columns means
// nothing beyond grouping, so no query changes.
const BYTE_ORDER_KEYS: readonly { table: string; column: string; length: number }[] = [
  { table: 'actor_snapshot', column: 'kind', length: 64 },
  { table: 'actor_snapshot', column: 'key', length: 512 },
  { table: 'qs_message', column: 'queue', length: 64 },
  { table: 'qs_key_package', column: 'queue', length: 64 },
];

export class Migration0102ByteOrderKeys extends Migration {
  override up(): void {
    if (!this.onPostgres()) return;
    for (const { table, column, length } of BYTE_ORDER_KEYS) {
      this.addSql(`alter table ${table} alter column ${column} type varchar(${length}) collate "C"`);
    }
  }

  override down(): void {
    if (!this.onPostgres()) return;
    for (const { table, column, length } of BYTE_ORDER_KEYS) {
      this.addSql(`alter table ${table} alter column ${column} type varchar(${length}) collate "default"`);
    }
  }

  private onPostgres(): boolean {
    return (this.getKnex().client as { dialect?: string }).dialect === 'postgresql';
  }
}
