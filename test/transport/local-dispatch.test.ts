// ActorClient's local dispatch: a module served in-process is called without the bus, with the bus
// path's contract (typed errors only, a deadline), and modules not registered still go over the bus.
import test from 'ava';
import { ErrorCode, HsError, notFound } from '../../protocol/errors.js';
import { ActorClient, serveModule, type EnvelopeHandler } from '../../transport/envelope.js';
import { LocalBus } from '../../transport/local-bus.js';

const SHARDS = 4;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

const echo: EnvelopeHandler = async (module, key, method, body, deadline) => {
  if (method === 'Refuse') throw notFound('no such thing');
  if (method === 'Crash') throw new Error('secret detail');
  if (method === 'Hang') return new Promise(() => undefined);
  return bytes(`${module}/${key}/${method}/${text(body)}/${deadline > Date.now() ? 'future' : 'past'}`);
};

test('a locally served module answers without any bus subscription', async (t) => {
  const bus = new LocalBus();
  const client = new ActorClient(bus, 'example.org', SHARDS, 1000);
  await t.throwsAsync(client.call('m', 'k', 'Echo', bytes('x')), { instanceOf: HsError, message: /no node serves/ });
  client.serveLocally('m', echo);
  t.is(text(await client.call('m', 'k', 'Echo', bytes('x'))), 'm/k/Echo/x/future');
  await bus.close();
});

test('local calls keep the bus contract: refusals pass through, crashes become INTERNAL, silence DEADLINE_EXCEEDED', async (t) => {
  const bus = new LocalBus();
  const client = new ActorClient(bus, 'example.org', SHARDS, 1000);
  client.serveLocally('m', echo);
  const refused = await t.throwsAsync(client.call('m', 'k', 'Refuse', new Uint8Array()), { instanceOf: HsError });
  t.is(refused?.code, ErrorCode.NOT_FOUND);
  const crashed = await t.throwsAsync(client.call('m', 'k', 'Crash', new Uint8Array()), { instanceOf: HsError });
  t.is(crashed?.code, ErrorCode.INTERNAL);
  t.notRegex(crashed!.message, /secret/);
  const silent = await t.throwsAsync(client.call('m', 'k', 'Hang', new Uint8Array(), { timeoutMs: 50 }), { instanceOf: HsError });
  t.is(silent?.code, ErrorCode.DEADLINE_EXCEEDED);
  await bus.close();
});

test('modules not served locally still go over the bus', async (t) => {
  const bus = new LocalBus();
  const client = new ActorClient(bus, 'example.org', SHARDS, 1000);
  client.serveLocally('m', echo);
  await serveModule(bus, 'example.org', 'other', Array.from({ length: SHARDS }, (_, shard) => shard), async () => bytes('via bus'));
  t.is(text(await client.call('other', 'k', 'Echo', new Uint8Array())), 'via bus');
  await bus.close();
});
