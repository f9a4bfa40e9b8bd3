// A node on several threads (NODE_THREADS): each thread owns the shards whose number modulo the
// thread count is its index; the gateway and local calls reach actors on every thread (QS queues, and
// the AS, AAS and QS modules together), nothing is lost across a restart, a thread that dies is
// reported while the others keep serving, and the configuration refuses what cannot work.
import test from 'ava';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../../cluster/config.js';
import { HomeserverNode } from '../../cluster/node.js';
import { shardOf } from '../../transport/subjects.js';
import { threadOfShard } from '../../cluster/shard-host.js';
import { idKey } from '../../protocol/qs/ids.js';
import { QueueReceiver } from '../../client/qs-queue.js';
import { statelessKind, type ModuleFactory } from '../../actors/runtime/actor-kind.js';
import { bytes, enqueue, newUser, queueConfig, receiver, startQs, text, type TestClient, type TestUser } from '../qs/helpers.js';
import { pino } from 'pino';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { counterModule } from '../fixtures/counter-module.js';
import { CounterBusClient } from '../helpers/counter-client.js';
import { createTestEnvironment } from '../helpers/node.js';
import { hs } from '../generated/proto.js';
import { asModule } from '../../actors/as/module.js';
import { aasModule } from '../../actors/aas/module.js';
import { qsModule } from '../../actors/qs/module.js';
import { startAuthNode } from '../aas/helpers.js';

type QueueConfig = Parameters<typeof enqueue>[1][number];

const threadOf = (client: TestClient, shardCount: number, threads: number): number => threadOfShard(shardOf(idKey(client.owner.pcid), shardCount), threads);

test('queues on both threads take, keep and hand back messages, across a restart', async (t) => {
  const h = await startQs({ NODE_THREADS: '2', QS_KEY_UPDATE_MESSAGES: '5' });
  t.teardown(() => h.stop());
  const { shardCount } = h.node.config;
  // Users until both threads own at least two queues.
  const users: TestUser[] = [];
  const clients: TestClient[] = [];
  while ([0, 1].some((thread) => clients.filter((c) => threadOf(c, shardCount, 2) === thread).length < 2)) {
    users.push(await newUser(h.qs));
    clients.push(users.at(-1)!.clients[0]!);
  }
  const configs = await Promise.all(clients.map((client) => queueConfig(h, client)));
  const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => enqueue(h, configs, bytes('g'), bytes(`m${i}`))));
  t.true(burst.every((reply) => reply.rejected.length === 0 && reply.queueDeleted.length === 0));

  // This thread activated only the queues it owns; the rest live on the other thread.
  const onFirstThread = clients.filter((client) => threadOf(client, shardCount, 2) === 0).length;
  t.is(h.node.node.runtime.activeCounts()['qs-client-queue'], onFirstThread);
  // /metrics adds up every thread's actors.
  const metrics = await (await fetch(`${h.node.url}/metrics`)).text();
  t.regex(metrics, new RegExp(`hs_actors_active\\{kind="qs-client-queue"\\} ${clients.length}\\b`));

  const receivers = clients.map((client) => receiver(h, client));
  for (const rx of receivers) {
    const got = (await rx.receiveAll()).map((m) => text(m.payload));
    t.is(got.length, 60);
    t.is(new Set(got).size, 60, 'every message once');
  }

  await h.restart();
  await enqueue(h, configs, bytes('g'), bytes('after restart'));
  for (const [i, client] of clients.entries()) {
    const rx = new QueueReceiver(h.qs, client.owner, client.queueKeys, receivers[i]!.reader);
    t.deepEqual((await rx.receiveAll()).map((m) => text(m.payload)), ['after restart'], 'the ratchet continues on whichever thread owns the queue');
  }

  // A queue gone on either thread is reported as deleted (the fan-out runs on the calling thread and
  // hands the other thread its part).
  const gone = [0, 1].map((thread) => clients.findIndex((client) => threadOf(client, shardCount, 2) === thread));
  for (const index of gone) await h.qs.deleteUserRecord(users[index]!.user);
  for (let i = 0; i < 4; i++) {
    const reply = await enqueue(h, configs, bytes('g'), bytes('after deletes'));
    const encOf = (config: QueueConfig | null | undefined) => Buffer.from(config!.sealedConfig!.enc!).toString('hex');
    t.deepEqual(reply.queueDeleted.map((deleted) => configs.findIndex((config) => encOf(config) === encOf(deleted.clientQueueConfig))).sort(), [...gone].sort());
    t.deepEqual(reply.rejected, []);
  }
});

