// A node stopped in the middle of a burst of enqueues keeps every message it acknowledged, and the
// ratchet, KeyPackages and records survive the restart (state comes back from PostgreSQL), on one
// thread or several.
import test from 'ava';
import { QueueReceiver } from '../../client/qs-queue.js';
import { bytes, enqueue, keyPackageTuple, newUser, queueConfig, receiver, startQs, text } from './helpers.js';

const survivesRestart = test.macro(async (t, threads: number) => {
  const h = await startQs({ QS_KEY_UPDATE_MESSAGES: '7', NODE_THREADS: String(threads) });
  t.teardown(() => h.stop());
  const alice = await newUser(h.qs);
  const client = alice.clients[0]!;
  const config = await queueConfig(h, client);
  await h.qs.publishKeyPackages(client.owner, [await keyPackageTuple(config), await keyPackageTuple(config, { lastResort: true })]);
  const rx = receiver(h, client);
  await enqueue(h, [config], bytes('g'), bytes('first'));
  t.deepEqual((await rx.receiveAll()).map((m) => text(m.payload)), ['first']);

  const acknowledged: string[] = [];
  let stopping: Promise<void> | undefined;
  const burst = Array.from({ length: 400 }, async (_, i) => {
    await enqueue(h, [config], bytes('g'), bytes(`${i}`));
    acknowledged.push(`${i}`);
    // Stop the node once some messages are in: the rest are in flight or not yet sent.
    if (acknowledged.length === 50) stopping = h.node.node.stop();
  });
  await Promise.allSettled(burst);
  await stopping;
  t.true(acknowledged.length >= 50);

  await h.restart();
  const rx2 = new QueueReceiver(h.qs, client.owner, client.queueKeys, rx.reader);
  const after = (await rx2.receiveAll()).map((m) => text(m.payload));
  for (const message of acknowledged) t.true(after.includes(message), `acknowledged message ${message} survived`);
  t.is(new Set(after).size, after.length, 'no message was stored twice');

  // The ratchet continues where it was.
  await enqueue(h, [config], bytes('g'), bytes('after restart'));
  t.deepEqual((await rx2.receiveAll()).map((m) => text(m.payload)), ['after restart']);
  t.is((await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken)).keyPackageTuples.length, 1);
  t.is((await h.qs.getUserRecord(alice.user)).clientRecords.length, 1);
});

test('every acknowledged message survives a restart in the middle of a burst', survivesRestart, 1);
test('the same on a node with two threads', survivesRestart, 2);
