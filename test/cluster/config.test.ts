// Configuration: defaults, the embedded mode, YAML files under environment overrides, and every
// problem reported at once.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeConfig, loadConfig } from '../../cluster/config.js';
import { SettingsError } from '../../actors/runtime/settings.js';

test('no NATS and no database means the embedded mode with SQLite under the data dir', (t) => {
  const config = loadConfig({});
  t.true(config.embedded);
  t.is(config.natsUrl, undefined);
  t.is(config.port, 8080);
  t.is(config.database.kind, 'sqlite');
  t.regex(config.database.kind === 'sqlite' ? config.database.file : '', /data\/homeserver\.sqlite$/);
});

test('NATS and PostgreSQL are taken from the environment', (t) => {
  const config = loadConfig({ NATS_URL: 'nats://127.0.0.1:4222', DATABASE_URL: 'postgresql://hs:secret@db:5432/hs', HS_DOMAIN: 'Example.org', PORT: '9000' });
  t.false(config.embedded);
  t.deepEqual(config.database, { kind: 'postgresql', url: 'postgresql://hs:secret@db:5432/hs', poolMax: 10 });
  t.is(config.domain, 'example.org');
  t.is(config.port, 9000);
  t.is(config.commitLanes, 3);
  t.is(describeConfig(config).commitLanes, 3);
  t.is(describeConfig(config).poolMax, 10);
  t.notRegex(JSON.stringify(describeConfig(config)), /secret/);
});

test('bad values are all reported, each with what was expected', (t) => {
  const error = t.throws(() => loadConfig({ PORT: 'eighty', HS_DOMAIN: 'not a domain', NATS_URL: 'http://x', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', SHARD_COUNT: '0', DB_COMMIT_LANES: '9' }), { instanceOf: SettingsError });
  t.is(error?.problems.length, 7);
  t.regex(error!.message, /DB_COMMIT_LANES must be an integer from 1 to 8, got "9"/);
  t.regex(error!.message, /PORT must be an integer from 0 to 65535, got "eighty"/);
  t.regex(error!.message, /DATABASE_URL must be postgresql:/);
});

test('DB_POOL_MAX must leave a connection beyond the commit lanes', (t) => {
  const postgres = { DATABASE_URL: 'postgresql://hs@db:5432/hs' };
  t.deepEqual(loadConfig({ ...postgres, DB_POOL_MAX: '4' }).database, { kind: 'postgresql', url: postgres.DATABASE_URL, poolMax: 4 });
  t.throws(() => loadConfig({ ...postgres, DB_POOL_MAX: '3' }), { instanceOf: SettingsError, message: /DB_POOL_MAX \(3\) must be above DB_COMMIT_LANES \(3\)/ });
  t.throws(() => loadConfig({ ...postgres, DB_POOL_MAX: '1' }), { instanceOf: SettingsError, message: /DB_POOL_MAX must be an integer from 2 to 1000, got "1"/ });
  // SQLite has no pool to size: the setting is checked but not applied.
  t.deepEqual(Object.keys(loadConfig({ DB_POOL_MAX: '3' }).database), ['kind', 'file']);
});

test('a YAML file provides settings that the environment overrides', (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'hs-config-')), 'node.yaml');
  writeFileSync(file, 'HS_DOMAIN: chat.example.org\nPORT: 7000\nSHARD_COUNT: 64\n');
  const config = loadConfig({ HS_CONFIG_FILE: file, PORT: '7001' });
  t.is(config.domain, 'chat.example.org');
  t.is(config.port, 7001);
  t.is(config.shardCount, 64);
  writeFileSync(file, '- a list\n');
  t.throws(() => loadConfig({ HS_CONFIG_FILE: file }), { instanceOf: SettingsError, message: /must be a mapping/ });
});
