// KeyPackage publication, replacement, single fetch, batches, last-resort semantics and the
// friendship-token check, with real MLS KeyPackages.
import test from 'ava';
import { ErrorCode } from '../../protocol/errors.js';
import { randomBytes } from '../../protocol/crypto/index.js';
import { verifyKeyPackageBatch } from '../../protocol/qs/key-package-batch.js';
import { addClient, keyPackageTuple, newUser, queueConfig, refused, startQs, type QsHarness, type TestClient } from './helpers.js';

let h: QsHarness;
test.before(async () => { h = await startQs({ QS_MAX_KEY_PACKAGES: '4' }); });
test.after.always(async () => { await h?.stop(); });

const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('hex');

async function tuples(client: TestClient, regular: number): Promise<{ regular: string[]; lastResort: string; all: Awaited<ReturnType<typeof keyPackageTuple>>[] }> {
  const config = await queueConfig(h, client);
  const all = await Promise.all([
    ...Array.from({ length: regular }, () => keyPackageTuple(config)),
    keyPackageTuple(config, { lastResort: true }),
  ]);
  return { regular: all.slice(0, regular).map((t) => hex(t.keyPackage)), lastResort: hex(all[regular]!.keyPackage), all };
}

test('a batch has one KeyPackage per client, consumed unless last resort, signed by the QS', async (t) => {
  const alice = await newUser(h.qs);
  const second = await addClient(h.qs, alice);
  const first = await tuples(alice.clients[0]!, 1);
  const other = await tuples(second, 0);
  await h.qs.publishKeyPackages(alice.clients[0]!.owner, first.all);
  await h.qs.publishKeyPackages(second.owner, other.all);
  const { verifyingKey } = await h.qs.getPublicKeys();

  const batch1 = await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken);
  t.deepEqual(batch1.keyPackageTuples.map((k) => hex(k.keyPackage)).sort(), [first.regular[0]!, other.lastResort].sort());
  const signed = verifyKeyPackageBatch(verifyingKey, batch1.keyPackageBatch!);
  t.truthy(signed, 'the batch verifies under the QS verifying key');
  t.is(signed!.keyPackageRefs.length, 2);
  t.is(signed!.domain, h.environment.domain);
  t.true(Math.abs(signed!.timestampMs - Date.now()) < 60_000);
  t.falsy(verifyKeyPackageBatch(verifyingKey, { ...batch1.keyPackageBatch!, tbs: new Uint8Array([1, ...(batch1.keyPackageBatch!.tbs ?? [])]) }));

  // The regular one was consumed; the last-resort ones stay.
  const batch2 = await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken);
  t.deepEqual(batch2.keyPackageTuples.map((k) => hex(k.keyPackage)).sort(), [first.lastResort, other.lastResort].sort());
  const batch3 = await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken);
  t.deepEqual(batch3.keyPackageTuples.map((k) => hex(k.keyPackage)).sort(), [first.lastResort, other.lastResort].sort());
});

test('a wrong friendship token gets nothing and consumes nothing', async (t) => {
  const alice = await newUser(h.qs);
  const set = await tuples(alice.clients[0]!, 1);
  await h.qs.publishKeyPackages(alice.clients[0]!.owner, set.all);
  await refused(t, h.qs.getKeyPackageBatch(alice.user.puid, randomBytes(32)), ErrorCode.UNAUTHENTICATED);
  await refused(t, h.qs.getKeyPackageBatch(alice.user.puid, new Uint8Array(3)), ErrorCode.BAD_REQUEST);
  await refused(t, h.qs.getKeyPackageBatch(randomBytes(16), alice.friendshipToken), ErrorCode.NOT_FOUND);
  const batch = await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken);
  t.deepEqual(batch.keyPackageTuples.map((k) => hex(k.keyPackage)), set.regular, 'the regular KeyPackage was still there');
});

test('publishing replaces every earlier KeyPackage', async (t) => {
  const alice = await newUser(h.qs);
  const old = await tuples(alice.clients[0]!, 2);
  await h.qs.publishKeyPackages(alice.clients[0]!.owner, old.all);
  const fresh = await tuples(alice.clients[0]!, 1);
  await h.qs.publishKeyPackages(alice.clients[0]!.owner, fresh.all);
  const got = [];
  for (let i = 0; i < 3; i++) got.push(hex((await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken)).keyPackageTuples[0]!.keyPackage));
  t.deepEqual(got, [fresh.regular[0]!, fresh.lastResort, fresh.lastResort]);
});

test('a sibling client KeyPackage is fetched with the user record key', async (t) => {
  const alice = await newUser(h.qs);
  const second = await addClient(h.qs, alice);
  const set = await tuples(second, 1);
  await refused(t, h.qs.getClientKeyPackage(alice.user, second.owner.pcid), ErrorCode.NOT_FOUND);
  await h.qs.publishKeyPackages(second.owner, set.all);
  t.is(hex((await h.qs.getClientKeyPackage(alice.user, second.owner.pcid)).keyPackage), set.regular[0]!);
  t.is(hex((await h.qs.getClientKeyPackage(alice.user, second.owner.pcid)).keyPackage), set.lastResort);
  t.is(hex((await h.qs.getClientKeyPackage(alice.user, second.owner.pcid)).keyPackage), set.lastResort);
  const bob = await newUser(h.qs);
  await refused(t, h.qs.getClientKeyPackage(bob.user, second.owner.pcid), ErrorCode.NOT_FOUND);
});

test('invalid publications are refused and leave the published KeyPackages as they were', async (t) => {
  const alice = await newUser(h.qs);
  const client = alice.clients[0]!;
  const good = await tuples(client, 1);
  await h.qs.publishKeyPackages(client.owner, good.all);
  const config = await queueConfig(h, client);
  const noLastResort = [await keyPackageTuple(config)];
  const noQueueConfig = [await keyPackageTuple(config, { withoutQueueConfig: true, lastResort: true })];
  const otherDomain = [await keyPackageTuple({ ...config, clientHomeserverDomain: 'elsewhere.test' }, { lastResort: true })];
  const garbage = [{ keyPackage: randomBytes(200), iccCiphertext: new Uint8Array() }];
  const real = await keyPackageTuple(config, { lastResort: true });
  const tampered = real.keyPackage!.slice();
  tampered[tampered.length - 10]! ^= 1;
  const tooMany = await Promise.all(Array.from({ length: 5 }, () => keyPackageTuple(config, { lastResort: true })));
  for (const bad of [noLastResort, noQueueConfig, otherDomain, garbage, [{ keyPackage: tampered, iccCiphertext: new Uint8Array() }], tooMany, []]) {
    await refused(t, h.qs.publishKeyPackages(client.owner, bad), ErrorCode.BAD_REQUEST);
  }
  const batch = await h.qs.getKeyPackageBatch(alice.user.puid, alice.friendshipToken);
  t.deepEqual(batch.keyPackageTuples.map((k) => hex(k.keyPackage)), good.regular);
});
