// PostgreSQL: many rows of one table in one statement whatever their number. Each column's values
// travel as one array parameter (all byte strings of a column as one buffer, cut apart again by
// offsets and lengths), so the statement's text depends only on the table and its columns' kinds,
// stays prepared, and a batch of any size is one round trip. Measured here against multi-row VALUES
// statements in prepared chunk sizes, 300-row transactions: 1.0-1.4 against 3.3-4.4 µs of node CPU
// per row, and about 1.6x the rows per second (scratch measurement, docs/decisions.md).
import type { RowInsert, SqlStatement } from './actor-kind.js';

/** How a column's values travel. `null`: every value is null (the statement says so, no parameter). */
type ColumnKind = 'null' | 'text' | 'number' | 'boolean' | 'bytes';

/** The kind shared by every value of `column` in the rows, or undefined when some value has no
 *  array form here (a Date, a bigint, an object) or the values disagree. */
function kindOf(rows: readonly RowInsert[], at: number, count: number, column: string): { kind: ColumnKind; nullable: boolean } | undefined {
  let kind: ColumnKind = 'null';
  let nullable = false;
  for (let row = at; row < at + count; row++) {
    const value = rows[row]!.values[column];
    let valueKind: ColumnKind;
    if (value === null || value === undefined) {
      nullable = true;
      continue;
    } else if (typeof value === 'string') valueKind = 'text';
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return undefined;
      valueKind = 'number';
    } else if (typeof value === 'boolean') valueKind = 'boolean';
    else if (value instanceof Uint8Array) valueKind = 'bytes';
    else return undefined;
    if (kind === 'null') kind = valueKind;
    else if (kind !== valueKind) return undefined;
  }
  return { kind, nullable };
}

const ARRAY_TYPES = { text: 'text[]', number: 'numeric[]', boolean: 'boolean[]' } as const;

/** An array literal element: quoted, with the two characters that need it escaped. */
const quoted = (text: string): string => `"${/["\\]/.test(text) ? text.replace(/["\\]/g, '\\$&') : text}"`;

/** PostgreSQL's text form of an array of these values. */
function arrayLiteral(rows: readonly RowInsert[], at: number, count: number, column: string, kind: 'text' | 'number' | 'boolean'): string {
  const elements = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const value = rows[at + i]!.values[column];
    elements[i] = value === null || value === undefined ? 'NULL' : kind === 'text' ? quoted(value as string) : String(value);
  }
  return `{${elements.join(',')}}`;
}

/** A column of byte strings as one buffer with the 1-based offset and length of each (-1: null). */
function packBytes(rows: readonly RowInsert[], at: number, count: number, column: string): { blob: Buffer; offsets: string; lengths: string } {
  let total = 0;
  for (let row = at; row < at + count; row++) total += (rows[row]!.values[column] as Uint8Array | null | undefined)?.length ?? 0;
  const blob = Buffer.allocUnsafe(total);
  const offsets = new Array<number>(count);
  const lengths = new Array<number>(count);
  let next = 0;
  for (let i = 0; i < count; i++) {
    const value = rows[at + i]!.values[column] as Uint8Array | null | undefined;
    offsets[i] = next + 1;
    if (value === null || value === undefined) {
      lengths[i] = -1;
      continue;
    }
    blob.set(value, next);
    lengths[i] = value.length;
    next += value.length;
  }
  return { blob, offsets: `{${offsets.join(',')}}`, lengths: `{${lengths.join(',')}}` };
}

/** Statement texts by table, columns and kinds. */
const texts = new Map<string, string>();

/**
 * Rows [at, at + count) of `rows`, all with `columns` (plain identifiers, checked by the caller), as
 * one statement with `$n` parameters; undefined when some column's values have no array form here
 * (the caller then writes VALUES lists).
 */
export function packedInsert(rows: readonly RowInsert[], at: number, count: number, columns: readonly string[]): SqlStatement | undefined {
  const kinds: { kind: ColumnKind; nullable: boolean }[] = [];
  for (const column of columns) {
    const kind = kindOf(rows, at, count, column);
    if (!kind) return undefined;
    kinds.push(kind);
  }
  // Nothing to unnest: rare enough for VALUES lists.
  if (kinds.every(({ kind }) => kind === 'null')) return undefined;
  const params: unknown[] = [];
  for (const [index, column] of columns.entries()) {
    const { kind } = kinds[index]!;
    if (kind === 'null') continue;
    if (kind === 'bytes') {
      const packed = packBytes(rows, at, count, column);
      params.push(packed.blob, packed.offsets, packed.lengths);
    } else {
      params.push(arrayLiteral(rows, at, count, column, kind));
    }
  }
  const table = rows[at]!.insertInto;
  const id = `${table}(${columns.join(',')}):${kinds.map((k) => `${k.kind}${k.nullable ? '?' : ''}`).join(',')}`;
  let sql = texts.get(id);
  if (!sql) {
    sql = packedText(table, columns, kinds);
    texts.set(id, sql);
  }
  return { sql, params };
}

/** insert into T (c...) select <one expression per column> from unnest(<arrays>) as v(<names>). */
function packedText(table: string, columns: readonly string[], kinds: readonly { kind: ColumnKind; nullable: boolean }[]): string {
  let parameter = 0;
  const selected: string[] = [];
  const arrays: string[] = [];
  const names: string[] = [];
  kinds.forEach(({ kind, nullable }, index) => {
    if (kind === 'null') {
      selected.push('null');
    } else if (kind === 'bytes') {
      const blob = `$${++parameter}::bytea`;
      arrays.push(`$${++parameter}::int[]`, `$${++parameter}::int[]`);
      names.push(`o${index}`, `l${index}`);
      const cut = `substring(${blob} from o${index} for greatest(l${index}, 0))`;
      selected.push(nullable ? `case when l${index} < 0 then null else ${cut} end` : cut);
    } else {
      arrays.push(`$${++parameter}::${ARRAY_TYPES[kind]}`);
      names.push(`c${index}`);
      selected.push(`c${index}`);
    }
  });
  return `insert into ${table} (${columns.join(', ')}) select ${selected.join(', ')} from unnest(${arrays.join(', ')}) as v(${names.join(', ')})`;
}
