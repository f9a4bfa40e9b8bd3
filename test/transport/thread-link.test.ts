// ThreadLink: calls between two ends of a MessageChannel keep the bus contract (the reply bytes, or a
// typed error; anything else becomes INTERNAL), many calls travel together, and a closed link fails
// what it still waits for with UNAVAILABLE.
import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { ErrorCode, HsError, conflict } from '../../protocol/errors.js';
import { ThreadLink } from '../../transport/thread-link.js';
import type { EnvelopeHandler } from '../../transport/envelope.js';

function pair(serveA: EnvelopeHandler, serveB: EnvelopeHandler): [ThreadLink, ThreadLink] {
  const { port1, port2 } = new MessageChannel();
  return [new ThreadLink(port1, serveA), new ThreadLink(port2, serveB)];
}

const never: EnvelopeHandler = () => new Promise(() => undefined);

test('calls reach the other end and come back, in both directions', async (t) => {
  const seen: string[] = [];
  const echo = (name: string): EnvelopeHandler => async (module, key, method, body, deadline) => {
    seen.push(`${name}:${module}/${key}/${method}/${deadline}`);
    return new Uint8Array([...body].reverse());
  };
  const [a, b] = pair(echo('a'), echo('b'));
  t.teardown(() => a.close());
  t.deepEqual(await a.call('qs', 'k1', 'Enqueue', new Uint8Array([1, 2, 3]), 42), new Uint8Array([3, 2, 1]));
  t.deepEqual(await b.call('as', 'k2', 'Get', new Uint8Array([4, 5]), 0), new Uint8Array([5, 4]));
  t.deepEqual(seen, ['b:qs/k1/Enqueue/42', 'a:as/k2/Get/0']);
});

test('a view sends only its own bytes', async (t) => {
  let received: Uint8Array | undefined;
  const [a, b] = pair(never, async (_m, _k, _method, body) => {
    received = body;
    return body;
  });
  t.teardown(() => a.close());
  const slab = new Uint8Array(8192).fill(7);
  const view = slab.subarray(100, 104);
  const reply = await a.call('m', 'k', 'M', view, 0);
  t.is(received?.buffer.byteLength, 4);
  t.deepEqual(reply, new Uint8Array([7, 7, 7, 7]));
  t.truthy(b);
});

test('typed errors pass through; anything else arrives as INTERNAL without its details', async (t) => {
  const [a] = pair(never, async (_m, key) => {
    if (key === 'typed') throw conflict('already there');
    throw new Error('secret detail');
  });
  t.teardown(() => a.close());
  const typed = await t.throwsAsync(a.call('m', 'typed', 'M', new Uint8Array(), 0), { instanceOf: HsError });
  t.is(typed?.code, ErrorCode.CONFLICT);
  t.is(typed?.message, 'already there');
  const crashed = await t.throwsAsync(a.call('m', 'other', 'M', new Uint8Array(), 0), { instanceOf: HsError });
  t.is(crashed?.code, ErrorCode.INTERNAL);
  t.notRegex(crashed?.message ?? '', /secret/);
});

test('many calls in one turn all get their own answers', async (t) => {
  const [a] = pair(never, async (_m, key) => new TextEncoder().encode(key));
  t.teardown(() => a.close());
  const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);
  const replies = await Promise.all(keys.map((key) => a.call('m', key, 'M', new Uint8Array(), 0)));
  t.deepEqual(replies.map((reply) => new TextDecoder().decode(reply)), keys);
});

test('closing fails the calls still waiting and refuses new ones with UNAVAILABLE', async (t) => {
  const [a, b] = pair(never, never);
  const waiting = a.call('m', 'k', 'M', new Uint8Array(), 0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  b.close(); // the other end goes away: this end notices
  const error = await t.throwsAsync(waiting, { instanceOf: HsError });
  t.is(error?.code, ErrorCode.UNAVAILABLE);
  t.false(a.open);
  const refused = await t.throwsAsync(a.call('m', 'k', 'M', new Uint8Array(), 0), { instanceOf: HsError });
  t.is(refused?.code, ErrorCode.UNAVAILABLE);
});
