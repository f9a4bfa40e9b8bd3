// SQL inside one snapshot transaction: statements that return rows, and actors' records, with row
// inserts into the same table and columns merged into multi-row statements.
import type { RecordWrite, RowInsert, SqlStatement } from './actor-kind.js';
import type { SqlSession } from './sql-session.js';

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
    let run: RowInsert[] = [];
    const flushInserts = async (): Promise<void> => {
      // PostgreSQL: chunks of a few fixed sizes, so each statement text recurs and stays prepared.
      for (let at = 0; at < run.length;) {
        const size = this.postgres ? preparedChunk(run.length - at, Object.keys(run[0]!.values).length) : Math.min(400, run.length - at);
        await this.run(multiRowInsert(run.slice(at, at + size), this.postgres), this.postgres);
        at += size;
      }
      run = [];
    };
    for (const record of records) {
      if ('insertInto' in record) {
        if (run.length > 0 && !sameShape(run[0]!, record)) await flushInserts();
        run.push(record);
      } else {
        await flushInserts();
        await this.run(record);
      }
    }
    await flushInserts();
  }
}

/** PostgreSQL takes at most this many parameters in one statement. */
const MAX_PARAMETERS = 65_535;

/** The largest of 1, 4, 16, ..., 1024 rows that fits in `remaining` and the parameter limit. */
function preparedChunk(remaining: number, columns: number): number {
  let size = 1024;
  while (size > remaining || size * columns > MAX_PARAMETERS) size /= 4;
  return size;
}

function sameShape(a: RowInsert, b: RowInsert): boolean {
  if (a.insertInto !== b.insertInto) return false;
  const aColumns = Object.keys(a.values);
  const bColumns = Object.keys(b.values);
  return aColumns.length === bColumns.length && aColumns.every((column, i) => column === bColumns[i]);
}

/** `fixedSize`: the row count is one of the prepared chunk sizes, so its text is worth keeping. */
function multiRowInsert(rows: RowInsert[], fixedSize: boolean): SqlStatement {
  const { insertInto } = rows[0]!;
  const columns = Object.keys(rows[0]!.values);
  for (const name of [insertInto, ...columns]) {
    if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  }
  return {
    sql: insertText(insertInto, columns, rows.length, fixedSize),
    params: rows.flatMap((row) => columns.map((column) => {
      const value = row.values[column];
      return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value;
    })),
  };
}

/** The text of a multi-row insert; kept per table, columns and row count when `keep` is set. */
const insertTexts = new Map<string, string>();
function insertText(table: string, columns: string[], rows: number, keep: boolean): string {
  const id = `${table}(${columns.join(',')})x${rows}`;
  let text = insertTexts.get(id);
  if (!text) {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    text = `insert into ${table} (${columns.join(', ')}) values ${Array(rows).fill(tuple).join(', ')}`;
    if (keep) insertTexts.set(id, text);
  }
  return text;
}
