// Privacy Pass type 2 pieces without a server: our native issuer and verifier against the reference
// library's client and origin, our BigInt client against both, header parsing; the operator key; settings.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Token, TokenChallenge, TOKEN_TYPES, publicVerif } from '@cloudflare/privacypass-ts';
import {
  authorizationHeader, BlindSigner, challengeDigestOf, challengeFor, generateIssuerKey, parseToken, tokenFromAuthorization, TokenVerifier,
} from '../../protocol/aas/token.js';
import { TokenBlinder } from '../../protocol/aas/blind.js';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { loadOperatorKey } from '../../cluster/operator-key.js';
import { OperatorKey } from '../../actors/runtime/operator-key.js';
import { readAasSettings, readAsSettings } from '../../actors/as/settings.js';

const key = generateIssuerKey();
const signer = new BlindSigner(key.privateKeyDer, key.tokenKeyId);
const verifier = new TokenVerifier(key.tokenKey);
const challenge = challengeFor('a.example');

test('the reference client\'s requests are signed by the native issuer and verify natively', async (t) => {
  const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  const request = await client.createTokenRequest(TokenChallenge.deserialize(challenge), key.tokenKey);
  const token = await client.finalize(new publicVerif.TokenResponse(signer.sign(request.serialize())));
  const parsed = parseToken(token.serialize());
  t.truthy(parsed);
  t.true(verifier.verify(parsed!));
  t.is(Buffer.from(parsed!.challengeDigest).toString('hex'), Buffer.from(challengeDigestOf(challenge)).toString('hex'));
});

test('the BigInt client\'s tokens verify natively and with the reference origin', async (t) => {
  const blinder = new TokenBlinder(key.tokenKey);
  const { request, pending } = blinder.blind(challengeDigestOf(challenge));
  const token = blinder.finalize(pending, signer.sign(request));
  t.true(verifier.verify(parseToken(token)!));
  const publicKey = await crypto.subtle.importKey('spki', publicVerif.convertRSASSAPSSToEnc(key.tokenKey), TOKEN_TYPES.BLIND_RSA.rsaParams, true, ['verify']);
  const origin = new publicVerif.Origin(publicVerif.BlindRSAMode.PSS, ['a.example']);
  t.true(await origin.verify(Token.deserialize(TOKEN_TYPES.BLIND_RSA, token), publicKey));
  // A signature from another key does not finalize, and a token with a flipped bit does not verify.
  const other = generateIssuerKey();
  const otherSigner = new BlindSigner(other.privateKeyDer, key.tokenKeyId);
  const second = blinder.blind(challengeDigestOf(challenge));
  t.throws(() => blinder.finalize(second.pending, otherSigner.sign(second.request)), { instanceOf: HsError });
  const flipped = Uint8Array.from(token);
  flipped[10]! ^= 1;
  t.false(verifier.verify(parseToken(flipped)!));
  // The gate's thread-pool check agrees, on the token input and on the signature.
  t.true(await verifier.verifyAsync(parseToken(token)!));
  t.false(await verifier.verifyAsync(parseToken(flipped)!));
  const badSignature = Uint8Array.from(token);
  badSignature[badSignature.length - 1]! ^= 1;
  t.false(await verifier.verifyAsync(parseToken(badSignature)!));
});

test('blinding many at once (one shared inversion) yields tokens that all verify', (t) => {
  const blinder = new TokenBlinder(key.tokenKey);
  const batch = blinder.blindMany(challengeDigestOf(challenge), 7);
  t.is(new Set(batch.map((entry) => Buffer.from(entry.request).toString('hex'))).size, 7);
  for (const { request, pending } of batch) t.true(verifier.verify(parseToken(blinder.finalize(pending, signer.sign(request)))!));
});

test('the issuer refuses malformed token requests', (t) => {
  const blinder = new TokenBlinder(key.tokenKey);
  const { request } = blinder.blind(challengeDigestOf(challenge));
  const wrongType = Uint8Array.from(request);
  wrongType[1] = 1;
  const wrongKey = Uint8Array.from(request);
  wrongKey[2]! ^= 0xff;
  const outOfRange = Uint8Array.from(request);
  outOfRange.fill(0xff, 3);
  for (const bad of [request.subarray(1), wrongType, wrongKey, outOfRange]) {
    const error = t.throws(() => signer.sign(bad), { instanceOf: HsError });
    t.is(error.code, ErrorCode.BAD_REQUEST);
  }
});

