// Where actors keep their state between activations. Writes are conditional on the version the
// actor loaded (optimistic locking), so an actor that lost ownership cannot overwrite a newer state.
import type { MikroORM } from '@mikro-orm/core';
import { conflict, unavailable } from '../../protocol/errors.js';
import type { RecordWrite } from './actor-kind.js';
import { recordStatements, SqlBatch } from './sql-batch.js';
import { sqlTransactions, type SqlTransactions } from './sql-session.js';

export interface Snapshot {
  version: number;
  data: Uint8Array;
}

/** Hears how one write ended: `committed` with the actor's version after it, or `failed`; once. */
export interface WriteSink {
  committed(version: number): void;
  failed(error: unknown): void;
}

/** A journal write's sink also says, when the write's transaction is assembled, whether the write
 *  still stands: false (an earlier write of the actor failed, so this one builds on a state the
 *  database never held) refuses it with CONFLICT. */
export interface JournalSink extends WriteSink {
  stillValid(): boolean;
}

/** What the runtime needs of a store. Writes report to a sink rather than a promise: the runtime
 *  writes once per message, and one object per write replaced a promise, its resolving functions and
 *  the reactions' closures. */
export interface SnapshotStore {
  load(kind: string, key: string): Promise<Snapshot | undefined>;
  /** Writes `data` if the stored version is still `expectedVersion` (0: no row yet); the sink hears
   *  the new version. `data === null` deletes the row. `records` run in the same transaction, after
   *  the snapshot write and only if it succeeded. Fails with CONFLICT when fenced out. */
  saveTo(kind: string, key: string, expectedVersion: number, data: Uint8Array | null, records: RecordWrite[], sink: WriteSink): void;
  /** Writes `records` alone, in order with the actor's other writes (a journal outcome): the snapshot
   *  stays at `version`. */
  appendTo(kind: string, key: string, version: number, records: RecordWrite[], sink: JournalSink): void;
  close(): Promise<void>;
}

/** A new snapshot, `null` to delete it, or JOURNAL: records only, the snapshot row untouched. */
type SnapshotData = Uint8Array | null | typeof JOURNAL;
const JOURNAL = Symbol('journal');

interface PendingWrite {
  kind: string;
  key: string;
  expectedVersion: number;
  data: SnapshotData;
  records: RecordWrite[];
  /** A JournalSink when `data` is JOURNAL. */
  sink: WriteSink;
}

/** Tells a write's sink how it ended: committed at `version`, or failed with `failure` when given. A
 *  sink that throws must not keep the other writes of the batch from hearing theirs: its error is
 *  rethrown on its own (as an uncaught error, like a throwing promise reaction's). */
function tell(write: PendingWrite, version: number, failure?: unknown): void {
  try {
    if (failure === undefined) write.sink.committed(version);
    else write.sink.failed(failure);
  } catch (error) {
    queueMicrotask(() => { throw error; });
  }
}

/** One row change that stands for one or more consecutive writes of the same actor. */
interface RowChange {
  kind: string;
  key: string;
  expectedVersion: number;
  newVersion: number;
  data: SnapshotData;
  writes: PendingWrite[];
}

/**
 * One pipeline of group commits: writes that arrive while its transaction is in flight go into its
 * next one, together. An actor's writes always take the same lane, so they commit in order.
 */
