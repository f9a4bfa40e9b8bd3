// 1,000 enqueues to one queue at once: the queue actor orders them, so sequence numbers are
// consecutive, and every acknowledged message is there to dequeue and decrypt.
import test from 'ava';
import { bytes, enqueue, newUser, queueConfig, receiver, startQs, text } from './helpers.js';

test('1,000 concurrent enqueues to one queue get consecutive sequence numbers and none is lost', async (t) => {
  // A generous deadline: the test is about order and loss, and shares the machine with other tests.
  const h = await startQs({ QS_KEY_UPDATE_MESSAGES: '100', REQUEST_TIMEOUT_MS: '60000' });
  t.teardown(() => h.stop());
  const client = (await newUser(h.qs)).clients[0]!;
  const config = await queueConfig(h, client);
  const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => enqueue(h, [config], bytes('g'), bytes(`${i}`))));
  t.true(replies.every((r) => r.queueDeleted.length === 0 && r.rejected.length === 0));
  const rx = receiver(h, client);
  const received = await rx.receiveAll(300);
  t.is(received.length, 1000);
  t.deepEqual(received.map((m) => Number(text(m.payload))).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  // Key updates take sequence numbers too: 1 init + 1000 messages + one update per 100 messages.
  t.is(rx.reader.nextSequenceNumber, 1 + 1000 + 9);
});
