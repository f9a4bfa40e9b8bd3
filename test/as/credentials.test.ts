// The credential hierarchy, client-signed requests and connection packages, without a server.
import test from 'ava';
import { hs } from '../../schemas/index.js';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { generateHpkeKeyPair, generateSigningKeyPair } from '../../protocol/crypto/index.js';
import {
  createAsCredential, createCsr, createIntermediateCredential, issueClientCredential, verifyClientCredential, verifyCsr,
  type SigningCredential, type TrustedCredentials,
} from '../../protocol/as/credentials.js';
import { REQUEST_WINDOW_MS, signRequest, verifyRequest } from '../../protocol/as/client-auth.js';
import { createConnectionKeyPackage, openConnectionPackage, sealConnectionPackage, verifyConnectionKeyPackage } from '../../protocol/as/connection.js';
import { parseUserName } from '../../protocol/as/names.js';
import { openDirectMessage, sealDirectMessage } from '../../protocol/as/direct-queue.js';

const HOUR = 3_600_000;
/** Decoded bytes are Buffers; compare contents. */
const hex = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('hex');
const T0 = Date.UTC(2026, 0, 1);
const UUID = '0b9f3f4e-2f8a-4c1e-9a57-3d0c9c1b2a11';

interface Homeserver {
  root: SigningCredential;
  intermediate: SigningCredential;
  trusted: TrustedCredentials;
}

function homeserver(domain: string, intermediateLifetime = 10 * HOUR): Homeserver {
  const root = createAsCredential(domain, T0, 100 * HOUR);
  const intermediate = createIntermediateCredential(root, T0, intermediateLifetime);
  return { root, intermediate, trusted: { asCredentials: [root.credential], intermediates: [intermediate.credential] } };
}

function client(server: Homeserver, userName: string, lifetime = 5 * HOUR) {
  const keys = generateSigningKeyPair();
  const csr = verifyCsr(createCsr(userName, UUID, keys, T0));
  return { keys, credential: issueClientCredential(csr, server.intermediate, T0, lifetime) };
}

test('a client credential verifies up to its AS credential', (t) => {
  const server = homeserver('a.example');
  const { keys, credential } = client(server, 'alice@a.example');
  const tbs = verifyClientCredential(credential, server.trusted, T0 + HOUR);
  t.is(tbs.userName, 'alice@a.example');
  t.is(tbs.clientUuid, UUID);
  t.is(hex(tbs.verifyingKey), hex(keys.publicKey));
});

test('an expired intermediate, an expired or not yet valid client credential are refused', (t) => {
  const server = homeserver('a.example', 2 * HOUR);
  const { credential } = client(server, 'alice@a.example', 50 * HOUR);
  // The client credential's lifetime is capped at its issuer's.
  t.is(hs.as.ClientCredentialTbs.decode(credential.tbs!).notAfterMs, T0 + 2 * HOUR);
  const expired = t.throws(() => verifyClientCredential(credential, server.trusted, T0 + 3 * HOUR), { instanceOf: HsError });
  t.is(expired.code, ErrorCode.UNAUTHENTICATED);
  t.regex(expired.message, /intermediate credential is outside its validity/);
  t.throws(() => verifyClientCredential(credential, server.trusted, T0 - 1), { message: /outside its validity/ });
  const short = client(server, 'bob@a.example', HOUR);
  t.throws(() => verifyClientCredential(short.credential, server.trusted, T0 + HOUR + 1), { message: /client credential is outside its validity/ });
});

test('a foreign intermediate or a foreign AS credential is refused', (t) => {
  const home = homeserver('a.example');
  const foreign = homeserver('b.example');
  const { credential } = client(foreign, 'mallory@b.example');
  t.throws(() => verifyClientCredential(credential, home.trusted, T0), { message: /unknown AS intermediate credential/ });
  // The foreign intermediate presented alongside, but it is not signed by a trusted AS credential.
  const mixed = { asCredentials: home.trusted.asCredentials, intermediates: [...home.trusted.intermediates, foreign.intermediate.credential] };
  t.throws(() => verifyClientCredential(credential, mixed, T0), { message: /signed by an unknown AS credential/ });
  // A foreign AS issuing for a user of the home domain: its chain does not reach the home AS.
  const impostor = client(foreign, 'alice@a.example');
  t.throws(() => verifyClientCredential(impostor.credential, home.trusted, T0), { instanceOf: HsError });
  // And a chain that is valid but names a user of another domain than its issuer.
  t.throws(() => verifyClientCredential(impostor.credential, foreign.trusted, T0), { message: /another domain/ });
});

test('tampered credentials and signatures are refused', (t) => {
  const server = homeserver('a.example');
  const { credential } = client(server, 'alice@a.example');
  const tampered = { tbs: Uint8Array.from(credential.tbs!), signature: credential.signature };
  tampered.tbs[tampered.tbs.length - 1]! ^= 1;
  t.throws(() => verifyClientCredential(tampered, server.trusted, T0), { instanceOf: HsError });
  const badSignature = { tbs: credential.tbs, signature: Uint8Array.from(credential.signature!) };
  badSignature.signature[0]! ^= 1;
  t.throws(() => verifyClientCredential(badSignature, server.trusted, T0), { message: /client credential signature is invalid/ });
  // An intermediate used in place of a client credential: the label differs.
  t.throws(() => verifyClientCredential(server.intermediate.credential, server.trusted, T0), { instanceOf: HsError });
  t.throws(() => verifyClientCredential(undefined, server.trusted, T0), { message: /missing or malformed/ });
});