test('Authorization headers: RFC 9577 forms round-trip, others are not tokens', (t) => {
  const token = new Uint8Array(randomBytes(354));
  const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');
  t.is(hex(tokenFromAuthorization(authorizationHeader(token))), hex(token));
  t.is(hex(tokenFromAuthorization(`PrivateToken token=${Buffer.from(token).toString('base64url')}`)), hex(token));
  t.is(hex(tokenFromAuthorization(`privatetoken token="${Buffer.from(token).toString('base64')}"`)), hex(token));
  t.is(tokenFromAuthorization(undefined), undefined);
  t.is(tokenFromAuthorization('Bearer abc'), undefined);
  t.is(tokenFromAuthorization('PrivateToken nonsense'), undefined);
  t.is(parseToken(new Uint8Array(353)), undefined);
  // The canonical form's fast path takes exactly a token's worth of base64 characters: a stray
  // character in their place (which the decoder would skip) is not a token.
  const inner = Buffer.from(token).toString('base64url');
  for (const stray of [' ', '=', '*', '"', '.']) {
    const header = `PrivateToken token="${inner.slice(0, 100)}${stray}${inner.slice(101)}"`;
    t.is(header.length, authorizationHeader(token).length);
    t.is(tokenFromAuthorization(header), undefined, `stray ${JSON.stringify(stray)}`);
  }
  t.is(tokenFromAuthorization(`PrivateToken token="${inner.slice(0, -4)}"`)?.length, 351, 'a short token decodes but is no type 2 token');
  t.is(parseToken(tokenFromAuthorization(`PrivateToken token="${inner.slice(0, -4)}"`)!), undefined);
});

test('the operator key seals per purpose and refuses other keys and purposes', (t) => {
  const operatorKey = new OperatorKey(new Uint8Array(randomBytes(32)));
  const box = operatorKey.seal('as-signing-key', new Uint8Array([1, 2, 3]));
  t.deepEqual([...operatorKey.open('as-signing-key', box)], [1, 2, 3]);
  t.throws(() => operatorKey.open('aas-issuer-key', box), { message: /does not open/ });
  t.throws(() => new OperatorKey(new Uint8Array(randomBytes(32))).open('as-signing-key', box), { message: /does not open/ });
  // The high-rate form: its own boxes only, same refusals, fresh nonce each time.
  const frequent = operatorKey.sealFrequent('qs-queue-head', new Uint8Array([4, 5]));
  t.deepEqual([...operatorKey.openFrequent('qs-queue-head', frequent)], [4, 5]);
  t.notDeepEqual(operatorKey.sealFrequent('qs-queue-head', new Uint8Array([4, 5])), frequent);
  t.throws(() => operatorKey.openFrequent('qs-queue-ratchet', frequent), { message: /does not open/ });
  t.throws(() => operatorKey.open('qs-queue-head', frequent), { message: /does not open/ });
  t.throws(() => operatorKey.openFrequent('qs-queue-head', frequent.subarray(0, 30)), { message: /does not open/ });
  t.throws(() => operatorKey.openFrequent('qs-queue-head', frequent.subarray(0, 10)), { message: /truncated/ });
  t.throws(() => loadOperatorKey({ HS_OPERATOR_KEY: 'c2hvcnQ=' }), { message: /32 bytes in base64/ });
  t.throws(() => loadOperatorKey({ DATABASE_URL: 'postgresql://x@y/z' }), { message: /HS_OPERATOR_KEY is required/ });
});

test('settings: defaults, and every problem reported at once', (t) => {
  t.is(readAsSettings({}).registration, 'open');
  t.is(readAasSettings({}).allowance, 1000);
  const error = t.throws(() => readAsSettings({ AS_REGISTRATION: 'invite', AS_MAX_DEQUEUE: '0' }));
  t.regex(error.message, /AS_INVITE_SECRET/);
  t.regex(error.message, /AS_MAX_DEQUEUE/);
  t.throws(() => readAsSettings({ AS_REGISTRATION: 'maybe' }), { message: /AS_REGISTRATION must be one of open, invite, closed/ });
  t.throws(() => readAasSettings({ AAS_TOKEN_ALLOWANCE: 'lots', AAS_KEY_ROTATION_S: '5' }), { message: /AAS_TOKEN_ALLOWANCE[\s\S]*AAS_KEY_ROTATION_S/ });
});
