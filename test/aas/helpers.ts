// A node with the AS and AAS modules on NATS + PostgreSQL, and SDK clients for it.
import { randomBytes } from 'node:crypto';
import type { ModuleFactory } from '../../actors/runtime/actor-kind.js';
import { createAasModule } from '../../actors/aas/module.js';
import { createAsModule } from '../../actors/as/module.js';
import { AasClient } from '../../client/aas.js';
import { AsClient, type ClientIdentity } from '../../client/as.js';
import { HomeserverHttp } from '../../client/http.js';
import { TokenPool } from '../../client/token-pool.js';
import { createTestEnvironment, startTestNode, type TestEnvironment, type TestNode } from '../helpers/node.js';

/** A clock tests move by hand. */
export class TestClock {
  constructor(public ms = Date.now()) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface AuthNode {
  environment: TestEnvironment;
  node: TestNode;
  http: HomeserverHttp;
  /** An AS client without tokens (for public endpoints and refusals). */
  bare: AsClient;
  aas: AasClient;
  /** Registers a user and returns its identity and a token-carrying AS client. */
  user(prefix?: string): Promise<{ identity: ClientIdentity; as: AsClient; pool: TokenPool; name: string }>;
  stop(): Promise<void>;
}

export async function startAuthNode(options: { env?: Record<string, string>; aasClock?: TestClock; modules?: ModuleFactory[] } = {}): Promise<AuthNode> {
  const environment = await createTestEnvironment('nats-postgres', { HS_OPERATOR_KEY: randomBytes(32).toString('base64'), ...options.env });
  const modules = options.modules ?? [createAsModule(), createAasModule(options.aasClock ? { now: options.aasClock.now } : {})];
  const node = await startTestNode(environment, modules);
  const http = new HomeserverHttp(node.url);
  const aas = new AasClient(http);
  const bare = new AsClient(http);
  let counter = 0;
  return {
    environment, node, http, bare, aas,
    user: async (prefix = 'user') => {
      const name = `${prefix}${counter++}-${randomBytes(3).toString('hex')}@${environment.domain}`;
      const identity = await bare.register(name);
      const pool = new TokenPool(aas, identity, { batch: 20 });
      return { identity, as: new AsClient(http, pool), pool, name };
    },
    stop: async () => {
      await node.node.stop();
      await environment.cleanup();
    },
  };
}
