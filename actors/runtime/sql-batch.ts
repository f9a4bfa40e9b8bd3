// SQL inside one snapshot transaction: statements that return rows, and actors' records, with row
// inserts into the same table and columns merged into multi-row statements.
import type { RecordWrite, RowInsert, SqlStatement } from './actor-kind.js';
import type { SqlSession } from './sql-session.js';
import { packedInsert } from './packed-insert.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export class SqlBatch {
  private pending: RecordWrite[] = [];

  constructor(private readonly session: SqlSession, private readonly postgres: boolean) {}

  /** PostgreSQL cannot infer types of parameters inside VALUES lists; SQLite needs no casts. */
  integer(placeholder: string): string {
    return this.postgres ? `${placeholder}::integer` : placeholder;
  }

  blob(placeholder: string): string {
    return this.postgres ? `${placeholder}::bytea` : placeholder;
  }

  rows<T = { kind: string; key: string }>(sql: string, params: unknown[]): Promise<T[]> {
    return this.session.query<T>(sql, params);
  }

  async run(statement: SqlStatement, prepared = false): Promise<void> {
    await this.session.query(statement.sql, statement.params, prepared);
  }

  queueRecords(records: RecordWrite[]): void {
    this.pending.push(...records);
  }

  /** Runs the queued records in order, merging runs of inserts into the same table and columns. */
  async flushRecords(): Promise<void> {
    const records = this.pending;
    this.pending = [];
    for (const { statement, prepared } of recordStatements(records, this.postgres)) await this.run(statement, prepared);
  }
}

/** A statement to run, and whether its text recurs (so it is worth keeping prepared). */
export interface PlannedStatement {
  statement: SqlStatement;
  prepared: boolean;
}

/** The statements that write `records` in order, with runs of inserts into the same table and
 *  columns merged into multi-row statements. */
export function recordStatements(records: readonly RecordWrite[], postgres: boolean): PlannedStatement[] {
  const planned: PlannedStatement[] = [];
  let run: RowInsert[] = [];
  /** The columns of the rows in `run`. */
  let columns: string[] = [];
  const endRun = (): void => {
    if (run.length > 0) planned.push(...insertStatements(run, columns, postgres));
    run = [];
  };
  for (const record of records) {
    if ('insertInto' in record) {
      if (run.length > 0 && !(run[0]!.insertInto === record.insertInto && hasColumns(record.values, columns))) endRun();
      if (run.length === 0) columns = Object.keys(record.values);
      run.push(record);
    } else {
      endRun();
      planned.push({ statement: record, prepared: false });
    }
  }
  endRun();
  return planned;
}

/** Rows of one table, all with `columns`. PostgreSQL: one statement of arrays per MAX_PACKED_ROWS
 *  rows if the values allow it, else VALUES lists in chunks of a few fixed sizes, so that each
 *  statement text recurs and stays prepared. */
function insertStatements(run: readonly RowInsert[], columns: readonly string[], postgres: boolean): PlannedStatement[] {
  checkIdentifiers(run[0]!.insertInto, columns);
  const planned: PlannedStatement[] = [];
  for (let at = 0; at < run.length;) {
    const size = postgres ? Math.min(MAX_PACKED_ROWS, run.length - at) : Math.min(400, run.length - at);
    const packed = postgres ? packedInsert(run, at, size, columns) : undefined;
    if (packed) {
      planned.push({ statement: packed, prepared: true });
      at += size;
      continue;
    }
    const chunk = postgres ? preparedChunk(run.length - at, columns.length) : size;
    planned.push({ statement: multiRowInsert(run, at, chunk, columns, postgres), prepared: postgres });
    at += chunk;
  }
  return planned;
}

/** Table and column names go into statement texts as they are. */
function checkIdentifiers(table: string, columns: readonly string[]): void {
  for (const name of [table, ...columns]) {
    if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  }
}

/** Bounds one packed statement (and so the buffer of its byte columns). */
const MAX_PACKED_ROWS = 4096;

/** PostgreSQL takes at most this many parameters in one statement. */
const MAX_PARAMETERS = 65_535;

/** The largest of 1, 4, 16, ..., 1024 rows that fits in `remaining` and the parameter limit. */
function preparedChunk(remaining: number, columns: number): number {
  let size = 1024;
  while (size > remaining || size * columns > MAX_PARAMETERS) size /= 4;
  return size;
}

/** Whether `values` has exactly these columns, in this order (without an array per row). */
function hasColumns(values: Record<string, unknown>, columns: readonly string[]): boolean {
  let i = 0;
  for (const name in values) {
    if (name !== columns[i++]) return false;
  }
  return i === columns.length;
}

/** Rows [at, at + count) of `rows`, all with `columns`. `fixedSize`: the row count is one of the
 *  prepared chunk sizes, so its text is worth keeping. */
function multiRowInsert(rows: readonly RowInsert[], at: number, count: number, columns: readonly string[], fixedSize: boolean): SqlStatement {
  const { insertInto } = rows[at]!;
  const params = new Array<unknown>(count * columns.length);
  let next = 0;
  for (let row = at; row < at + count; row++) {
    const values = rows[row]!.values;
    for (const column of columns) {
      const value = values[column];
      // Drivers bind Buffers as binary values: a view, not a copy.
      params[next++] = value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
    }
  }
  return { sql: insertText(insertInto, columns, count, fixedSize), params };
}

/** The text of a multi-row insert; kept per table, columns and row count when `keep` is set. */
const insertTexts = new Map<string, string>();
function insertText(table: string, columns: readonly string[], rows: number, keep: boolean): string {
  const id = `${table}(${columns.join(',')})x${rows}`;
  let text = insertTexts.get(id);
  if (!text) {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    text = `insert into ${table} (${columns.join(', ')}) values ${Array(rows).fill(tuple).join(', ')}`;
    if (keep) insertTexts.set(id, text);
  }
  return text;
}
