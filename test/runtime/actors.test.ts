// The actor runtime, on both node shapes: NATS + PostgreSQL, and embedded (in-process bus + SQLite).
// On NATS every call crosses the bus (LOCAL_DISPATCH=false), so request/reply through the NATS server is
// what these tests exercise there; embedded nodes dispatch in-process as production nodes do.
import test from 'ava';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { counterModule } from '../fixtures/counter-module.js';
import { CounterBusClient } from '../helpers/counter-client.js';
import { createTestEnvironment, startTestNode, type Backend } from '../helpers/node.js';
import { OrmSnapshotStore } from '../../actors/runtime/snapshot-store.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { counterKind } from '../fixtures/counter-module.js';
import { hs } from '../generated/proto.js';

const until = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

for (const backend of ['nats-postgres', 'embedded'] as Backend[]) {
  const setup = async (overrides: Record<string, string> = {}) => {
    const environment = await createTestEnvironment(backend, backend === 'nats-postgres' ? { LOCAL_DISPATCH: 'false' } : {});
    const started = await startTestNode(environment, [counterModule], overrides);
    const counters = new CounterBusClient(started.node.actors);
    return {
      ...started, environment, counters,
      teardown: async () => { await started.node.stop(); await environment.cleanup(); },
    };
  };

  test(`${backend}: an actor is activated by its first message`, async (t) => {
    const { node, counters, teardown } = await setup();
    try {
      t.is(node.runtime.activeCounts()['test-counter'], 0);
      t.is((await counters.add('alpha', 3)).total, 3);
      t.is(node.runtime.activeCounts()['test-counter'], 1);
      await counters.get('beta');
      t.is(node.runtime.activeCounts()['test-counter'], 2);
    } finally {
      await teardown();
    }
  });

  test(`${backend}: an idle actor is passivated and rehydrated with its state intact`, async (t) => {
    const { node, counters, teardown } = await setup({ ACTOR_IDLE_MS: '50' });
    try {
      await counters.add('gamma', 2, 1);
      await counters.add('gamma', 5, 2);
      await until(() => node.runtime.activeCounts()['test-counter'] === 0, 'passivation');
      const state = await counters.get('gamma');
      t.is(state.total, 7);
      t.deepEqual(state.log, [1, 2]);
      // The reactivated actor continues from the stored version: no conflict on the next write.
      t.is((await counters.add('gamma', 1, 3)).total, 8);
    } finally {
      await teardown();
    }
  });

  test(`${backend}: a crash restarts the actor from its snapshot and the caller gets a typed error`, async (t) => {
    const { counters, teardown } = await setup();
    try {
      await counters.add('delta', 5);
      const crash = await t.throwsAsync(counters.fail('delta', 100, false), { instanceOf: HsError });
      t.is(crash?.code, ErrorCode.INTERNAL);
      t.is((await counters.get('delta')).total, 5);
      const refusal = await t.throwsAsync(counters.fail('delta', 100, true), { instanceOf: HsError });
      t.is(refusal?.code, ErrorCode.PRECONDITION_FAILED);
      t.is((await counters.get('delta')).total, 5);
      const badInput = await t.throwsAsync(counters.add('delta', 0), { instanceOf: HsError });
      t.is(badInput?.code, ErrorCode.BAD_REQUEST);
      for (const badKey of ['', 'k'.repeat(513)]) {
        const refused = await t.throwsAsync(counters.add(badKey, 1), { instanceOf: HsError });
        t.is(refused?.code, ErrorCode.BAD_REQUEST);
      }
      t.is((await counters.add('delta', 1)).total, 6);
    } finally {
      await teardown();
    }
  });

  test(`${backend}: a stateless kind runs messages for one key side by side and keeps the error contract`, async (t) => {
    const { node, teardown } = await setup();
    try {
      const call = (method: string, body: Uint8Array) => node.actors.call('counter', 'same-key', method, body);
      const meet = () => call('EchoMeet', hs.testing.MeetRequest.encode({ counter: 'same-key', meeting: `m-${backend}`, parties: 2 }).finish());
      // Both wait inside the handler for each other: only possible without a mailbox.
      await Promise.all([meet(), meet()]);
      const fail = (asRefusal: boolean) => call('EchoFail', hs.testing.FailRequest.encode({ counter: 'same-key', asRefusal }).finish());
      t.is((await t.throwsAsync(fail(true), { instanceOf: HsError }))?.code, ErrorCode.PRECONDITION_FAILED);
      t.is((await t.throwsAsync(fail(false), { instanceOf: HsError }))?.code, ErrorCode.INTERNAL);
      t.is((await t.throwsAsync(call('EchoState', hs.testing.DeleteRequest.encode({ counter: 'same-key' }).finish()), { instanceOf: HsError }))?.code, ErrorCode.INTERNAL);
      t.is((await t.throwsAsync(call('EchoMeet', Uint8Array.of(0xff, 0xff)), { instanceOf: HsError }))?.code, ErrorCode.BAD_REQUEST);
      t.is(node.runtime.activeCounts()['test-echo'], 0, 'stateless kinds have no activations');
    } finally {
      await teardown();
    }
  });

  test(`${backend}: a crashing actor does not affect other actors`, async (t) => {
    const { counters, teardown } = await setup();
    try {
      await counters.add('bystander', 1);
      const results = await Promise.allSettled([
        counters.fail('crasher', 1, false),
        ...Array.from({ length: 20 }, (_, i) => counters.add('bystander', 1, i)),
      ]);
      t.is(results[0]!.status, 'rejected');
      t.true(results.slice(1).every((result) => result.status === 'fulfilled'));
      t.is((await counters.get('bystander')).total, 21);
    } finally {
      await teardown();
    }
  });

  test(`${backend}: 1,000 concurrent requests to one key are processed in order with no lost update`, async (t) => {
    // A generous deadline: this is about order and completeness, and CI machines can be busy.
    const { counters, teardown } = await setup({ REQUEST_TIMEOUT_MS: '120000' });
    try {
      const replies = await Promise.all(Array.from({ length: 1000 }, (_, seq) => counters.add('hot', 1, seq)));
      t.deepEqual(replies.map((reply) => reply.count).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i + 1));
      const state = await counters.get('hot');
      t.is(state.total, 1000);
      t.deepEqual(state.log, Array.from({ length: 1000 }, (_, seq) => seq));
    } finally {
      await teardown();
    }
  });

  test(`${backend}: requests to different keys run concurrently`, async (t) => {
    const { counters, teardown } = await setup();
    try {
      // Each actor waits inside its handler until all four have arrived: serialised processing
      // across keys would never get there.
      const parties = ['k1', 'k2', 'k3', 'k4'];
      await Promise.all(parties.map((key) => counters.meet(key, `meeting-${backend}`, parties.length)));
      t.pass();
    } finally {
      await teardown();
    }
  });

  test(`${backend}: a write from a stale owner is fenced out, and the actor reloads the newer state`, async (t) => {
    const { counters, config, teardown } = await setup();
    const orm = await openDatabase(config.database);
    try {
      await counters.add('fenced', 1);
      // Another owner (e.g. a node that took over the shard) moves the snapshot on.
      const other = new OrmSnapshotStore(orm);
      const stored = await other.load(counterKind.name, 'fenced');
      await other.save(counterKind.name, 'fenced', stored!.version, counterKind.encodeState({ total: 100, log: [] }));
      const refused = await t.throwsAsync(counters.add('fenced', 1), { instanceOf: HsError });
      t.is(refused?.code, ErrorCode.CONFLICT);
      t.is((await counters.get('fenced')).total, 100);
      t.is((await counters.add('fenced', 1)).total, 101);
    } finally {
      await orm.close();
      await teardown();
    }
  });

  test(`${backend}: a deleted actor starts over from its initial state`, async (t) => {
    const { counters, teardown } = await setup();
    try {
      await counters.add('epsilon', 4);
      await counters.delete('epsilon');
      t.is((await counters.get('epsilon')).total, 0);
      t.is((await counters.add('epsilon', 2)).total, 2);
    } finally {
      await teardown();
    }
  });

  test(`${backend}: state survives a node restart`, async (t) => {
    const environment = await createTestEnvironment(backend);
    try {
      const first = await startTestNode(environment, [counterModule]);
      await new CounterBusClient(first.node.actors).add('zeta', 9);
      await first.node.stop();
      const second = await startTestNode(environment, [counterModule]);
      t.is((await new CounterBusClient(second.node.actors).get('zeta')).total, 9);
      await second.node.stop();
    } finally {
      await environment.cleanup();
    }
  });
}
