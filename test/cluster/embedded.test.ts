// `npm start` with nothing configured: an embedded node (in-process bus, SQLite under DATA_DIR) that
// announces the mode in its first log line, serves, and stops cleanly.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeProcess } from '../helpers/process.js';

test('with no NATS_URL and no DATABASE_URL the node runs embedded and says so first', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hs-embedded-'));
  try {
    const node = await startNodeProcess('cluster/main.ts', { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', NATS_URL: '', DATABASE_URL: '' });
    t.regex(String(node.logs[0]?.msg), /embedded mode/);
    const ready = await fetch(`http://127.0.0.1:${node.port}/readyz`);
    t.is(ready.status, 200);
    t.true(existsSync(join(dataDir, 'homeserver.sqlite')));
    node.child.kill('SIGTERM');
    t.is(await node.exited, 0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a bad setting stops the node at start with every problem listed and exit code 2', async (t) => {
  const error = await t.throwsAsync(startNodeProcess('cluster/main.ts', { PORT: 'x', SHARD_COUNT: '0' }));
  t.regex(error!.message, /exited with 2/);
});
