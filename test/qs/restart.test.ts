// A node stopped in the middle of a burst of enqueues keeps every message it acknowledged, and the
// ratchet, KeyPackages and records survive the restart (state comes back from PostgreSQL), on one
// thread or several, with queue heads after every few messages (key updates) or far apart (the ratchet
// then steps over up to 63 messages on activation).
import test from 'ava';
import { QueueReceiver } from '../../client/qs-queue.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { bytes, enqueue, keyPackageTuple, newUser, queueConfig, receiver, startQs, text } from './helpers.js';

const survivesRestart = test.macro(async (t, threads: number, settings: Record<string, string>) => {
  const h = await startQs({ ...settings, NODE_THREADS: String(threads) });
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

const keyUpdates = { QS_KEY_UPDATE_MESSAGES: '7' };
test('every acknowledged message survives a restart in the middle of a burst', survivesRestart, 1, keyUpdates);
test('the same on a node with two threads', survivesRestart, 2, keyUpdates);
test('the same with queue heads 64 messages apart and no key update', survivesRestart, 1, { QS_KEY_UPDATE_MESSAGES: '1000', QS_QUEUE_HEAD_INTERVAL: '64' });

test('on activation the ratchet steps over the messages after the newest queue head', async (t) => {
  const h = await startQs({ QS_KEY_UPDATE_MESSAGES: '1000', QS_QUEUE_HEAD_INTERVAL: '10' });
  t.teardown(() => h.stop());
  const client = (await newUser(h.qs)).clients[0]!;
  const config = await queueConfig(h, client);
  // One message per turn: heads after messages 10 and 20, then 5 messages without one.
  for (let i = 1; i <= 25; i++) await enqueue(h, [config], bytes('g'), bytes(`${i}`));
  const orm = await openDatabase({ kind: 'postgresql', url: h.environment.env.DATABASE_URL! });
  const heads: { seq: string }[] = await orm.em.getConnection().execute('select seq from qs_message where head is not null order by seq');
  await orm.close();
  t.deepEqual(heads.map((row) => Number(row.seq)), [10, 20]);

  await h.restart();
  await enqueue(h, [config], bytes('g'), bytes('after restart'));
  const received = (await receiver(h, client).receiveAll()).map((m) => text(m.payload));
  t.deepEqual(received, [...Array.from({ length: 25 }, (_, i) => `${i + 1}`), 'after restart']);
});