class CommitLane {
  private queue: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly commit: (batch: PendingWrite[]) => Promise<void>,
    private readonly maxBatch: number,
    /** Event-loop turns a batch may wait to fill (see gather). */
    private readonly gatherTurns: number,
  ) {}

  push(write: PendingWrite): void {
    this.queue.push(write);
    this.flushing ??= this.flushLoop();
  }

  async close(): Promise<void> {
    await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      await this.gather();
      await this.commit(this.queue.splice(0, this.maxBatch));
    }
    this.flushing = undefined;
  }

  /** Lets a batch fill while writes keep arriving. A synchronous driver (SQLite) blocks the loop
   *  during a commit, so without this a busy actor would commit one write per transaction: it waits
   *  a few event-loop turns at most. An asynchronous one (PostgreSQL) fills the next batch during the
   *  commit, so it waits only for the rest of the current turn's writes (waiting longer measured
   *  slower: the writes that came meanwhile had nothing to do but wait). */
  private async gather(): Promise<void> {
    // An actor's next message runs in the turn after the one that queued its previous write, so a
    // batch is complete only after two turns without growth.
    let quietTurns = 0;
    for (let turn = 0; turn < this.gatherTurns && quietTurns < 2 && this.queue.length < this.maxBatch; turn++) {
      const before = this.queue.length;
      await new Promise((resolve) => setImmediate(resolve));
      quietTurns = this.queue.length === before ? quietTurns + 1 : 0;
    }
  }
}

/** Commit lanes on PostgreSQL unless configured (DB_COMMIT_LANES); see OrmSnapshotStore. */
export const DEFAULT_PG_LANES = 3;

/** Which lane an actor's writes take: a hash of the whole key (names may share long suffixes, such as
 *  a domain), so keys spread evenly. */
export function laneOf(key: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  return (hash >>> 0) % lanes;
}

/** Store options; the defaults suit the database (PostgreSQL or SQLite). */
export interface SnapshotStoreOptions {
  /** The most writes one transaction takes. */
  maxBatch?: number;
  /** Transactions in flight at once (each on its own connection); an actor's writes stay in one. */
  lanes?: number;
}

/**
 * MikroORM-backed store with group commit, in a few lanes that commit side by side. Within a
 * transaction, consecutive writes of one actor collapse into one row change (only the last state is
 * ever read back), and row changes become a few multi-row statements, so the cost per write is a
 * fraction of a round trip. Each write is acknowledged only once its transaction has committed.
 */
export class OrmSnapshotStore implements SnapshotStore {
  private readonly sql: SqlTransactions;
  private readonly lanes: CommitLane[];

  /**
   * `maxBatch`: PostgreSQL defaults to 256: past a few hundred rows a larger commit saves little per
   * row (its round trip and flush are already spread thin) but holds every write in it until the last
   * is written, while the actors whose replies wait on it have nothing else to do. Smaller commits keep
   * the database and the node busy at once: the QS bench went from 44,000-51,000 to 56,000-67,000
   * messages/s on one thread (docs/qs.md). SQLite, whose driver blocks the thread for each commit's
   * flush, takes 2,000.
   *
   * `lanes`: PostgreSQL defaults to DEFAULT_PG_LANES. With one, the QS bench's commit loop was busy
   * 99% of the time with about two batches waiting behind each commit, while the node thread idled a
   * third of the time and the database used under half a core: a commit's round trip and the node's
   * turn to read its answer are latency that other transactions in flight hide (idle 34% -> 5% with
   * three; docs/qs.md). SQLite has one writer.
   */
  constructor(private readonly orm: MikroORM, options: SnapshotStoreOptions = {}) {
    this.sql = sqlTransactions(orm);
    const postgres = this.sql.postgres;
    const maxBatch = options.maxBatch ?? (postgres ? 256 : 2000);
    const lanes = postgres ? options.lanes ?? DEFAULT_PG_LANES : 1;
    this.lanes = Array.from({ length: lanes }, () => new CommitLane((batch) => this.commit(batch), maxBatch, postgres ? 1 : 64));
  }

  async load(kind: string, key: string): Promise<Snapshot | undefined> {
    const rows = await this.orm.em.getConnection().execute<{ version: number; data: Buffer }[]>(
      'select version, data from actor_snapshot where kind = ? and key = ?', [kind, key]);
    const row = rows[0];
    return row ? { version: Number(row.version), data: new Uint8Array(row.data) } : undefined;
  }

