// The Authentication Service through the gateway with the SDK, on NATS + PostgreSQL, behind the
// Privacy Pass gate.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { hs } from '../../schemas/index.js';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { generateHpkeKeyPair, generateSigningKeyPair } from '../../protocol/crypto/index.js';
import { createCsr } from '../../protocol/as/credentials.js';
import { signRequest } from '../../protocol/as/client-auth.js';
import { createConnectionKeyPackage } from '../../protocol/as/connection.js';
import { directQueueKey } from '../../actors/as/user.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import { startAuthNode, type AuthNode } from '../aas/helpers.js';

let server: AuthNode;
test.before(async () => { server = await startAuthNode(); });
test.after.always(async () => { await server?.stop(); });

const code = (error: unknown): string => (error instanceof HsError ? error.codeName : String(error));
const hex = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('hex');

/** A Register request built by hand, to send what the SDK never would. */
function registration(userName: string, options: { signer?: ReturnType<typeof generateSigningKeyPair>; queueKeyBytes?: number } = {}) {
  const keys = generateSigningKeyPair();
  const csr = createCsr(userName, randomUUID(), keys, Date.now());
  if (options.signer) csr.signature = createCsr(userName, randomUUID(), options.signer, Date.now()).signature;
  return { csr, queueEncryptionKey: new Uint8Array(options.queueKeyBytes ?? 32), inviteCode: '' };
}

const register = (request: hs.as.IRegisterRequest) => server.http.call('as', 'Register', hs.as.RegisterRequest, hs.as.ClientCredentialReply, request);

test('registration returns a verifiable credential; the name is then taken and stays unchanged', async (t) => {
  const alice = await server.user('alice');
  const tbs = await server.bare.verifyCredential(alice.identity.credential);
  t.is(tbs.userName, alice.name);
  t.is(hex(tbs.verifyingKey), hex(alice.identity.signingKey.publicKey));
  const duplicate = await t.throwsAsync(server.bare.register(alice.name));
  t.is(code(duplicate), 'CONFLICT');
  const credentials = await alice.as.clientCredentials(alice.name);
  t.deepEqual(credentials.map((entry) => entry.clientUuid), [alice.identity.clientUuid]);
});

test('registration refuses a bad signing request, a bad name or queue key, and changes nothing', async (t) => {
  const name = `carol-${randomUUID().slice(0, 8)}@${server.environment.domain}`;
  const forged = await t.throwsAsync(register(registration(name, { signer: generateSigningKeyPair() })));
  t.is(code(forged), 'BAD_REQUEST');
  t.regex(forged!.message, /not signed by the key it certifies/);
  t.is(code(await t.throwsAsync(register(registration(name, { queueKeyBytes: 31 })))), 'BAD_REQUEST');
  for (const badName of [`Carol@${server.environment.domain}`, `carol@elsewhere.example`, `@${server.environment.domain}`, 'carol']) {
    t.is(code(await t.throwsAsync(register(registration(badName)))), 'BAD_REQUEST', badName);
  }
  const garbage = await t.throwsAsync(register({ csr: { tbs: new Uint8Array([0xff]), signature: new Uint8Array() } }));
  t.is(code(garbage), 'BAD_REQUEST');
  // None of the refusals took the name.
  const carol = await server.bare.register(name);
  t.is(carol.userName, name);
});

