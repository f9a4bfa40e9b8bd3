// Node foundation figures: persisted actor updates per second over the bus (one hot key, and spread
// over many keys), and gateway requests per second, on NATS + PostgreSQL unless BENCH_BACKEND=embedded.
import { counterModule } from '../test/fixtures/counter-module.js';
import { CounterBusClient, CounterHttpClient } from '../test/helpers/counter-client.js';
import { createTestEnvironment, startTestNode, type Backend } from '../test/helpers/node.js';
import { rate } from './concurrency.js';

export default async function runtimeBench(): Promise<Record<string, unknown>> {
  const backend = (process.env.BENCH_BACKEND ?? 'nats-postgres') as Backend;
  const environment = await createTestEnvironment(backend);
  const { node, url } = await startTestNode(environment, [counterModule]);
  try {
    const bus = new CounterBusClient(node.actors);
    const http = new CounterHttpClient(url);
    await rate(500, 50, (i) => bus.bump(`warm-${i % 50}`));
    return {
      backend,
      hot_key_updates_per_s: await rate(5000, 200, () => bus.bump('hot')),
      spread_updates_per_s: await rate(5000, 200, (i) => bus.bump(`key-${i % 1000}`)),
      reads_per_s: await rate(5000, 200, (i) => bus.get(`key-${i % 1000}`)),
      gateway_updates_per_s: await rate(3000, 100, (i) => http.bump(`web-${i % 500}`)),
    };
  } finally {
    await node.stop();
    await environment.cleanup();
  }
}
