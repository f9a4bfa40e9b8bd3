// What a database dump shows: no friendship token, no message plaintext, no ratchet key in the clear
// anywhere in the QS's rows or snapshots and no server private key.
import test from 'ava';
import { openDatabase } from '../../cluster/persistence/database.js';
import { loadOperatorKey } from '../../cluster/operator-key.js';
import { openRatchetSecret, step } from '../../protocol/qs/ratchet.js';
import { loadServerKeys } from '../../actors/qs/server-keys.js';
import { bytes, enqueue, newUser, queueConfig, startQs } from './helpers.js';

test('friendship tokens, plaintexts and keys do not appear in the database', async (t) => {
  // A queue head after every message, so the dump holds one to look into.
  const h = await startQs({ QS_QUEUE_HEAD_INTERVAL: '1' });
  t.teardown(() => h.stop());
  const alice = await newUser(h.qs);
  const client = alice.clients[0]!;
  const secretPayload = bytes('a very recognisable plaintext payload');
  await enqueue(h, [await queueConfig(h, client)], bytes('g'), secretPayload);
  // Alice's queue now holds the ratchet key after that message in its journaled head.
  const [aliceInit] = (await h.qs.dequeue(client.owner, 0, 1)).messages;
  const aliceHeadKey = step(await openRatchetSecret(client.queueKeys, client.owner.pcid, aliceInit!)).nextKey;
  const bob = await newUser(h.qs);
  const [init] = (await h.qs.dequeue(bob.clients[0]!.owner, 0, 1)).messages;
  const firstRatchetKey = await openRatchetSecret(bob.clients[0]!.queueKeys, bob.clients[0]!.owner.pcid, init!);
  await h.node.node.stop();

  const orm = await openDatabase({ kind: 'postgresql', url: h.environment.env.DATABASE_URL! });
  t.teardown(() => orm.close());
  const connection = orm.em.getConnection();
  const blobs: Buffer[] = [];
  for (const [table, column] of [['actor_snapshot', 'data'], ['qs_message', 'data'], ['qs_message', 'head'], ['qs_key_package', 'data'], ['qs_server_keys', 'sealed']] as const) {
    const rows: Record<string, Buffer>[] = await connection.execute(`select ${column} from ${table}`);
    const found = rows.map((row) => row[column]).filter((blob): blob is Buffer => blob !== null);
    if (column === 'head') t.true(found.length > 0, 'the dump holds a queue head');
    blobs.push(...found);
  }
  t.true(blobs.length >= 5, 'the dump holds the records, the queue and the server keys');
  const dump = Buffer.concat(blobs);
  const contains = (needle: Uint8Array) => dump.includes(Buffer.from(needle));
  t.false(contains(alice.friendshipToken), 'friendship token');
  t.false(contains(secretPayload), 'message plaintext');
  t.false(contains(client.queueKeys.privateKey), 'queue private key');
  t.true(contains(client.queueKeys.publicKey), 'the check can find what is there');
  // A fresh queue stores exactly its first ratchet key (sealed under the operator key).
  t.false(contains(firstRatchetKey), 'ratchet key');
  t.false(contains(aliceHeadKey), 'ratchet key in a queue head');
  const serverKeys = await loadServerKeys(orm, loadOperatorKey(h.environment.env));
  t.false(contains(serverKeys.queueConfig.privateKey), 'queue-config private key');
  t.false(contains(serverKeys.signing.privateKey), 'QS signing key');
});
