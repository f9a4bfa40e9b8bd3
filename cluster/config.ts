// Node configuration: environment variables, optionally on top of a YAML file (HS_CONFIG_FILE) that
// uses the same names. Everything is validated at start; every problem is reported at once.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SettingsReader } from '../actors/runtime/settings.js';
import { DEFAULT_PG_LANES } from '../actors/runtime/snapshot-store.js';
import { DEFAULT_SHARD_COUNT } from '../transport/subjects.js';
import { DEFAULT_POOL_MAX, poolMaxOf, type DatabaseTarget } from './persistence/database.js';

export interface NodeConfig {
  domain: string;
  /** undefined: the in-process bus (embedded mode). */
  natsUrl: string | undefined;
  database: DatabaseTarget;
  host: string;
  port: number;
  logLevel: string;
  shardCount: number;
  actorIdleMs: number;
  requestTimeoutMs: number;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** Calls to modules this node serves skip the bus (LOCAL_DISPATCH, default on). */
  localDispatch: boolean;
  /** Threads that serve this node's shards (NODE_THREADS: a number or `auto` for one per core;
   *  default 1): the first runs the gateway too; each owns the shards whose number modulo the count
   *  is its index. */
  threads: number;
  /** Transactions each thread may have in flight at once (DB_COMMIT_LANES on PostgreSQL; always 1 on
   *  SQLite); an actor's writes always share one. */
  commitLanes: number;
  /** True when neither NATS nor an external database is configured. */
  embedded: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

type Source = Record<string, string | undefined>;

export function loadConfig(env: Source = process.env): NodeConfig {
  const fileProblems: string[] = [];
  const read = new SettingsReader({ ...readConfigFile(env.HS_CONFIG_FILE, fileProblems), ...definedOnly(env) });
  read.problems.push(...fileProblems);
  const { problems } = read;
  const text = (name: string, fallback?: string): string | undefined => read.text(name) ?? fallback;
  const integer = read.integer.bind(read);

  const domain = text('HS_DOMAIN', 'localhost')!.toLowerCase();
  if (!DOMAIN.test(domain)) problems.push(`HS_DOMAIN must be a DNS name such as example.org, got ${JSON.stringify(domain)}`);

  const natsUrl = text('NATS_URL');
  if (natsUrl !== undefined) {
    for (const server of natsUrl.split(',')) {
      if (!/^(nats|tls|wss?):\/\/[^\s]+$/.test(server.trim())) problems.push(`NATS_URL must be nats://host:port (comma-separated for several), got ${JSON.stringify(server)}`);
    }
  }

  const databaseUrl = text('DATABASE_URL');
  const dataDir = text('DATA_DIR', './data')!;
  let database: DatabaseTarget = { kind: 'sqlite', file: resolve(dataDir, 'homeserver.sqlite') };
  if (databaseUrl !== undefined) {
    if (/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) database = { kind: 'postgresql', url: databaseUrl };
    else if (databaseUrl.startsWith('sqlite:') && databaseUrl.length > 'sqlite:'.length) database = { kind: 'sqlite', file: databaseUrl.slice('sqlite:'.length) };
    else problems.push('DATABASE_URL must be postgresql://user@host:port/db or sqlite:<file>');
  }

  const logLevel = text('LOG_LEVEL', 'info')!;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);

  // Checked whatever the database; SQLite has one writer, so one lane.
  const lanesSetting = integer('DB_COMMIT_LANES', DEFAULT_PG_LANES, 1, 8);
  const commitLanes = database.kind === 'postgresql' ? lanesSetting : 1;
  const poolMax = integer('DB_POOL_MAX', DEFAULT_POOL_MAX, 2, 1000);
  if (database.kind === 'postgresql') {
    database = { ...database, poolMax };
    // A committing lane holds its connection: with no connection beyond the lanes, reads would wait
    // for commits.
    if (poolMax <= commitLanes) problems.push(`DB_POOL_MAX (${poolMax}) must be above DB_COMMIT_LANES (${commitLanes}): each lane holds a connection while it commits`);
  }

  const config: NodeConfig = {
    domain,
    natsUrl,
    database,
    host: text('HOST', '0.0.0.0')!,
    port: integer('PORT', 8080, 0, 65535),
    logLevel,
    shardCount: integer('SHARD_COUNT', DEFAULT_SHARD_COUNT, 1, 65536),
    actorIdleMs: integer('ACTOR_IDLE_MS', 300_000, 10, 86_400_000),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', 10_000, 10, 600_000),
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
    shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 30_000, 100, 600_000),
    localDispatch: read.oneOf('LOCAL_DISPATCH', 'true', ['true', 'false']) === 'true',
    // `auto`: one per core the process may use, where threads can work (NATS and PostgreSQL).
    threads: read.text('NODE_THREADS') === 'auto'
      ? (natsUrl !== undefined && database.kind === 'postgresql' ? availableParallelism() : 1)
      : integer('NODE_THREADS', 1, 1, 64),
    commitLanes,
    embedded: natsUrl === undefined && databaseUrl === undefined,
  };
  // Threads share nothing in memory: live-listener notifications need a real bus, and concurrent
  // writers a real database.
  if (config.threads > 1 && (natsUrl === undefined || database.kind !== 'postgresql')) {
    problems.push('NODE_THREADS above 1 needs NATS_URL and a PostgreSQL DATABASE_URL');
  }
  if (config.threads > config.shardCount) problems.push('NODE_THREADS may not exceed SHARD_COUNT');
  return read.done(config);
}

function readConfigFile(path: string | undefined, problems: string[]): Source {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`HS_CONFIG_FILE ${path} could not be read: ${(error as Error).message}`);
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`HS_CONFIG_FILE ${path} must be a mapping of setting names to values`);
    return {};
  }
  const source: Source = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'object' && value !== null) problems.push(`HS_CONFIG_FILE: ${name} must be a plain value`);
    else source[name] = String(value);
  }
  return source;
}

function definedOnly(env: Source): Source {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

/** What may be logged about the configuration: no credentials from URLs. */
export function describeConfig(config: NodeConfig): Record<string, unknown> {
  return {
    domain: config.domain,
    bus: config.natsUrl ? redactUrl(config.natsUrl) : 'in-process',
    database: config.database.kind === 'postgresql' ? redactUrl(config.database.url) : `sqlite:${config.database.file}`,
    port: config.port,
    shardCount: config.shardCount,
    threads: config.threads,
    commitLanes: config.commitLanes,
    // Undefined (left out of the log line) on SQLite.
    poolMax: poolMaxOf(config.database),
  };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, '//***@');
}
