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

  async run(statement: SqlStatement): Promise<void> {
    await this.session.query(statement.sql, statement.params);
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
      for (let i = 0; i < run.length; i += 400) await this.run(multiRowInsert(run.slice(i, i + 400)));
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

function sameShape(a: RowInsert, b: RowInsert): boolean {
  if (a.insertInto !== b.insertInto) return false;
  const aColumns = Object.keys(a.values);
  const bColumns = Object.keys(b.values);
  return aColumns.length === bColumns.length && aColumns.every((column, i) => column === bColumns[i]);
}

function multiRowInsert(rows: RowInsert[]): SqlStatement {
  const { insertInto } = rows[0]!;
  const columns = Object.keys(rows[0]!.values);
  for (const name of [insertInto, ...columns]) {
    if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  }
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return {
    sql: `insert into ${insertInto} (${columns.join(', ')}) values ${rows.map(() => tuple).join(', ')}`,
    params: rows.flatMap((row) => columns.map((column) => {
      const value = row.values[column];
      return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value;
    })),
  };
}