test('threads need NATS and PostgreSQL, and no more threads than shards', (t) => {
  const error = t.throws(() => loadConfig({ NODE_THREADS: '2', SHARD_COUNT: '1' }));
  t.regex(error?.message ?? '', /NODE_THREADS above 1 needs NATS_URL and a PostgreSQL DATABASE_URL/);
  t.regex(error?.message ?? '', /NODE_THREADS may not exceed SHARD_COUNT/);
  const cluster = { NATS_URL: 'nats://127.0.0.1:4222', DATABASE_URL: 'postgresql://x@127.0.0.1/db' };
  t.is(loadConfig({ NODE_THREADS: '3', ...cluster }).threads, 3);
  t.is(loadConfig({ NODE_THREADS: 'auto', ...cluster }).threads, availableParallelism());
  t.is(loadConfig(cluster).threads, 1);
  t.is(loadConfig({ NODE_THREADS: 'auto' }).threads, 1, 'embedded mode runs on one thread');
  t.regex(t.throws(() => loadConfig({ NODE_THREADS: 'many', ...cluster }))?.message ?? '', /NODE_THREADS must be an integer/);
});

test('a module that other threads cannot import is refused at start', async (t) => {
  const closure: ModuleFactory = () => ({ name: 'closure', kinds: [statelessKind('closure', {})] });
  const environment = await createTestEnvironment('nats-postgres', { NODE_THREADS: '2' });
  t.teardown(() => environment.cleanup());
  const config = loadConfig(environment.env);
  await t.throwsAsync(HomeserverNode.start(config, { modules: [closure], env: environment.env, log: pino({ level: 'silent' }) }), { message: /no source, so it cannot run on 2 threads/ });
});

test('a thread that dies is reported, its shards refuse with UNAVAILABLE, and the rest keeps serving', async (t) => {
  const environment = await createTestEnvironment('nats-postgres', { NODE_THREADS: '2' });
  t.teardown(() => environment.cleanup());
  const config = loadConfig(environment.env);
  let failures = 0;
  const node = await HomeserverNode.start(config, { modules: [counterModule], env: environment.env, log: pino({ level: 'silent' }), onThreadFailure: () => failures++ });
  t.teardown(() => node.stop());
  const ownedBy = (thread: number): string => {
    for (let i = 0; ; i++) if (threadOfShard(shardOf(`counter-${i}`, config.shardCount), 2) === thread) return `counter-${i}`;
  };
  const [mine, theirs] = [ownedBy(0), ownedBy(1)];
  const counters = new CounterBusClient(node.actors);
  t.is((await counters.add(mine, 2)).total, 2);
  t.is((await counters.add(theirs, 3)).total, 3);
  const ready = async (): Promise<number> => (await fetch(`http://127.0.0.1:${node.port}/readyz`)).status;
  t.is(await ready(), 200);

  await node.actors.call('counter', theirs, 'EchoCrashThread', hs.testing.FailRequest.encode({ counter: theirs }).finish());
  for (let waited = 0; failures === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(failures, 1);
  t.is(await ready(), 503);
  const refused = await t.throwsAsync(counters.add(theirs, 1), { instanceOf: HsError });
  t.is(refused?.code, ErrorCode.UNAVAILABLE);
  t.is((await counters.add(mine, 1)).total, 3, 'the surviving thread still serves its shards');
});

test('the production modules on two threads: registration, tokens, gated calls and direct queues', async (t) => {
  const server = await startAuthNode({ env: { NODE_THREADS: '2' }, modules: [asModule, aasModule, qsModule] });
  t.teardown(() => server.stop());
  // Users until both threads hold at least one user actor (the AS keys user actors by name).
  const users: Awaited<ReturnType<typeof server.user>>[] = [];
  while ([0, 1].some((thread) => !users.some((user) => threadOfShard(shardOf(user.name, server.node.config.shardCount), 2) === thread))) users.push(await server.user());
  for (const sender of users) {
    for (const receiver of users) {
      const [entry] = await sender.as.clientCredentials(receiver.name);
      t.is(entry?.userName, receiver.name);
      t.true(await sender.as.enqueueDirect(receiver.name, receiver.identity.clientUuid, new TextEncoder().encode(`from ${sender.name}`)) >= 0);
    }
  }
  for (const receiver of users) {
    const direct = await receiver.as.dequeueDirect(receiver.identity, 0);
    t.is(direct.messages.length, users.length, 'one direct message from every user, whichever thread holds either');
  }
});