  /** saveTo with a promise of the new version (rejected with the failure). */
  save(kind: string, key: string, expectedVersion: number, data: Uint8Array | null, records: RecordWrite[] = []): Promise<number> {
    return new Promise((committed, failed) => this.saveTo(kind, key, expectedVersion, data, records, { committed, failed }));
  }

  /** appendTo with a promise; `stillValid` as JournalSink's. */
  append(kind: string, key: string, version: number, records: RecordWrite[], stillValid: () => boolean): Promise<number> {
    return new Promise((committed, failed) => this.appendTo(kind, key, version, records, { committed, failed, stillValid }));
  }

  saveTo(kind: string, key: string, expectedVersion: number, data: Uint8Array | null, records: RecordWrite[], sink: WriteSink): void {
    this.laneFor(key).push({ kind, key, expectedVersion, data, records, sink });
  }

  appendTo(kind: string, key: string, version: number, records: RecordWrite[], sink: JournalSink): void {
    this.laneFor(key).push({ kind, key, expectedVersion: version, data: JOURNAL, records, sink });
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }

  private laneFor(key: string): CommitLane {
    return this.lanes.length === 1 ? this.lanes[0]! : this.lanes[laneOf(key, this.lanes.length)]!;
  }

  private async commit(assembled: PendingWrite[]): Promise<void> {
    const batch: PendingWrite[] = [];
    for (const write of assembled) {
      if (write.data !== JOURNAL || (write.sink as JournalSink).stillValid()) batch.push(write);
      else tell(write, write.expectedVersion, conflict(`${write.kind} actor: a write before this one failed`));
    }
    if (batch.length === 0) return;
    if (await this.commitAlone(batch)) return;
    const committed = new Map<PendingWrite, number>();
    try {
      await this.sql.transaction(async (session) => {
        const sql = new SqlBatch(session, this.sql.postgres);
        // Rounds: a round holds at most one row change per actor; a second one (a break in an
        // actor's version chain, e.g. a delete then a re-create) waits for the next round.
        for (const round of rounds(batch)) {
          const applied = await this.applyRound(sql, round);
          for (const change of round) {
            if (!applied.has(change)) continue;
            for (const write of change.writes) {
              sql.queueRecords(write.records);
              committed.set(write, write.data === JOURNAL ? write.expectedVersion : write.expectedVersion + 1);
            }
          }
          await sql.flushRecords();
        }
      });
    } catch (error) {
      const failure = unavailable(`snapshot write failed: ${(error as Error).message}`);
      for (const write of batch) tell(write, write.expectedVersion, failure);
      return;
    }
    for (const write of batch) {
      const version = committed.get(write);
      if (version !== undefined) tell(write, version);
      else tell(write, write.expectedVersion, conflict(`${write.kind} actor state changed concurrently (expected version ${write.expectedVersion})`));
    }
  }

  /**
   * A batch of journal writes only (records, no snapshot row) whose records make a single statement:
   * run on its own, without begin and commit (a single statement is atomic), so the batch costs one
   * round trip. Returns false, having done nothing, for any other batch. Like a transaction, the
   * statement either writes every record or none, and every write shares its fate.
   */
  private async commitAlone(batch: PendingWrite[]): Promise<boolean> {
    if (!this.sql.postgres) return false;
    const records: RecordWrite[] = [];
    for (const write of batch) {
      if (write.data !== JOURNAL) return false;
      for (const record of write.records) records.push(record);
    }
    const planned = recordStatements(records, true);
    if (planned.length !== 1) return false;
    const { statement, prepared } = planned[0]!;
    try {
      await this.sql.alone(statement.sql, statement.params, prepared);
    } catch (error) {
      const failure = unavailable(`snapshot write failed: ${(error as Error).message}`);
      for (const write of batch) tell(write, write.expectedVersion, failure);
      return true;
    }
    for (const write of batch) tell(write, write.expectedVersion);
    return true;
  }

