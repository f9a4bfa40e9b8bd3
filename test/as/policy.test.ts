// Registration policies (invite-only, closed) and credential expiry with an injected AS clock: each on
// its own node, since the settings and the clock are per node.
import test from 'ava';
import { createAasModule } from '../../actors/aas/module.js';
import { createAsModule } from '../../actors/as/module.js';
import { AsClient } from '../../client/as.js';
import { HsError } from '../../protocol/errors.js';
import { startAuthNode, TestClock } from '../aas/helpers.js';

const code = (error: unknown): string => (error instanceof HsError ? error.codeName : String(error));
const INVITE = 'correct horse battery staple';

test('invite-only registration needs the operator\'s invite secret', async (t) => {
  const server = await startAuthNode({ env: { AS_REGISTRATION: 'invite', AS_INVITE_SECRET: INVITE } });
  try {
    const name = `erin@${server.environment.domain}`;
    const denied = await t.throwsAsync(server.bare.register(name));
    t.is(code(denied), 'PERMISSION_DENIED');
    t.is(code(await t.throwsAsync(server.bare.register(name, { inviteCode: `${INVITE}!` }))), 'PERMISSION_DENIED');
    const erin = await server.bare.register(name, { inviteCode: INVITE });
    t.is(erin.userName, name);
  } finally {
    await server.stop();
  }
});

test('closed registration refuses everyone', async (t) => {
  const server = await startAuthNode({ env: { AS_REGISTRATION: 'closed' } });
  try {
    t.is(code(await t.throwsAsync(server.bare.register(`frank@${server.environment.domain}`))), 'PERMISSION_DENIED');
  } finally {
    await server.stop();
  }
});

test('an expired intermediate is rotated out: old credentials stop verifying, new ones chain to the new intermediate', async (t) => {
  const clock = new TestClock();
  const server = await startAuthNode({
    env: { AS_INTERMEDIATE_LIFETIME_S: '3600', AS_CLIENT_CREDENTIAL_LIFETIME_S: '86400' },
    modules: [createAsModule({ now: clock.now }), createAasModule()],
  });
  try {
    const as = new AsClient(server.http, undefined, clock.now);
    const grace = await as.register(`grace@${server.environment.domain}`);
    const [before] = (await as.asCredentials(true)).intermediates;
    // Past half the intermediate's life a successor starts; past its end the old one is dropped.
    clock.advance(3_601_000);
    const after = await as.asCredentials(true);
    t.false(after.intermediates.some((entry) => Buffer.from(entry.tbs!).equals(before!.tbs!)));
    const expired = await t.throwsAsync(as.verifyCredential(grace.credential));
    t.is(code(expired), 'UNAUTHENTICATED');
    const heidi = await as.register(`heidi@${server.environment.domain}`);
    t.is((await as.verifyCredential(heidi.credential)).userName, heidi.userName);
    // The expired client renews its credential (and key), signing with the key the AS registered.
    const { TokenPool } = await import('../../client/token-pool.js');
    const { AasClient } = await import('../../client/aas.js');
    const withTokens = new AsClient(server.http, new TokenPool(new AasClient(server.http, clock.now), heidi), clock.now);
    const renewed = await withTokens.renewCredential(grace);
    t.is((await as.verifyCredential(renewed.credential)).clientUuid, grace.clientUuid);
    t.is(code(await t.throwsAsync(withTokens.clientEntry(grace, grace.clientUuid))), 'UNAUTHENTICATED', 'the old key no longer signs');
    t.is(Buffer.from((await withTokens.clientEntry(renewed, grace.clientUuid)).clientCredential!.tbs!).toString('hex'), Buffer.from(renewed.credential.tbs!).toString('hex'));
    // Only its own credential: a CSR for another uuid is refused.
    const { hs } = await import('../../schemas/index.js');
    const { signRequest } = await import('../../protocol/as/client-auth.js');
    const { createCsr } = await import('../../protocol/as/credentials.js');
    const { generateSigningKeyPair } = await import('../../protocol/crypto/index.js');
    const { randomUUID } = await import('node:crypto');
    const csr = createCsr(grace.userName, randomUUID(), generateSigningKeyPair(), clock.now());
    const request = signRequest({ userName: grace.userName, clientUuid: grace.clientUuid, privateKey: renewed.signingKey.privateKey },
      'as/RenewClientCredential', hs.as.RenewClientCredentialPayload.encode({ csr }).finish(), clock.now());
    const foreignUuid = await t.throwsAsync(server.http.call('as', 'RenewClientCredential', hs.as.SignedRequest, hs.as.ClientCredentialReply, { request },
      { authorization: await new TokenPool(new AasClient(server.http, clock.now), heidi).authorization() }));
    t.is(code(foreignUuid), 'BAD_REQUEST');
  } finally {
    await server.stop();
  }
});

test('a credential from another homeserver does not verify against this one', async (t) => {
  const [home, other] = await Promise.all([startAuthNode(), startAuthNode()]);
  try {
    const ivan = await other.bare.register(`ivan@${other.environment.domain}`);
    const foreign = await t.throwsAsync(home.bare.verifyCredential(ivan.credential));
    t.is(code(foreign), 'UNAUTHENTICATED');
    t.regex(foreign!.message, /unknown AS intermediate/);
  } finally {
    await Promise.all([home.stop(), other.stop()]);
  }
});

test('server private keys are sealed under the operator key: another key cannot use them', async (t) => {
  const { randomBytes } = await import('node:crypto');
  const { createTestEnvironment, startTestNode } = await import('../helpers/node.js');
  const { HomeserverHttp } = await import('../../client/http.js');
  const { AasClient } = await import('../../client/aas.js');
  const environment = await createTestEnvironment('nats-postgres', { HS_OPERATOR_KEY: randomBytes(32).toString('base64') });
  const modules = [createAsModule(), createAasModule()];
  try {
    const first = await startTestNode(environment, modules);
    const as = new AsClient(new HomeserverHttp(first.url));
    const judy = await as.register(`judy@${environment.domain}`);
    await new AasClient(new HomeserverHttp(first.url)).issueTokens(judy, 1);
    await first.node.stop();

    const wrongKey = await startTestNode(environment, modules, { HS_OPERATOR_KEY: randomBytes(32).toString('base64') });
    try {
      const http = new HomeserverHttp(wrongKey.url);
      t.is(code(await t.throwsAsync(new AsClient(http).register(`kim@${environment.domain}`))), 'INTERNAL');
      t.is(code(await t.throwsAsync(new AasClient(http).issueTokens(judy, 1))), 'INTERNAL');
    } finally {
      await wrongKey.node.stop();
    }

    const again = await startTestNode(environment, modules);
    try {
      const http = new HomeserverHttp(again.url);
      t.is((await new AsClient(http).register(`kim@${environment.domain}`)).userName, `kim@${environment.domain}`);
      t.is((await new AasClient(http).issueTokens(judy, 1)).tokens.length, 1);
    } finally {
      await again.node.stop();
    }
  } finally {
    await environment.cleanup();
  }
});
