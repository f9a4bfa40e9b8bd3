// Refusals: wrong keys, expired, replayed or misdirected tokens, bad sizes, malformed input and
// internal methods. Each gets a typed error and changes nothing.
import test from 'ava';
import { hs } from '../../schemas/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { generateSigningKeyPair, randomBytes } from '../../protocol/crypto/index.js';
import { signRequest } from '../../protocol/qs/auth-token.js';
import { bytes, enqueue, newUser, queueConfig, refused, startQs, type QsHarness } from './helpers.js';

const q = hs.qs;
let h: QsHarness;
test.before(async () => { h = await startQs({ QS_TOKEN_WINDOW_SECONDS: '30' }); });
test.after.always(async () => { await h?.stop(); });

const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('hex');
const editParams = (authKey: Uint8Array, queueKey: Uint8Array) => q.EditClientRecordParams.encode({ clientRecordAuthKey: authKey, queueEncryptionKey: queueKey }).finish();

test('a token signed with the wrong key, expired, or for another method is refused', async (t) => {
  const alice = await newUser(h.qs);
  const client = alice.clients[0]!;
  const before = await h.qs.getClientRecord(client.owner);
  const params = editParams(generateSigningKeyPair().publicKey, client.queueKeys.publicKey);
  const send = (request: hs.qs.ISignedRequest, method = 'EditClientRecord') => h.qs.http.call('qs', method, q.SignedRequest, q.Empty, request);
  const sender = { kind: 'pcid' as const, id: client.owner.pcid };

  await refused(t, send(signRequest(sender, generateSigningKeyPair().privateKey, 'EditClientRecord', params)), ErrorCode.UNAUTHENTICATED);
  await refused(t, send(signRequest(sender, client.owner.signingKey, 'EditClientRecord', params, Date.now() - 60_000)), ErrorCode.UNAUTHENTICATED);
  await refused(t, send(signRequest(sender, client.owner.signingKey, 'EditClientRecord', params, Date.now() + 60_000)), ErrorCode.UNAUTHENTICATED);
  await refused(t, send(signRequest(sender, client.owner.signingKey, 'GetClientRecord', params)), ErrorCode.UNAUTHENTICATED);
  // The token covers the params: other params under the same token are refused.
  const signed = signRequest(sender, client.owner.signingKey, 'EditClientRecord', params);
  await refused(t, send({ ...signed, params: editParams(generateSigningKeyPair().publicKey, client.queueKeys.publicKey) }), ErrorCode.UNAUTHENTICATED);
  // A user-record token does not act on a client record.
  await refused(t, send(signRequest({ kind: 'puid', id: alice.user.puid }, alice.user.signingKey, 'EditClientRecord', params)), ErrorCode.BAD_REQUEST);
  await refused(t, send({ params }), ErrorCode.UNAUTHENTICATED);

  const after = await h.qs.getClientRecord(client.owner);
  t.is(hex(after.clientRecordAuthKey), hex(before.clientRecordAuthKey));
});

test('a replayed token is refused, also after a change it authorized', async (t) => {
  const alice = await newUser(h.qs);
  const client = alice.clients[0]!;
  const next = generateSigningKeyPair();
  const request = signRequest({ kind: 'puid', id: alice.user.puid }, alice.user.signingKey, 'EditUserRecord',
    q.EditUserRecordParams.encode({ userRecordAuthKey: next.publicKey, friendshipToken: randomBytes(32) }).finish());
  const get = signRequest({ kind: 'pcid', id: client.owner.pcid }, client.owner.signingKey, 'GetClientRecord', q.GetClientRecordParams.encode({}).finish());
  await h.qs.http.call('qs', 'GetClientRecord', q.SignedRequest, q.GetClientRecordReply, get);
  await refused(t, h.qs.http.call('qs', 'GetClientRecord', q.SignedRequest, q.GetClientRecordReply, get), ErrorCode.UNAUTHENTICATED);
  await h.qs.http.call('qs', 'EditUserRecord', q.SignedRequest, q.Empty, request);
  await refused(t, h.qs.http.call('qs', 'EditUserRecord', q.SignedRequest, q.Empty, request), ErrorCode.UNAUTHENTICATED);
});

test('bad sizes are refused and create nothing', async (t) => {
  const keys = generateSigningKeyPair();
  const good = { userRecordAuthKey: keys.publicKey, friendshipToken: randomBytes(32), clientRecordAuthKey: keys.publicKey, queueEncryptionKey: keys.publicKey };
  await refused(t, h.qs.createUserRecord({ ...good, userRecordAuthKey: randomBytes(31) }), ErrorCode.BAD_REQUEST);
  await refused(t, h.qs.createUserRecord({ ...good, friendshipToken: randomBytes(8) }), ErrorCode.BAD_REQUEST);
  await refused(t, h.qs.createUserRecord({ ...good, queueEncryptionKey: randomBytes(33) }), ErrorCode.BAD_REQUEST);
  const alice = await newUser(h.qs);
  await refused(t, h.qs.createClientRecord(alice.user, { clientRecordAuthKey: randomBytes(5), queueEncryptionKey: keys.publicKey }), ErrorCode.BAD_REQUEST);
  await refused(t, h.qs.deleteClientRecord(alice.user, randomBytes(15)), ErrorCode.BAD_REQUEST);
  await refused(t, h.qs.editClientRecord(alice.clients[0]!.owner, {
    clientRecordAuthKey: keys.publicKey, queueEncryptionKey: alice.clients[0]!.queueKeys.publicKey, blocklistEntries: [new Uint8Array()],
  }), ErrorCode.BAD_REQUEST);
  t.is((await h.qs.getUserRecord(alice.user)).clientRecords.length, 1, 'no client record was added');
  const config = await queueConfig(h, alice.clients[0]!);
  await refused(t, enqueue(h, [config], bytes('g'), new Uint8Array(300_000)), ErrorCode.BAD_REQUEST);
  t.is((await h.qs.getClientRecord(alice.clients[0]!.owner)).nextSequenceNumber, 1, 'nothing was enqueued');
});

test('malformed bodies get typed errors, and internal methods are not reachable through the gateway', async (t) => {
  await refused(t, h.qs.http.post('/v1/qs/Dequeue', randomBytes(40)), ErrorCode.BAD_REQUEST);
  await refused(t, h.qs.http.post('/v1/qs/GetUserRecord', q.SignedRequest.encode({ auth: { tbs: randomBytes(20), signature: randomBytes(64) } }).finish()), ErrorCode.BAD_REQUEST);
  for (const method of ['Enqueue', 'LocalEnqueue', 'EnqueueHere', 'InitQueue', 'DeleteQueue', 'TakeKeyPackage', 'AuthorizeListen', 'RenewListen']) {
    await refused(t, h.qs.http.post(`/v1/qs/${method}`, new Uint8Array()), ErrorCode.NOT_FOUND);
  }
  const response = await fetch(new URL('/v1/qs/GetPublicKeys', h.node.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const keys = await response.json() as { queueConfigEncryptionKey: string; verifyingKey: string };
  t.is(Buffer.from(keys.verifyingKey, 'base64').length, 32);
  const bad = await fetch(new URL('/v1/qs/CreateUserRecord', h.node.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"friendshipToken": 7}' });
  t.is(bad.status, 400);
});
