// Privacy Pass through the gateway on NATS + PostgreSQL: issuance and allowances (injected clock), the
// gate on every gated endpoint, double spending under concurrency, key rotation and retirement.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { OperatorKey } from '../../actors/runtime/operator-key.js';
import type { ModuleDeps } from '../../actors/runtime/actor-kind.js';
import { createAasModule } from '../../actors/aas/module.js';
import { createAsModule } from '../../actors/as/module.js';
import { hs } from '../../schemas/index.js';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { generateSigningKeyPair, sha256 } from '../../protocol/crypto/index.js';
import { signRequest } from '../../protocol/as/client-auth.js';
import { TokenBlinder } from '../../protocol/aas/blind.js';
import { authorizationHeader, BlindSigner, challengeFor, generateIssuerKey } from '../../protocol/aas/token.js';
import { openDatabase } from '../../cluster/persistence/database.js';
import type { ClientIdentity } from '../../client/as.js';
import { startAuthNode, TestClock, type AuthNode } from './helpers.js';

const clock = new TestClock();
const ALLOWANCE = 30;
const TIMEFRAME_S = 3600;
const ROTATION_S = 86_400;
let server: AuthNode;

test.before(async () => {
  server = await startAuthNode({
    env: { AAS_TOKEN_ALLOWANCE: String(ALLOWANCE), AAS_TOKEN_TIMEFRAME_S: String(TIMEFRAME_S), AAS_KEY_ROTATION_S: String(ROTATION_S) },
    aasClock: clock,
  });
});
test.after.always(async () => { await server?.stop(); });

