// DB_POOL_MAX bounds each thread's PostgreSQL pool, and a node whose pools could exceed what the
// server admits says so when it starts.
import test from 'ava';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../cluster/config.js';
import { HomeserverNode } from '../../cluster/node.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { connectionBudgetWarning, serverConnectionLimit } from '../../cluster/persistence/connection-budget.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestEnvironment } from '../helpers/node.js';

test('the warning names both sides when the pools exceed the limit, and stays quiet otherwise', (t) => {
  t.regex(connectionBudgetWarning(16, 10, 97)!, /may open 160 PostgreSQL connections \(NODE_THREADS 16 x DB_POOL_MAX 10\) but the server admits 97/);
  t.is(connectionBudgetWarning(9, 10, 97), undefined);
  t.is(connectionBudgetWarning(64, 1000, undefined), undefined);
});

test('a pool holds at most DB_POOL_MAX connections, and the server limit is read from PostgreSQL', async (t) => {
  const database = await createTestDatabase();
  const orm = await openDatabase({ kind: 'postgresql', url: database.url, poolMax: 2 });
  const observer = await openDatabase({ kind: 'postgresql', url: database.url });
  try {
    const connection = orm.em.getConnection();
    // Four sleeps at once: with two connections, two run and two wait for them.
    const sleeps = Promise.all(Array.from({ length: 4 }, () => connection.execute('select pg_sleep(1)')));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const [running]: { count: number }[] = await observer.em.getConnection().execute(
      "select count(*)::int as count from pg_stat_activity where datname = current_database() and query = 'select pg_sleep(1)' and state = 'active'");
    await sleeps;
    t.is(running!.count, 2);

    const [settings]: { max: number; reserved: number }[] = await observer.em.getConnection().execute(
      "select current_setting('max_connections')::int as max, current_setting('superuser_reserved_connections')::int as reserved");
    t.is(await serverConnectionLimit(orm), settings!.max - settings!.reserved);
  } finally {
    await observer.close();
    await orm.close();
    await database.drop();
  }
});

test('a node whose pools could exceed the server limit warns at start', async (t) => {
  const environment = await createTestEnvironment('nats-postgres');
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _encoding, done) => { lines.push(String(chunk)); done(); } }));
  try {
    for (const poolMax of ['1000', '10']) {
      const config = loadConfig({ ...environment.env, DB_POOL_MAX: poolMax });
      const node = await HomeserverNode.start(config, { modules: [], env: environment.env, log });
      await node.stop();
    }
    const warnings = lines.filter((line) => line.includes('PostgreSQL connections'));
    t.is(warnings.length, 1);
    t.regex(warnings[0]!, /NODE_THREADS 1 x DB_POOL_MAX 1000/);
  } finally {
    await environment.cleanup();
  }
});