  /** Applies one round of row changes; returns those whose version check passed. */
  private async applyRound(sql: SqlBatch, round: RowChange[]): Promise<Set<RowChange>> {
    const applied = new Set<RowChange>();
    const now = new Date();
    const inserts: (RowChange & { data: Uint8Array })[] = [];
    const updates: (RowChange & { data: Uint8Array })[] = [];
    const deletes: RowChange[] = [];
    for (const change of round) {
      // Records alone: fenced by their own unique keys, not by the snapshot version.
      if (change.data === JOURNAL) applied.add(change);
      else if (change.data === null) deletes.push(change);
      else if (change.expectedVersion === 0) inserts.push(change as RowChange & { data: Uint8Array });
      else updates.push(change as RowChange & { data: Uint8Array });
    }
    if (inserts.length + updates.length + deletes.length === 0) return applied;
    const byKey = new Map<string, RowChange>();
    for (const change of [...inserts, ...updates, ...deletes]) byKey.set(`${change.kind}\u0000${change.key}`, change);
    const markReturned = (rows: { kind: string; key: string }[]): void => {
      for (const row of rows) applied.add(byKey.get(`${row.kind}\u0000${row.key}`)!);
    };
    for (const chunk of chunks(inserts, 400)) {
      markReturned(await sql.rows(
        `insert into actor_snapshot (kind, key, version, data, updated_at) values ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')} on conflict do nothing returning kind, key`,
        chunk.flatMap((change) => [change.kind, change.key, change.newVersion, Buffer.from(change.data), now])));
    }
    for (const chunk of chunks(updates, 400)) {
      const first = `(?, ?, ${sql.integer('?')}, ${sql.integer('?')}, ${sql.blob('?')})`;
      const values = [first, ...chunk.slice(1).map(() => '(?, ?, ?, ?, ?)')].join(', ');
      markReturned(await sql.rows(
        `with v (kind, key, expected, next, data) as (values ${values}) update actor_snapshot set version = v.next, data = v.data, updated_at = ? from v where actor_snapshot.kind = v.kind and actor_snapshot.key = v.key and actor_snapshot.version = v.expected returning actor_snapshot.kind, actor_snapshot.key`,
        [...chunk.flatMap((change) => [change.kind, change.key, change.expectedVersion, change.newVersion, Buffer.from(change.data)]), now]));
    }
    for (const change of deletes) {
      markReturned(await sql.rows('delete from actor_snapshot where kind = ? and key = ? and version = ? returning kind, key',
        [change.kind, change.key, change.expectedVersion]));
    }
    return applied;
  }
}

/** Groups a batch into rounds of row changes, collapsing each actor's consecutive writes. */
function rounds(batch: PendingWrite[]): RowChange[][] {
  // By kind, then key: no combined key string to build per write.
  const perActor = new Map<string, Map<string, RowChange[]>>();
  const result: RowChange[][] = [];
  for (const write of batch) {
    let ofKind = perActor.get(write.kind);
    if (!ofKind) perActor.set(write.kind, (ofKind = new Map()));
    let changes = ofKind.get(write.key);
    if (!changes) ofKind.set(write.key, (changes = []));
    const last = changes.at(-1);
    const journal = write.data === JOURNAL;
    // A write continues the previous change when it expects the version that change produces. A
    // journal write adds its records and leaves the version; a snapshot write makes the change write
    // its snapshot (checked against the version the chain started from). Deletes stand alone: a
    // delete resets the version to 0.
    if (last && write.expectedVersion === last.newVersion && (journal || (last.data !== null && write.data !== null))) {
      if (!journal) {
        last.newVersion = write.expectedVersion + 1;
        last.data = write.data;
      }
      last.writes.push(write);
    } else {
      const newVersion = journal ? write.expectedVersion : write.expectedVersion + 1;
      const change: RowChange = { kind: write.kind, key: write.key, expectedVersion: write.expectedVersion, newVersion, data: write.data, writes: [write] };
      (result[changes.length] ??= []).push(change);
      changes.push(change);
    }
  }
  return result;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
