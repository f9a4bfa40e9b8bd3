// A queued message whose write fails is refused to the DS, and nothing is left behind: the next
// message for the same queue goes through (its line in the coalescer is free again, the queue actor
// reloads what the database holds) with the next sequence number, and the client reads exactly what
// was acknowledged.
import test from 'ava';
import { ErrorCode } from '../../protocol/errors.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { bytes, enqueue, newUser, queueConfig, receiver, refused, startQs, text } from './helpers.js';

test('a failed write refuses its fan-out and the queue carries on after it', async (t) => {
  const h = await startQs();
  const orm = await openDatabase({ kind: 'postgresql', url: h.environment.env.DATABASE_URL! });
  try {
    const client = (await newUser(h.qs)).clients[0]!;
    const config = await queueConfig(h, client);
    t.deepEqual(await enqueue(h, [config], bytes('g'), bytes('before')), { queueDeleted: [], rejected: [] });
    // The messages' table is gone for a moment: the write of the next message fails.
    await orm.em.getConnection().execute('alter table qs_message rename to qs_message_away');
    try {
      await refused(t, enqueue(h, [config], bytes('g'), bytes('lost')), ErrorCode.UNAVAILABLE);
    } finally {
      await orm.em.getConnection().execute('alter table qs_message_away rename to qs_message');
    }
    t.deepEqual(await enqueue(h, [config], bytes('g'), bytes('after')), { queueDeleted: [], rejected: [] });
    const raw = await h.qs.dequeue(client.owner, 0, 100);
    t.deepEqual(raw.messages.map((message) => Number(message.sequenceNumber)), [0, 1, 2], 'init, before, after: no gap');
    t.deepEqual((await receiver(h, client).receiveAll()).map((message) => text(message.payload)), ['before', 'after']);
  } finally {
    await orm.close();
    await h.stop();
  }
});
