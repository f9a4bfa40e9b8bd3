// Fan-out queues: enqueue from the DS side, dequeue and decrypt through the ratchet with key updates,
// dequeue limits, concurrency, blocklists, config checks and live listening.
import test from 'ava';
import { hs } from '../../schemas/index.js';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { localEnqueue } from '../../actors/qs/fanout.js';
import { generateHpkeKeyPair, randomBytes } from '../../protocol/crypto/index.js';
import { sealQueueConfig } from '../../protocol/qs/queue-config.js';
import { QueueReader } from '../../protocol/qs/ratchet.js';
import { listenToQueue } from '../../client/qs-queue.js';
import { bytes, enqueue, newUser, queueConfig, receiver, refused, startQs, text, type QsHarness } from './helpers.js';

const Kind = hs.qs.QueueMessageKind;
let h: QsHarness;
test.before(async () => { h = await startQs({ QS_KEY_UPDATE_MESSAGES: '3', QS_MAX_DEQUEUE: '5' }); });
test.after.always(async () => { await h?.stop(); });

async function queueOf() {
  const user = await newUser(h.qs);
  const client = user.clients[0]!;
  return { user, client, config: await queueConfig(h, client) };
}

test('messages decrypt in order across key updates and partial dequeues', async (t) => {
  const { client, config } = await queueOf();
  for (let i = 0; i < 10; i++) await enqueue(h, [config], bytes('g'), bytes(`m${i}`));
  const raw = await h.qs.dequeue(client.owner, 0, 100);
  t.is(raw.messages.length, 5, 'the configured maximum caps the batch');
  t.is(raw.messages[0]!.kind, Kind.RATCHET_INIT);
  t.true(raw.messages.every((m, i) => m.sequenceNumber === i));
  const rx = receiver(h, client);
  const received = await rx.receiveAll(4);
  t.deepEqual(received.map((m) => text(m.payload)), Array.from({ length: 10 }, (_, i) => `m${i}`));
  // 1 init + 10 messages + a key update before messages 3, 6 and 9.
  t.is(rx.reader.nextSequenceNumber, 14);
  t.is((await h.qs.dequeue(client.owner, 14, 10)).messages.length, 0);
});

test('a message sealed under one ratchet position does not open at another', async (t) => {
  const { client, config } = await queueOf();
  await enqueue(h, [config], bytes('g'), bytes('a'));
  await enqueue(h, [config], bytes('g'), bytes('b'));
  const { messages } = await h.qs.dequeue(client.owner, 0, 10);
  const reader = new QueueReader(client.owner.pcid, client.queueKeys);
  await reader.read(messages[0]!);
  await t.throwsAsync(reader.read({ ...messages[2]!, sequenceNumber: 1 }));
  const wrongKey = new QueueReader(client.owner.pcid, generateHpkeKeyPair());
  await t.throwsAsync(wrongKey.read(messages[0]!));
});

test('dequeue deletes older messages and returns min(requested, configured, remaining)', async (t) => {
  const { client, config } = await queueOf();
  await enqueue(h, [config], bytes('g'), bytes('one'));
  await enqueue(h, [config], bytes('g'), bytes('two'));
  const first = await h.qs.dequeue(client.owner, 0, 2);
  t.deepEqual(first.messages.map((m) => m.sequenceNumber), [0, 1]);
  t.is(first.remaining, 1);
  const second = await h.qs.dequeue(client.owner, 2, 10);
  t.deepEqual(second.messages.map((m) => m.sequenceNumber), [2]);
  t.is(second.remaining, 0);
  const again = await h.qs.dequeue(client.owner, 0, 10);
  t.deepEqual(again.messages.map((m) => m.sequenceNumber), [2], 'messages 0 and 1 were deleted');
  await refused(t, h.qs.dequeue(client.owner, 4, 10), ErrorCode.BAD_REQUEST);
});

test('a blocklisted group is dropped silently, other groups still arrive', async (t) => {
  const { client, config } = await queueOf();
  await h.qs.editClientRecord(client.owner, {
    clientRecordAuthKey: (await h.qs.getClientRecord(client.owner)).clientRecordAuthKey, queueEncryptionKey: client.queueKeys.publicKey,
    blocklistEntries: [bytes('spam')],
  });
  const dropped = await enqueue(h, [config], bytes('spam'), bytes('buy now'));
  t.deepEqual([dropped.queueDeleted.length, dropped.rejected.length], [0, 0]);
  await enqueue(h, [config], bytes('friends'), bytes('hi'));
  t.deepEqual((await receiver(h, client).receiveAll()).map((m) => text(m.payload)), ['hi']);
});

