// The queue ratchet's associated data: queue id, then the sequence number as a big-endian u64, then
// the message kind, for every sequence number a queue can reach (above 2^32 too).
import test from 'ava';
import { messageAad } from '../../protocol/qs/ratchet.js';
import { hs } from '../../schemas/index.js';

const KIND = hs.qs.QueueMessageKind.KEY_UPDATE;

test('associated data carries the sequence number as a big-endian u64', (t) => {
  const queueId = Uint8Array.from([1, 2, 3]);
  for (const sequenceNumber of [0, 1, 255, 256, 0xffff_ffff, 0x1_0000_0000, 0x1_2345_6789_abcd, Number.MAX_SAFE_INTEGER]) {
    const expected = new Uint8Array(12);
    expected.set(queueId);
    new DataView(expected.buffer).setBigUint64(3, BigInt(sequenceNumber));
    expected[11] = KIND;
    t.deepEqual(messageAad(queueId, sequenceNumber, KIND), expected, `sequence number ${sequenceNumber}`);
  }
});
