// Both bus implementations behave the same: replies, typed timeouts, no responders, wildcards.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import type { Bus } from '../../transport/bus.js';
import { LocalBus, subjectMatches } from '../../transport/local-bus.js';
import { NatsBus } from '../../transport/nats-bus.js';
import { shardOf, shardSubject } from '../../transport/subjects.js';
import { NATS_URL } from '../helpers/node.js';

const buses: [string, () => Promise<Bus>][] = [
  ['nats', () => NatsBus.connect(NATS_URL, 'bus-test')],
  ['in-process', async () => new LocalBus()],
];

for (const [name, open] of buses) {
  const prefix = () => `bustest_${randomBytes(4).toString('hex')}`;

  test(`${name}: request/reply round trip`, async (t) => {
    const bus = await open();
    const subject = `${prefix()}.echo`;
    await bus.serve(subject, async (data) => Uint8Array.from([...data].reverse()));
    t.deepEqual([...await bus.request(subject, Uint8Array.from([1, 2, 3]), 1000)], [3, 2, 1]);
    t.true(await bus.ping() >= 0);
    await bus.close();
  });

  test(`${name}: no responder is UNAVAILABLE and a silent one DEADLINE_EXCEEDED`, async (t) => {
    const bus = await open();
    const nobody = await t.throwsAsync(bus.request(`${prefix()}.nobody`, new Uint8Array(), 500), { instanceOf: HsError });
    t.is(nobody?.code, ErrorCode.UNAVAILABLE);
    const silent = `${prefix()}.silent`;
    await bus.serve(silent, () => new Promise(() => undefined));
    const timeout = await t.throwsAsync(bus.request(silent, new Uint8Array(), 100), { instanceOf: HsError });
    t.is(timeout?.code, ErrorCode.DEADLINE_EXCEEDED);
    await bus.close();
  });

  test(`${name}: subscriptions honour wildcards`, async (t) => {
    const bus = await open();
    const base = prefix();
    const seen: string[] = [];
    await bus.subscribe(`${base}.*.x`, (_data, subject) => seen.push(subject));
    await bus.subscribe(`${base}.>`, (_data, subject) => seen.push(`all:${subject}`));
    bus.publish(`${base}.a.x`, new Uint8Array([1]));
    bus.publish(`${base}.a.y`, new Uint8Array([2]));
    await bus.ping(); // a round trip flushes what was published before it
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    t.deepEqual(seen.sort(), [`${base}.a.x`, `all:${base}.a.x`, `all:${base}.a.y`].sort());
    await bus.close();
  });
}

test('nats: a subject served by two nodes handles each request once', async (t) => {
  const [first, second] = await Promise.all([NatsBus.connect(NATS_URL, 'bus-test-1'), NatsBus.connect(NATS_URL, 'bus-test-2')]);
  const subject = `bustest_${randomBytes(4).toString('hex')}.shared`;
  const handled: string[] = [];
  await first.serve(subject, async () => { handled.push('first'); return Uint8Array.of(1); });
  await second.serve(subject, async () => { handled.push('second'); return Uint8Array.of(2); });
  await Promise.all([first.ping(), second.ping()]); // both subscriptions are known to the server
  const requests = 40;
  for (let i = 0; i < requests; i++) await first.request(subject, new Uint8Array(), 1000);
  await Promise.all([first.ping(), second.ping()]);
  t.is(handled.length, requests, 'no request ran on both nodes');
  await Promise.all([first.close(), second.close()]);
});

test('subject matching follows NATS rules', (t) => {
  t.true(subjectMatches('a.*.c', 'a.b.c'));
  t.false(subjectMatches('a.*.c', 'a.b.d'));
  t.false(subjectMatches('a.*', 'a.b.c'));
  t.true(subjectMatches('a.>', 'a.b.c'));
  t.false(subjectMatches('a.>', 'a'));
});

test('shards are stable and spread keys over the shard range', (t) => {
  t.is(shardOf('alice', 256), shardOf('alice', 256));
  const used = new Set(Array.from({ length: 2000 }, (_, i) => shardOf(`user-${i}`, 256)));
  t.true(used.size > 240);
  t.is(shardSubject('Example.org', 'qs', 7), 'hs.example_org.qs.7');
  // FNV-1a over UTF-8: fixed values, so nodes of different versions agree on every key's shard.
  const pinned: [string, number, number][] = [['alice', 231, 999], ['user-7', 78, 1614], ['AbC_-09xyz', 11, 2571], ['bób@домен.example', 11, 2059], ['', 197, 3525]];
  for (const [key, of256, of4096] of pinned) t.deepEqual([shardOf(key, 256), shardOf(key, 4096)], [of256, of4096], key);
});