test('a CSR must be signed by the key it certifies and name a valid user and uuid', (t) => {
  const keys = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  const csr = createCsr('alice@a.example', UUID, keys, T0);
  t.is(verifyCsr(csr).userName, 'alice@a.example');
  const forged = { tbs: csr.tbs, signature: createCsr('alice@a.example', UUID, other, T0).signature };
  t.throws(() => verifyCsr(forged), { code: ErrorCode.BAD_REQUEST, message: /not signed by the key/ } as never);
  t.throws(() => verifyCsr(createCsr('Alice@a.example', UUID, keys, T0)), { message: /user name must be/ });
  t.throws(() => verifyCsr(createCsr('alice@a.example', 'not-a-uuid', keys, T0)), { message: /uuid/ });
  t.throws(() => verifyCsr({ tbs: new Uint8Array([0xff, 0xff]), signature: new Uint8Array(64) }), { message: /missing or malformed/ });
  t.throws(() => parseUserName('@a.example'));
  t.throws(() => parseUserName('alice'));
  t.deepEqual(parseUserName('al.ice_1@a.example'), { local: 'al.ice_1', domain: 'a.example' });
});

test('client-signed requests: method, key and timestamp window are checked', (t) => {
  const keys = generateSigningKeyPair();
  const signer = { userName: 'alice@a.example', clientUuid: UUID, privateKey: keys.privateKey };
  const payload = new Uint8Array([1, 2, 3]);
  const request = signRequest(signer, 'as/DeleteClient', payload, T0);
  const tbs = verifyRequest(request, 'as/DeleteClient', keys.publicKey, T0 + 1000);
  t.is(hex(tbs.payload), hex(payload));
  t.throws(() => verifyRequest(request, 'as/DeleteUser', keys.publicKey, T0), { message: /signed for as\/DeleteClient/ });
  t.throws(() => verifyRequest(request, 'as/DeleteClient', generateSigningKeyPair().publicKey, T0), { message: /signature is invalid/ });
  t.throws(() => verifyRequest(request, 'as/DeleteClient', keys.publicKey, T0 + REQUEST_WINDOW_MS + 1), { message: /outside the accepted window/ });
  t.throws(() => verifyRequest(request, 'as/DeleteClient', keys.publicKey, T0 - REQUEST_WINDOW_MS - 1), { message: /outside the accepted window/ });
});

test('connection packages: sealed to one init key, signed by the sender, chain verified', async (t) => {
  const server = homeserver('a.example');
  const alice = client(server, 'alice@a.example');
  const bob = client(server, 'bob@a.example');
  const init = generateHpkeKeyPair();
  const keyPackage = createConnectionKeyPackage(alice.credential, init.publicKey, T0 + HOUR, alice.keys.privateKey);
  t.is(hex(verifyConnectionKeyPackage(keyPackage, alice.keys.publicKey, T0).initKey), hex(init.publicKey));
  t.throws(() => verifyConnectionKeyPackage(keyPackage, bob.keys.publicKey, T0), { message: /not signed by its client/ });
  t.throws(() => verifyConnectionKeyPackage(keyPackage, alice.keys.publicKey, T0 + 2 * HOUR), { message: /expired/ });

  const contents = { connectionGroupId: new Uint8Array([7]), connectionGroupEarKey: new Uint8Array(32).fill(1), connectionGroupCredentialKey: new Uint8Array(32).fill(2) };
  const sealed = await sealConnectionPackage(contents, { credential: bob.credential, privateKey: bob.keys.privateKey }, init.publicKey);
  const opened = await openConnectionPackage(sealed, init, server.trusted, T0);
  t.is(opened.sender.userName, 'bob@a.example');
  t.is(hex(opened.contents.connectionGroupEarKey), hex(contents.connectionGroupEarKey));

  await t.throwsAsync(openConnectionPackage(sealed, generateHpkeKeyPair(), server.trusted, T0), { message: /another init key/ });
  const corrupted = { ...sealed, ciphertext: Uint8Array.from(sealed.ciphertext!) };
  corrupted.ciphertext[0]! ^= 1;
  await t.throwsAsync(openConnectionPackage(corrupted, init, server.trusted, T0), { message: /does not open/ });
  // Signed with a key that is not the one its credential certifies.
  const forged = await sealConnectionPackage(contents, { credential: bob.credential, privateKey: alice.keys.privateKey }, init.publicKey);
  await t.throwsAsync(openConnectionPackage(forged, init, server.trusted, T0), { message: /signature is invalid/ });
  // A sender whose chain leads to another homeserver.
  const foreign = homeserver('b.example');
  const mallory = client(foreign, 'mallory@b.example');
  const foreignPackage = await sealConnectionPackage(contents, { credential: mallory.credential, privateKey: mallory.keys.privateKey }, init.publicKey);
  await t.throwsAsync(openConnectionPackage(foreignPackage, init, server.trusted, T0), { message: /unknown AS intermediate/ });
});

test('direct queue messages open only with the queue key, for their client and position', async (t) => {
  const queue = generateHpkeKeyPair();
  const sealed = await sealDirectMessage(queue.publicKey, 'c.alice@a.example', 7, new Uint8Array([1, 2, 3]));
  t.deepEqual([...await openDirectMessage(queue, 'c.alice@a.example', 7, sealed)], [1, 2, 3]);
  await t.throwsAsync(openDirectMessage(queue, 'c.alice@a.example', 8, sealed), { message: /does not open/ });
  await t.throwsAsync(openDirectMessage(queue, 'd.alice@a.example', 7, sealed), { message: /does not open/ });
  await t.throwsAsync(openDirectMessage(generateHpkeKeyPair(), 'c.alice@a.example', 7, sealed), { message: /does not open/ });
});
