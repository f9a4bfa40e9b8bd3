import test from 'ava';
import { enqueue, newUser, queueConfig, receiver, startQs, bytes, text } from './helpers.js';

test('enqueue then dequeue and decrypt', async (t) => {
  const h = await startQs();
  t.teardown(() => h.stop());
  const alice = await newUser(h.qs);
  const client = alice.clients[0]!;
  const config = await queueConfig(h, client);
  const reply = await enqueue(h, [config], bytes('group-1'), bytes('hello'));
  t.deepEqual(reply.queueDeleted, []);
  t.deepEqual(reply.rejected, []);
  const got = await receiver(h, client).receiveAll();
  t.deepEqual(got.map((m) => text(m.payload)), ['hello']);
});
