// The PostgreSQL session binds parameters: `?` placeholders become $n, except inside quoted text.
import test from 'ava';
import { numberPlaceholders } from '../../actors/runtime/sql-session.js';

test('placeholders are numbered in order and quoted question marks are left alone', (t) => {
  t.is(numberPlaceholders('insert into t (a, b) values (?, ?), (?, ?)'), 'insert into t (a, b) values ($1, $2), ($3, $4)');
  t.is(numberPlaceholders(`select '?' as "why?", ? where x = 'it''s ?'`), `select '?' as "why?", $1 where x = 'it''s ?'`);
});
