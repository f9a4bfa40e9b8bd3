// User and client record lifecycle through the gateway.
import test from 'ava';
import { ErrorCode } from '../../protocol/errors.js';
import { generateSigningKeyPair, randomBytes } from '../../protocol/crypto/index.js';
import { addClient, bytes, enqueue, newUser, queueConfig, refused, startQs, type QsHarness } from './helpers.js';

let h: QsHarness;
test.before(async () => { h = await startQs(); });
test.after.always(async () => { await h?.stop(); });

const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('hex');

test('a user record is created with its first client and read back by its owner', async (t) => {
  const alice = await newUser(h.qs);
  t.is(alice.user.puid.length, 16);
  const record = await h.qs.getUserRecord(alice.user);
  t.deepEqual(record.clientRecords.map(hex), [hex(alice.clients[0]!.owner.pcid)]);
  const client = await h.qs.getClientRecord(alice.clients[0]!.owner);
  t.deepEqual(hex(client.queueEncryptionKey), hex(alice.clients[0]!.queueKeys.publicKey));
  t.is(client.nextSequenceNumber, 1, 'message 0 carries the first ratchet key');
});

test('editing the user record rotates its auth key and friendship token', async (t) => {
  const alice = await newUser(h.qs);
  const next = generateSigningKeyPair();
  const token = randomBytes(32);
  await h.qs.editUserRecord(alice.user, { userRecordAuthKey: next.publicKey, friendshipToken: token });
  await refused(t, h.qs.getUserRecord(alice.user), ErrorCode.UNAUTHENTICATED);
  const rotated = { puid: alice.user.puid, signingKey: next.privateKey };
  t.is((await h.qs.getUserRecord(rotated)).clientRecords.length, 1);
  await refused(t, h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken), ErrorCode.UNAUTHENTICATED);
  t.is((await h.qs.getKeyPackageBatch(alice.user.puid, token)).keyPackageTuples.length, 0);
});

test('client records: create, edit, delete; the last one goes only with the user record', async (t) => {
  const alice = await newUser(h.qs);
  const second = await addClient(h.qs, alice);
  t.is((await h.qs.getUserRecord(alice.user)).clientRecords.length, 2);

  const nextAuth = generateSigningKeyPair();
  await h.qs.editClientRecord(second.owner, {
    clientRecordAuthKey: nextAuth.publicKey, queueEncryptionKey: second.queueKeys.publicKey, blocklistEntries: [bytes('spam-group')],
  });
  await refused(t, h.qs.getClientRecord(second.owner), ErrorCode.UNAUTHENTICATED);
  second.owner.signingKey = nextAuth.privateKey;
  const edited = await h.qs.getClientRecord(second.owner);
  t.is(edited.blocklistHashes.length, 1);
  t.is(edited.blocklistSalt.length, 16);

  await h.qs.deleteClientRecord(alice.user, second.owner.pcid);
  await refused(t, h.qs.getClientRecord(second.owner), ErrorCode.NOT_FOUND);
  t.is((await h.qs.getUserRecord(alice.user)).clientRecords.length, 1);

  await refused(t, h.qs.deleteClientRecord(alice.user, alice.clients[0]!.owner.pcid), ErrorCode.PRECONDITION_FAILED);
  t.truthy(await h.qs.getClientRecord(alice.clients[0]!.owner), 'the last client is still there');
});

test('a client record of another user cannot be deleted', async (t) => {
  const alice = await newUser(h.qs);
  const bob = await newUser(h.qs);
  await addClient(h.qs, bob);
  await refused(t, h.qs.deleteClientRecord(alice.user, bob.clients[0]!.owner.pcid), ErrorCode.NOT_FOUND);
  t.truthy(await h.qs.getClientRecord(bob.clients[0]!.owner));
});

test('deleting the user record deletes all its clients, and enqueues then report QueueDeleted', async (t) => {
  const alice = await newUser(h.qs);
  await addClient(h.qs, alice);
  const configs = await Promise.all(alice.clients.map((client) => queueConfig(h, client)));
  await h.qs.deleteUserRecord(alice.user);
  await refused(t, h.qs.getUserRecord(alice.user), ErrorCode.NOT_FOUND);
  for (const client of alice.clients) await refused(t, h.qs.getClientRecord(client.owner), ErrorCode.NOT_FOUND);
  const reply = await enqueue(h, configs, bytes('g'), bytes('too late'));
  t.is(reply.queueDeleted.length, 2);
  t.deepEqual(reply.queueDeleted.map((d) => hex(d.groupId)), [hex(bytes('g')), hex(bytes('g'))]);
});