test('clients: add one, delete one, never the last; strangers and deleted clients are refused', async (t) => {
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const second = await alice.as.addClient(alice.identity);
  t.is((await server.bare.verifyCredential(second.credential)).clientUuid, second.clientUuid);
  t.is((await alice.as.clientCredentials(alice.name)).length, 2);
  const entry = await alice.as.clientEntry(second, second.clientUuid);
  t.is(hex(entry.queueEncryptionKey), hex(second.queueKeyPair.publicKey));

  // Bob signing as a client of Alice: unknown client.
  const impostor = { ...bob.identity, userName: alice.name };
  t.is(code(await t.throwsAsync(alice.as.deleteClient(impostor, alice.identity.clientUuid))), 'UNAUTHENTICATED');
  t.is(code(await t.throwsAsync(alice.as.deleteClient(alice.identity, randomUUID()))), 'NOT_FOUND');

  await alice.as.deleteClient(second, alice.identity.clientUuid);
  t.deepEqual((await alice.as.clientCredentials(alice.name)).map((credential) => credential.clientUuid), [second.clientUuid]);
  t.is(code(await t.throwsAsync(alice.as.clientEntry(alice.identity, second.clientUuid))), 'UNAUTHENTICATED');
  const last = await t.throwsAsync(alice.as.deleteClient(second, second.clientUuid));
  t.is(code(last), 'PRECONDITION_FAILED');
  t.is((await alice.as.clientCredentials(alice.name)).length, 1);
  // A CSR for another user is refused, and the same uuid twice is a conflict.
  const wrongUser = { ...second, userName: bob.name };
  t.is(code(await t.throwsAsync(alice.as.addClient(wrongUser))), 'UNAUTHENTICATED');
});

test('a replayed signed request is refused', async (t) => {
  const alice = await server.user('alice');
  const request = signRequest({ userName: alice.name, clientUuid: alice.identity.clientUuid, privateKey: alice.identity.signingKey.privateKey },
    'as/GetClientEntry', hs.as.GetClientEntryPayload.encode({ clientUuid: alice.identity.clientUuid }).finish(), Date.now());
  const send = async () => server.http.call('as', 'GetClientEntry', hs.as.SignedRequest, hs.as.ClientEntryReply, { request },
    { authorization: await alice.pool.authorization() });
  t.is(hex((await send()).queueEncryptionKey), hex(alice.identity.queueKeyPair.publicKey));
  const replay = await t.throwsAsync(send());
  t.is(code(replay), 'UNAUTHENTICATED');
  t.regex(replay!.message, /replay/);
  // Signed for one method, sent to another.
  const misdirected = await t.throwsAsync(server.http.call('as', 'DeleteUser', hs.as.SignedRequest, hs.as.Empty, { request },
    { authorization: await alice.pool.authorization() }));
  t.is(code(misdirected), 'UNAUTHENTICATED');
  t.is((await alice.as.clientCredentials(alice.name)).length, 1);
});

test('direct queue: anyone with a token enqueues, the owner dequeues by sequence number', async (t) => {
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const target = alice.identity.clientUuid;
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await bob.as.enqueueDirect(alice.name, target, new Uint8Array([i, 42])));
  t.deepEqual(sent, [0, 1, 2]);
  // At rest the messages are sealed to the client's queue key: nothing of the plaintext is stored.
  const orm = await openDatabase({ kind: 'postgresql', url: server.environment.env.DATABASE_URL! });
  try {
    const rows = await orm.em.getConnection().execute<{ data: Buffer }[]>('select data from as_direct_message where client_id = ?', [directQueueKey(alice.name, target)]);
    t.is(rows.length, 3);
    for (const row of rows) {
      t.true(hs.as.DirectQueueCiphertext.decode(row.data).ciphertext.length === 2 + 16);
    }
  } finally {
    await orm.close();
  }
  const all = await alice.as.dequeueDirect(alice.identity, 0);
  t.deepEqual(all.messages.map((message) => [message.sequenceNumber, Array.from(message.message ?? [])]), [[0, [0, 42]], [1, [1, 42]], [2, [2, 42]]]);
  t.is(all.remaining, 0);
  const page = await alice.as.dequeueDirect(alice.identity, 1, 1);
  t.deepEqual(page.messages.map((message) => message.sequenceNumber), [1]);
  t.is(page.remaining, 1);
  // Everything below 3 is acknowledged and deleted; later messages continue the sequence.
  t.is((await alice.as.dequeueDirect(alice.identity, 3)).messages.length, 0);
  t.is(await bob.as.enqueueDirect(alice.name, target, new Uint8Array([3])), 3);
  t.deepEqual((await alice.as.dequeueDirect(alice.identity, 0)).messages.map((message) => message.sequenceNumber), [3]);
  const entry = await alice.as.clientEntry(alice.identity, target);
  t.is(entry.nextSequenceNumber, 4);
  t.true(entry.activityMs > Date.now() - 60_000);

  t.is(code(await t.throwsAsync(bob.as.enqueueDirect(alice.name, randomUUID(), new Uint8Array([1])))), 'NOT_FOUND');
  t.is(code(await t.throwsAsync(bob.as.enqueueDirect(alice.name, target, new Uint8Array(65_537)))), 'PAYLOAD_TOO_LARGE');
  t.is(code(await t.throwsAsync(bob.as.enqueueDirect(alice.name, target, new Uint8Array()))), 'BAD_REQUEST');
  t.is((await alice.as.clientEntry(alice.identity, target)).nextSequenceNumber, 4);
});