const code = (error: unknown): string => (error instanceof HsError ? error.codeName : String(error));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A gated call with an explicit Authorization header (or none): the HTTP status, error and headers. */
async function gated(route: string, authorization?: string, body: Uint8Array = new Uint8Array()) {
  const response = await fetch(`${server.node.url}/v1/${route}`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/x-protobuf', ...(authorization ? { authorization } : {}) },
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const error = response.ok ? undefined : hs.common.Error.decode(bytes);
  return { status: response.status, code: error ? ErrorCode[error.code] : 'OK', message: error?.message ?? '', challenge: response.headers.get('www-authenticate') };
}

/** Issues tokens blinded for `challengeDomain`'s challenge, which need not be this server's. */
async function issueRaw(identity: ClientIdentity, count: number, challengeDomain: string): Promise<Uint8Array[]> {
  const keys = await server.aas.issuerKeys(true);
  const blinder = new TokenBlinder(keys.keys[0]!.tokenKey!);
  const blinded = Array.from({ length: count }, () => blinder.blind(sha256(challengeFor(challengeDomain))));
  const payload = hs.aas.IssueTokensPayload.encode({ tokenKeyId: blinder.tokenKeyId, tokenRequests: blinded.map((entry) => entry.request) }).finish();
  const request = signRequest({ userName: identity.userName, clientUuid: identity.clientUuid, privateKey: identity.signingKey.privateKey }, 'aas/IssueTokens', payload, Date.now());
  const reply = await server.http.call('aas', 'IssueTokens', hs.as.SignedRequest, hs.aas.IssueTokensReply, { request });
  return reply.tokenResponses.map((response, i) => blinder.finalize(blinded[i]!.pending, response));
}

const getCredentials = (userName: string) => hs.as.GetClientCredentialsRequest.encode({ userName }).finish();

test.serial('issuance: within the allowance, partly over it, refused when used up, refilled after the timeframe', async (t) => {
  const identity = await server.bare.register(`judy@${server.environment.domain}`);
  const first = await server.aas.issueTokens(identity, 20);
  t.is(first.tokens.length, 20);
  t.is(first.remaining, ALLOWANCE - 20);
  const second = await server.aas.issueTokens(identity, 20);
  t.is(second.tokens.length, ALLOWANCE - 20, 'only what is left of the allowance is granted');
  t.is(second.remaining, 0);
  const over = await t.throwsAsync(server.aas.issueTokens(identity, 1));
  t.is(code(over), 'RATE_LIMITED');
  // The granted tokens work.
  t.is((await gated('as/GetClientCredentials', authorizationHeader(second.tokens[0]!), getCredentials(identity.userName))).status, 200);

  clock.advance(TIMEFRAME_S * 1000 - 1000);
  t.is(code(await t.throwsAsync(server.aas.issueTokens(identity, 1))), 'RATE_LIMITED');
  clock.advance(1000);
  const refilled = await server.aas.issueTokens(identity, 5);
  t.is(refilled.tokens.length, 5);
  t.is(refilled.remaining, ALLOWANCE - 5);

  t.is(code(await t.throwsAsync(server.aas.issueTokens(identity, 101))), 'BAD_REQUEST');
  t.is((await server.aas.issueTokens(identity, 1)).remaining, ALLOWANCE - 6, 'a refused batch costs nothing');
});

test.serial('issuance needs a valid client signature from a live client', async (t) => {
  const identity = await server.bare.register(`ken@${server.environment.domain}`);
  const forged = { ...identity, signingKey: generateSigningKeyPair() };
  t.is(code(await t.throwsAsync(server.aas.issueTokens(forged, 1))), 'UNAUTHENTICATED');
  const stranger = { ...identity, userName: `nobody@${server.environment.domain}` };
  t.is(code(await t.throwsAsync(server.aas.issueTokens(stranger, 1))), 'UNAUTHENTICATED');
  const [token] = (await server.aas.issueTokens(identity, 1)).tokens;
  const { AsClient } = await import('../../client/as.js');
  const as = new AsClient(server.http, { authorization: async () => authorizationHeader(token!) });
  await as.deleteUser(identity);
  t.is(code(await t.throwsAsync(server.aas.issueTokens(identity, 1))), 'UNAUTHENTICATED');
});

test.serial('every gated endpoint refuses a missing, malformed, foreign-key, foreign-challenge or spent token', async (t) => {
  const operatorKey = new OperatorKey(randomBytes(32));
  const deps = { domain: 'routes.test', env: {}, operatorKey: () => operatorKey, log: pino({ level: 'silent' }) } as unknown as ModuleDeps;
  const routes = (await Promise.all([createAsModule()(deps), createAasModule()(deps)])).flatMap((module) =>
    module.kinds.flatMap((kind) => Object.entries(kind.methods).map(([name, method]) => ({ route: `${module.name}/${name}`, access: method.access ?? 'gated' }))));
  const gatedRoutes = routes.filter((route) => route.access === 'gated').map((route) => route.route);
  const publicRoutes = routes.filter((route) => route.access === 'public').map((route) => route.route).sort();
  t.deepEqual(publicRoutes, ['aas/GetIssuerKeys', 'aas/IssueTokens', 'as/GetAsCredentials', 'as/Register']);
  t.true(gatedRoutes.length >= 9);

  const identity = await server.bare.register(`leo@${server.environment.domain}`);
  const [spent, fresh] = (await server.aas.issueTokens(identity, 2)).tokens;
  t.is((await gated('as/GetClientCredentials', authorizationHeader(spent!), getCredentials(identity.userName))).status, 200);
  const foreignKey = generateIssuerKey();
  const foreignBlinder = new TokenBlinder(foreignKey.tokenKey);
  const foreignBlinded = foreignBlinder.blind(sha256(challengeFor(server.environment.domain)));
  const foreignToken = foreignBlinder.finalize(foreignBlinded.pending, new BlindSigner(foreignKey.privateKeyDer, foreignKey.tokenKeyId).sign(foreignBlinded.request));
  const [otherChallenge] = await issueRaw(identity, 1, 'elsewhere.example');
  const truncated = authorizationHeader(fresh!).slice(0, -10) + '"';
  const currentKey = (await server.aas.issuerKeys(true)).keys[0]!.tokenKey!;

  const cases: [string, string | undefined, RegExp][] = [
    ['missing', undefined, /needs a Privacy Pass token/],
    ['not a PrivateToken', 'Bearer abc', /needs a Privacy Pass token/],
    ['malformed', truncated, /malformed/],
    ['foreign key', authorizationHeader(foreignToken), /unknown or retired key/],
    ['foreign challenge', authorizationHeader(otherChallenge!), /another challenge/],
    ['spent', authorizationHeader(spent!), /already spent/],
  ];
  for (const route of gatedRoutes) {
    for (const [what, header, message] of cases) {
      const result = await gated(route, header);
      t.is(result.status, 401, `${route} ${what}`);
      t.is(result.code, 'UNAUTHENTICATED', `${route} ${what}`);
      t.regex(result.message, message, `${route} ${what}`);
      t.regex(result.challenge ?? '', /^PrivateToken challenge="[A-Za-z0-9_-]+", token-key="[A-Za-z0-9_-]+"$/, `${route} ${what}`);
    }
  }
  const header = (await gated(gatedRoutes[0]!)).challenge!;
  t.true(header.includes(`token-key="${Buffer.from(currentKey).toString('base64url')}"`));
  t.true(header.includes(`challenge="${Buffer.from(challengeFor(server.environment.domain)).toString('base64url')}"`));
  // The gate does not depend on the body's format: proto3 JSON is refused and admitted alike.
  const json = async (authorization?: string) => fetch(`${server.node.url}/v1/as/GetClientCredentials`, {
    method: 'POST', body: JSON.stringify({ userName: identity.userName }),
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
  });
  const refusedJson = await json();
  t.is(refusedJson.status, 401);
  t.is((await refusedJson.json() as { code: string }).code, 'UNAUTHENTICATED');
  t.regex(refusedJson.headers.get('www-authenticate') ?? '', /^PrivateToken challenge=/);
  const [jsonToken] = (await server.aas.issueTokens(identity, 1)).tokens;
  const admittedJson = await json(authorizationHeader(jsonToken!));
  t.is(admittedJson.status, 200);
  t.is(((await admittedJson.json()) as { clientCredentials: unknown[] }).clientCredentials.length, 1);
  // Public endpoints need no token.
  t.is((await gated('as/GetAsCredentials')).status, 200);
  t.is((await gated('aas/GetIssuerKeys')).status, 200);
  // The unspent token still works after all those refusals.
  t.is((await gated('as/GetClientCredentials', authorizationHeader(fresh!), getCredentials(identity.userName))).status, 200);
});

test.serial('100 concurrent redemptions of one token succeed exactly once', async (t) => {
  const identity = await server.bare.register(`mallory@${server.environment.domain}`);
  const [token] = (await server.aas.issueTokens(identity, 1)).tokens;
  const results = await Promise.all(Array.from({ length: 100 }, () => gated('as/GetClientCredentials', authorizationHeader(token!), getCredentials(identity.userName))));
  t.is(results.filter((result) => result.status === 200).length, 1);
  t.is(results.filter((result) => result.code === 'UNAUTHENTICATED' && /already spent/.test(result.message)).length, 99);
});

test.serial('key rotation: old tokens stay valid until their key retires, then are refused and their nonces pruned', async (t) => {
  const identity = await server.bare.register(`niaj@${server.environment.domain}`);
  const before = await server.aas.issuerKeys(true);
  const oldKeyId = hex(before.keys[0]!.tokenKeyId!);
  const [used, kept, late] = (await server.aas.issueTokens(identity, 3)).tokens;
  t.is((await gated('as/GetClientCredentials', authorizationHeader(used!), getCredentials(identity.userName))).status, 200);
  const orm = await openDatabase({ kind: 'postgresql', url: server.environment.env.DATABASE_URL! });
  const spentUnder = async (keyId: string) => Number((await orm.em.getConnection().execute<{ n: string }[]>(
    'select count(*) as n from aas_spent_token where token_key_id = ?', [keyId]))[0]!.n);
  try {
    // Earlier tests spent tokens under this key too; count from here.
    const spentBefore = await spentUnder(oldKeyId);
    t.true(spentBefore >= 1);
    clock.advance(ROTATION_S * 1000 + 1000);
    const rotated = await server.aas.issuerKeys(true);
    t.is(rotated.keys.length, 2);
    t.not(hex(rotated.keys[0]!.tokenKeyId!), oldKeyId);
    t.is(hex(rotated.keys[1]!.tokenKeyId!), oldKeyId);
    // Issuance moves to the new key (the client notices the rotation and blinds again) ...
    const renewed = await server.aas.issueTokens(identity, 1);
    t.is((await gated('as/GetClientCredentials', authorizationHeader(renewed.tokens[0]!), getCredentials(identity.userName))).status, 200);
    // ... while a token of the old key is still accepted.
    t.is((await gated('as/GetClientCredentials', authorizationHeader(kept!), getCredentials(identity.userName))).status, 200);
    t.is(await spentUnder(oldKeyId), spentBefore + 1);

    clock.advance(ROTATION_S * 1000);
    const refused = await gated('as/GetClientCredentials', authorizationHeader(late!), getCredentials(identity.userName));
    t.is(refused.status, 401);
    t.regex(refused.message, /unknown or retired key/);
    const retired = await server.aas.issuerKeys(true);
    t.false(retired.keys.some((key) => hex(key.tokenKeyId!) === oldKeyId));
    t.is(await spentUnder(oldKeyId), 0);
  } finally {
    await orm.close();
  }
});

test.serial('the token pool refills in the background when low and drops tokens of retired keys', async (t) => {
  const identity = await server.bare.register(`olivia@${server.environment.domain}`);
  const { TokenPool } = await import('../../client/token-pool.js');
  let poolNow = Date.now();
  const pool = new TokenPool(server.aas, identity, { batch: 5, lowWater: 2, now: () => poolNow });
  const first = await pool.take();
  t.is(pool.size, 4);
  t.false(pool.refillPending);
  await pool.take();
  t.false(pool.refillPending);
  await pool.take();
  // Down to the low-water mark: a refill is under way without anyone waiting for it.
  t.is(pool.size, 2);
  t.true(pool.refillPending);
  await pool.refill(); // joins the refill in flight
  t.is(pool.size, 7);
  t.is((await gated('as/GetClientCredentials', authorizationHeader(first), getCredentials(identity.userName))).status, 200);
  // Past the retirement of every key these tokens were issued under, the pool discards them and, as
  // the issuer keeps issuing under keys the pool's clock also sees as retired, gives up.
  poolNow += 10 * ROTATION_S * 1000;
  await t.throwsAsync(pool.take(), { instanceOf: HsError, message: /no usable tokens/ });
  t.is(pool.size, 0);
});
