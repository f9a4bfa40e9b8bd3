// Starts real homeserver nodes for tests: on NATS + PostgreSQL (the production shape) or embedded
// (in-process bus + SQLite). Each environment has its own domain (hence subject prefix) and its own
// database, so parallel test files never see each other.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { ModuleFactory } from '../../actors/runtime/actor-kind.js';
import { loadConfig, type NodeConfig } from '../../cluster/config.js';
import { HomeserverNode } from '../../cluster/node.js';
import { createTestDatabase } from './database.js';

export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export type Backend = 'nats-postgres' | 'embedded';

/** Where a node keeps its state: survives node restarts, removed by cleanup(). */
export interface TestEnvironment {
  backend: Backend;
  domain: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function createTestEnvironment(backend: Backend, extraEnv: Record<string, string> = {}): Promise<TestEnvironment> {
  const domain = `t${randomBytes(5).toString('hex')}.test`;
  const base = { HS_DOMAIN: domain, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...extraEnv };
  if (backend === 'nats-postgres') {
    const database = await createTestDatabase();
    return { backend, domain, env: { ...base, NATS_URL, DATABASE_URL: database.url }, cleanup: database.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'hs-test-'));
  return { backend, domain, env: { ...base, DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestNode {
  node: HomeserverNode;
  config: NodeConfig;
  /** http://127.0.0.1:<port> */
  url: string;
}

export async function startTestNode(environment: TestEnvironment, modules: readonly ModuleFactory[], overrides: Record<string, string> = {}): Promise<TestNode> {
  const env = { ...environment.env, ...overrides };
  const config = loadConfig(env);
  const node = await HomeserverNode.start(config, { modules, env, log: pino({ level: env.LOG_LEVEL ?? 'silent' }) });
  return { node, config, url: `http://127.0.0.1:${node.port}` };
}
