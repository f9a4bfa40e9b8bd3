// Live listening with leases: a queue puts its new messages on the bus only while a listener's lease
// holds; the listener's gateway keeps renewing it while the socket is open, and once the socket has
// closed the lease runs out and the bus stays quiet.
import test from 'ava';
import { listenToQueue } from '../../client/qs-queue.js';
import { listenSubject } from '../../actors/qs/context.js';
import { bytes, enqueue, newUser, queueConfig, startQs } from './helpers.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a queue publishes only while a listener holds its lease, which the gateway renews', async (t) => {
  const h = await startQs({ QS_LISTEN_LEASE_SECONDS: '1' });
  t.teardown(() => h.stop());
  const client = (await newUser(h.qs)).clients[0]!;
  const config = await queueConfig(h, client);
  // What the bus carries on the queue's subject, whoever listens.
  const onBus: number[] = [];
  const tap = await h.node.node.bus.subscribe(listenSubject(h.environment.domain, client.owner.pcid), () => onBus.push(Date.now()));
  t.teardown(() => tap.unsubscribe());
  const settle = async (count: number) => {
    for (let i = 0; i < 200 && onBus.length < count; i++) await pause(10);
  };

  await enqueue(h, [config], bytes('g'), bytes('nobody listens'));
  await pause(200);
  t.is(onBus.length, 0, 'no listener, nothing on the bus');

  const pushed: number[] = [];
  const listener = await listenToQueue(h.node.url, client.owner, (message) => pushed.push(message.sequenceNumber));
  // Past the first lease: only renewals keep it.
  await pause(2500);
  await enqueue(h, [config], bytes('g'), bytes('still listening'));
  await settle(1);
  for (let i = 0; i < 200 && pushed.length === 0; i++) await pause(10);
  t.is(onBus.length, 1);
  t.deepEqual(pushed, [2]);

  listener.close();
  await listener.closed;
  await pause(1500);
  await enqueue(h, [config], bytes('g'), bytes('gone again'));
  await pause(200);
  t.is(onBus.length, 1, 'after the lease ran out, nothing more on the bus');
  t.is((await h.qs.dequeue(client.owner, 0, 10)).messages.length, 4, 'every message is stored either way');
});