test('a new queue encryption key re-keys the ratchet to it at once', async (t) => {
  const { client, config } = await queueOf();
  await enqueue(h, [config], bytes('g'), bytes('before'));
  const rx = receiver(h, client);
  t.deepEqual((await rx.receiveAll()).map((m) => text(m.payload)), ['before']);
  const record = await h.qs.getClientRecord(client.owner);
  const fresh = generateHpkeKeyPair();
  await h.qs.editClientRecord(client.owner, { clientRecordAuthKey: record.clientRecordAuthKey, queueEncryptionKey: fresh.publicKey });
  // Old configs were sealed by the old owner key: they no longer authenticate.
  t.deepEqual((await enqueue(h, [config], bytes('g'), bytes('x'))).rejected, [0]);
  client.queueKeys = fresh;
  const newConfig = await queueConfig(h, client);
  await enqueue(h, [newConfig], bytes('g'), bytes('after'));
  rx.reader.setKeyPair(fresh);
  t.deepEqual((await rx.receiveAll()).map((m) => text(m.payload)), ['after']);
});

test('configs that do not open, name another domain, or were not sealed by the owner are rejected', async (t) => {
  const { client, config } = await queueOf();
  const { queueConfigEncryptionKey } = await h.qs.getPublicKeys();
  const forged = await sealQueueConfig({ domain: h.environment.domain, qsPublicKey: queueConfigEncryptionKey, pcid: client.owner.pcid, owner: generateHpkeKeyPair() });
  const garbage = { clientHomeserverDomain: h.environment.domain, sealedConfig: { enc: randomBytes(32), ciphertext: randomBytes(80) } };
  const elsewhere = { ...config, clientHomeserverDomain: 'elsewhere.test' };
  const reply = await enqueue(h, [forged, garbage, elsewhere, config], bytes('g'), bytes('only the last'));
  t.deepEqual(reply.rejected, [0, 1, 2]);
  // The owner's config is open in the node's cache now; another ciphertext under its enc is another
  // config, which must open on its own (and fails), without spoiling the cached one.
  const ciphertext = Uint8Array.from(config.sealedConfig!.ciphertext!);
  ciphertext[0]! ^= 1;
  const tampered = { ...config, sealedConfig: { enc: config.sealedConfig!.enc, ciphertext } };
  t.deepEqual((await enqueue(h, [tampered], bytes('g'), bytes('tampered'))).rejected, [0]);
  // Nor is an enc that only begins like the cached one's (the cache finds entries by its first bytes).
  const enc = Uint8Array.from(config.sealedConfig!.enc!);
  enc[20]! ^= 1;
  const lookalike = { ...config, sealedConfig: { enc, ciphertext: config.sealedConfig!.ciphertext } };
  t.deepEqual((await enqueue(h, [lookalike], bytes('g'), bytes('lookalike'))).rejected, [0]);
  t.deepEqual((await enqueue(h, [config, tampered], bytes('g'), bytes('and this'))).rejected, [1]);
  t.deepEqual((await receiver(h, client).receiveAll()).map((m) => text(m.payload)), ['only the last', 'and this']);
  await t.throwsAsync(enqueue(h, [config], bytes('g'), new Uint8Array()));
  // Within the node the request is handed over as it is: missing fields are refused like empty ones.
  for (const partial of [{ groupId: bytes('g'), payload: bytes('x') }, { clientQueueConfigs: [config], groupId: bytes('g') }]) {
    const error = await t.throwsAsync(localEnqueue(h.node.node.actors, partial), { instanceOf: HsError });
    t.is(error?.code, ErrorCode.BAD_REQUEST);
  }
});

test('a live listener receives each new message once it is stored', async (t) => {
  const { client, config } = await queueOf();
  const seen: hs.qs.QueueMessage[] = [];
  let arrived!: () => void;
  const twoArrived = new Promise<void>((resolve) => { arrived = resolve; });
  const listener = await listenToQueue(h.node.url, client.owner, (message) => {
    seen.push(message);
    if (seen.length === 2) arrived();
  });
  t.teardown(() => listener.close());
  await enqueue(h, [config], bytes('g'), bytes('live 1'));
  await enqueue(h, [config], bytes('g'), bytes('live 2'));
  await twoArrived;
  const reader = new QueueReader(client.owner.pcid, client.queueKeys);
  await reader.read((await h.qs.dequeue(client.owner, 0, 1)).messages[0]!);
  const plain = [];
  for (const message of seen.sort((a, b) => a.sequenceNumber - b.sequenceNumber)) plain.push(text((await reader.read(message))!));
  t.deepEqual(plain, ['live 1', 'live 2']);
});

test('only the queue owner may listen', async (t) => {
  const { client } = await queueOf();
  const stranger = { pcid: client.owner.pcid, signingKey: randomBytes(32) };
  await refused(t, listenToQueue(h.node.url, stranger, () => undefined), ErrorCode.UNAUTHENTICATED);
});
