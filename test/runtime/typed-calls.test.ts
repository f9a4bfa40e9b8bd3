// Typed calls (ActorClient.callTyped): the same answers and errors as encoded calls, whether the actor
// runs on the caller's thread (no encoding), on another thread of the node, or across the bus.
import test from 'ava';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { counterModule } from '../fixtures/counter-module.js';
import { CounterBusClient } from '../helpers/counter-client.js';
import { createTestEnvironment, startTestNode, type Backend } from '../helpers/node.js';
import { hs } from '../generated/proto.js';

const t = hs.testing;
const ADD = { request: t.AddRequest, reply: t.AddReply };

const shapes: [string, Backend, Record<string, string>][] = [
  ['in-process', 'embedded', {}],
  ['on two threads', 'nats-postgres', { NODE_THREADS: '2' }],
  ['over the bus', 'nats-postgres', { LOCAL_DISPATCH: 'false' }],
];

for (const [shape, backend, settings] of shapes) {
  test(`typed calls ${shape} answer like encoded ones`, async (tt) => {
    const environment = await createTestEnvironment(backend, settings);
    const { node } = await startTestNode(environment, [counterModule]);
    tt.teardown(async () => {
      await node.stop();
      await environment.cleanup();
    });
    const encoded = new CounterBusClient(node.actors);
    // Enough counters that, on two threads, both own some.
    const counters = Array.from({ length: 8 }, (_, i) => `typed-${i}`);
    for (const counter of counters) {
      const first = await node.actors.callTyped('counter', counter, 'Add', { counter, amount: 2, seq: 1 }, ADD);
      tt.is(Number(first.total), 2);
      tt.is((await encoded.add(counter, 3, 2)).total, 5, 'the typed call changed the same state');
      const second = await node.actors.callTyped('counter', counter, 'Add', { counter, amount: 1, seq: 3 }, ADD);
      tt.deepEqual([Number(second.total), second.count], [6, 3]);
    }
    const refused = await tt.throwsAsync(node.actors.callTyped('counter', 'typed-0', 'Add', { counter: 'typed-0', amount: 0, seq: 4 }, ADD), { instanceOf: HsError });
    tt.is(refused?.code, ErrorCode.BAD_REQUEST);
    const unknown = await tt.throwsAsync(node.actors.callTyped('counter', 'typed-0', 'NoSuchMethod', {}, ADD), { instanceOf: HsError });
    tt.is(unknown?.code, ErrorCode.NOT_FOUND);
    tt.is((await encoded.get('typed-0')).total, 6, 'the refusal changed nothing');
  });
}
