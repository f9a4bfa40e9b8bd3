// SIGTERM: the node stops accepting, finishes what is in flight, flushes, exits 0; a restarted node
// sees every acknowledged change.
import test from 'ava';
import { counterModule } from '../fixtures/counter-module.js';
import { CounterBusClient } from '../helpers/counter-client.js';
import { createTestEnvironment, startTestNode } from '../helpers/node.js';
import { startNodeProcess } from '../helpers/process.js';
import { hs } from '../generated/proto.js';

test('SIGTERM finishes in-flight requests, exits 0, and a restarted node sees every acknowledged write', async (t) => {
  const environment = await createTestEnvironment('nats-postgres');
  try {
    const node = await startNodeProcess('test/fixtures/counter-node.ts', environment.env);
    const counters = ['c0', 'c1', 'c2', 'c3'];
    let acknowledged = 0;
    const sends = Array.from({ length: 400 }, async (_, i) => {
      const counter = counters[i % counters.length]!;
      try {
        const response = await fetch(`http://127.0.0.1:${node.port}/v1/counter/Add`, {
          method: 'POST', headers: { 'content-type': 'application/x-protobuf' },
          body: hs.testing.AddRequest.encode({ counter, amount: 1, seq: i }).finish(),
        });
        if (response.status === 200) acknowledged++;
        await response.arrayBuffer();
      } catch {
        // refused once the node stopped accepting: not acknowledged
      }
    });
    // Signal while requests are in flight.
    while (acknowledged < 20) await new Promise((resolve) => setTimeout(resolve, 1));
    node.child.kill('SIGTERM');
    await Promise.all(sends);
    t.is(await node.exited, 0);
    t.true(node.logs.some((line) => line.msg === 'node stopped'));
    t.true(acknowledged > 0);

    const restarted = await startTestNode(environment, [counterModule]);
    const client = new CounterBusClient(restarted.node.actors);
    let total = 0;
    for (const counter of counters) total += (await client.get(counter)).total;
    await restarted.node.stop();
    // Every acknowledged add is there; an add whose reply was lost in the shutdown may be too.
    t.true(total >= acknowledged, `total ${total} < acknowledged ${acknowledged}`);
    t.true(total <= 400);
  } finally {
    await environment.cleanup();
  }
});
