// encodeMessage (one reused writer): the same bytes as a fresh writer, every result its own copy, and
// nothing left behind by an encode that failed half-way or by an unusually large message.
import test from 'ava';
import { encodeMessage, hs } from '../../schemas/index.js';

const message = (seq: number, bytes: number): hs.qs.IQueueMessage => ({ sequenceNumber: seq, kind: hs.qs.QueueMessageKind.MESSAGE, ciphertext: new Uint8Array(bytes).fill(seq % 251) });

test('the same bytes as Type.encode().finish(), each result independent of the next', (t) => {
  const results = [10, 300, 0, 5000, 7].map((bytes, i) => ({ expected: hs.qs.QueueMessage.encode(message(i, bytes)).finish(), got: encodeMessage(hs.qs.QueueMessage, message(i, bytes)) }));
  for (const { expected, got } of results) t.deepEqual(got, expected);
});

test('a failed encode leaves no half-written state behind', (t) => {
  // A nested message whose encoding throws half-way (inside a fork).
  const failing = { groupId: new Uint8Array([7]), get payload(): Uint8Array { throw new Error('unreadable field'); } };
  t.throws(() => encodeMessage(hs.qs.EnqueueRequest, { pcid: new Uint8Array([1]), items: [failing] }), { message: 'unreadable field' });
  t.deepEqual(encodeMessage(hs.qs.QueueMessage, message(3, 20)), hs.qs.QueueMessage.encode(message(3, 20)).finish());
});

test('large messages encode whole, and later small ones still match', (t) => {
  const large = message(1, 200_000);
  t.deepEqual(encodeMessage(hs.qs.QueueMessage, large), hs.qs.QueueMessage.encode(large).finish());
  t.deepEqual(encodeMessage(hs.qs.QueueMessage, message(2, 5)), hs.qs.QueueMessage.encode(message(2, 5)).finish());
});