test('connection establishment: publish, fetch, seal to each client, open and verify the sender', async (t) => {
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const aliceSecond = await alice.as.addClient(alice.identity);
  await alice.as.publishConnectionPackages(alice.identity, 2);
  await alice.as.publishConnectionPackages(aliceSecond, 1);
  // A package carrying another client's credential is refused.
  const init = generateHpkeKeyPair();
  const foreign = createConnectionKeyPackage(bob.identity.credential, init.publicKey, Date.now() + 60_000, alice.identity.signingKey.privateKey);
  const refused = await t.throwsAsync(server.http.call('as', 'PublishConnectionPackages', hs.as.SignedRequest, hs.as.Empty, {
    request: signRequest({ userName: alice.name, clientUuid: alice.identity.clientUuid, privateKey: alice.identity.signingKey.privateKey },
      'as/PublishConnectionPackages', hs.as.PublishConnectionPackagesPayload.encode({ keyPackages: [foreign] }).finish(), Date.now()),
  }, { authorization: await alice.pool.authorization() }));
  t.is(code(refused), 'BAD_REQUEST');

  const contents = { connectionGroupId: new Uint8Array([1, 2, 3]), connectionGroupEarKey: new Uint8Array(32).fill(5), connectionGroupCredentialKey: new Uint8Array(32).fill(6) };
  t.is(await bob.as.sendConnectionPackage(bob.identity, alice.name, contents), 2);
  for (const client of [alice.identity, aliceSecond]) {
    const queued = await alice.as.dequeueDirect(client, 0);
    t.is(queued.messages.length, 1);
    const opened = await alice.as.openConnectionPackage(client, queued.messages[0]!.message ?? new Uint8Array());
    t.is(opened.sender.userName, bob.name);
    t.is(hex(opened.contents.connectionGroupId), '010203');
  }
  // Alice's first client had two packages (one was used); the last one stays as a last resort.
  for (let i = 0; i < 2; i++) t.is((await bob.as.fetchConnectionPackages(alice.name)).length, 2);
});

test('a deleted user is gone and the name can be registered again', async (t) => {
  const dave = await server.user('dave');
  await dave.as.enqueueDirect(dave.name, dave.identity.clientUuid, new Uint8Array([1]));
  await dave.as.deleteUser(dave.identity);
  t.is(code(await t.throwsAsync(dave.as.clientCredentials(dave.name))), 'NOT_FOUND');
  t.is(code(await t.throwsAsync(dave.as.enqueueDirect(dave.name, dave.identity.clientUuid, new Uint8Array([1])))), 'NOT_FOUND');
  const again = await server.bare.register(dave.name);
  t.not(again.clientUuid, dave.identity.clientUuid);
  // The new user starts with an empty queue; the old client no longer authenticates.
  t.is((await dave.as.dequeueDirect(again, 0)).messages.length, 0);
  t.is(code(await t.throwsAsync(dave.as.dequeueDirect(dave.identity, 0))), 'UNAUTHENTICATED');
});

test('AS credentials are public; internal methods are not reachable through the gateway', async (t) => {
  const credentials = await server.bare.asCredentials(true);
  t.is(credentials.asCredentials.length, 1);
  t.true(credentials.intermediates.length >= 1);
  for (const method of ['SignClientCredential', 'AuthenticateClient']) {
    const response = await fetch(`${server.node.url}/v1/as/${method}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array() });
    t.is(response.status, 404, method);
  }
});
