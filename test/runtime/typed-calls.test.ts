// Typed calls (ActorClient.callTyped, and sendTyped without a promise): the same answers and errors as
// encoded calls, whether the actor runs on the caller's thread (no encoding), on another thread of the
// node, or across the bus; sendTyped answers each call exactly once.
import test from 'ava';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { counterModule } from '../fixtures/counter-module.js';
import { CounterBusClient } from '../helpers/counter-client.js';
import { createTestEnvironment, startTestNode, type Backend } from '../helpers/node.js';
import { hs } from '../generated/proto.js';
import type { ActorClient } from '../../transport/envelope.js';

const t = hs.testing;
const ADD = { request: t.AddRequest, reply: t.AddReply };

/** sendTyped as a promise of everything it reported: replies and errors, counted. */
function sent(actors: ActorClient, key: string, method: string, request: hs.testing.IAddRequest): Promise<{ replies: hs.testing.IAddReply[]; errors: HsError[] }> {
  const heard = { replies: [] as hs.testing.IAddReply[], errors: [] as HsError[] };
  return new Promise((resolve) => {
    // Resolves a moment after the first report, so a second one would be counted.
    const done = () => setTimeout(() => resolve(heard), 50);
    actors.sendTyped('counter', key, method, request, ADD, (reply) => {
      heard.replies.push(reply);
      done();
    }, (error) => {
      heard.errors.push(error);
      done();
    });
  });
}

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

    for (const counter of counters) {
      const added = await sent(node.actors, counter, 'Add', { counter, amount: 4, seq: 5 });
      tt.deepEqual([added.replies.length, added.errors.length], [1, 0], `${counter}: one answer`);
      tt.is(Number(added.replies[0]!.total), 10);
    }
    const sentRefused = await sent(node.actors, 'typed-0', 'Add', { counter: 'typed-0', amount: 0, seq: 6 });
    tt.deepEqual([sentRefused.replies.length, sentRefused.errors.map((error) => error.code)], [0, [ErrorCode.BAD_REQUEST]]);
    const sentUnknown = await sent(node.actors, 'typed-0', 'NoSuchMethod', {});
    tt.deepEqual([sentUnknown.replies.length, sentUnknown.errors.map((error) => error.code)], [0, [ErrorCode.NOT_FOUND]]);
    tt.is((await encoded.get('typed-0')).total, 10, 'the refusals changed nothing');
  });
}
