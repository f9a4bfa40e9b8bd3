// The SQL of the QS's own tables: statements for Outcome.records (written with the actor's snapshot)
// and the reads the actors make through the ORM. `?` placeholders work on PostgreSQL and SQLite.
import type { MikroORM } from '@mikro-orm/core';
import type { RowInsert, SqlStatement } from '../runtime/actor-kind.js';

const bytes = (data: Uint8Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

export interface MessageRow {
  seq: number;
  data: Uint8Array;
  /** The sealed queue head after this row (journaled enqueues: the last row of some turns, see
   *  client-queue.ts). */
  head?: Uint8Array;
}

/** Row inserts, which the snapshot store merges with other queues' into multi-row statements (it
 *  takes the bytes as they are). */
export function insertMessages(queue: string, rows: readonly MessageRow[]): RowInsert[] {
  return rows.map((row) => ({ insertInto: 'qs_message', values: { queue, seq: row.seq, data: row.data, head: row.head ?? null } }));
}

/** What the journal holds from `fromSeq` on: its last sequence number and its newest queue head. */
export async function journalTail(orm: MikroORM, queue: string, fromSeq: number): Promise<{ lastSeq: number; head?: { seq: number; head: Uint8Array } } | undefined> {
  const connection = orm.em.getConnection();
  const [last]: { seq: number | string | null }[] = await connection.execute(
    'select max(seq) as seq from qs_message where queue = ? and seq >= ?', [queue, fromSeq]);
  if (last?.seq == null) return undefined;
  const [head]: { seq: number | string; head: Buffer }[] = await connection.execute(
    'select seq, head from qs_message where queue = ? and seq >= ? and head is not null order by seq desc limit 1', [queue, fromSeq]);
  return { lastSeq: Number(last.seq), head: head && { seq: Number(head.seq), head: new Uint8Array(head.head) } };
}

export const deleteMessagesBefore = (queue: string, seq: number): SqlStatement =>
  ({ sql: 'delete from qs_message where queue = ? and seq < ?', params: [queue, seq] });

export const deleteQueueRows = (queue: string): SqlStatement[] => [
  { sql: 'delete from qs_message where queue = ?', params: [queue] },
  { sql: 'delete from qs_key_package where queue = ?', params: [queue] },
];

export const insertKeyPackage = (queue: string, position: number, lastResort: boolean, ref: Uint8Array, data: Uint8Array): SqlStatement =>
  ({ sql: 'insert into qs_key_package (queue, position, last_resort, ref, data) values (?, ?, ?, ?, ?)', params: [queue, position, lastResort ? 1 : 0, bytes(ref), bytes(data)] });

export const deleteKeyPackagesBefore = (queue: string, position: number): SqlStatement =>
  ({ sql: 'delete from qs_key_package where queue = ? and position < ?', params: [queue, position] });

export const deleteKeyPackage = (queue: string, position: number): SqlStatement =>
  ({ sql: 'delete from qs_key_package where queue = ? and position = ?', params: [queue, position] });

export interface StoredMessage {
  seq: number;
  data: Uint8Array;
}

export async function readMessages(orm: MikroORM, queue: string, fromSeq: number, limit: number): Promise<StoredMessage[]> {
  if (limit <= 0) return [];
  const rows: { seq: number | string; data: Buffer }[] = await orm.em.getConnection().execute(
    'select seq, data from qs_message where queue = ? and seq >= ? order by seq limit ?', [queue, fromSeq, limit]);
  return rows.map((row) => ({ seq: Number(row.seq), data: new Uint8Array(row.data) }));
}

export interface StoredKeyPackage {
  position: number;
  lastResort: boolean;
  ref: Uint8Array;
  data: Uint8Array;
}

/** The KeyPackage to hand out next from positions >= `floor`: the oldest one not of last resort and
 *  not in `taken` (handed out, its deletion perhaps not yet committed), else a last-resort one. */
export async function nextKeyPackage(orm: MikroORM, queue: string, floor: number, taken: ReadonlySet<number>): Promise<StoredKeyPackage | undefined> {
  const rows: { position: number; last_resort: number; ref: Buffer; data: Buffer }[] = await orm.em.getConnection().execute(
    'select position, last_resort, ref, data from qs_key_package where queue = ? and position >= ? order by last_resort, position limit ?',
    [queue, floor, taken.size + 1]);
  const row = rows.find((candidate) => !taken.has(Number(candidate.position)));
  return row && { position: Number(row.position), lastResort: Number(row.last_resort) === 1, ref: new Uint8Array(row.ref), data: new Uint8Array(row.data) };
}
