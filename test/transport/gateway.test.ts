// The gateway: protobuf and JSON on the same route, typed 4xx errors for bad requests, no state
// change from any refused request, and the WebSocket stream scaffold.
import test from 'ava';
import WebSocket from 'ws';
import { hs as common } from '../../schemas/index.js';
import { ErrorCode, HsError, notFound, permissionDenied, unavailable } from '../../protocol/errors.js';
import { counterModule } from '../fixtures/counter-module.js';
import { CounterHttpClient } from '../helpers/counter-client.js';
import { createTestEnvironment, startTestNode, type TestEnvironment, type TestNode } from '../helpers/node.js';
import { hs } from '../generated/proto.js';

let environment: TestEnvironment;
let started: TestNode;

test.before(async () => {
  environment = await createTestEnvironment('nats-postgres');
  started = await startTestNode(environment, [counterModule], { BODY_LIMIT_BYTES: '2048' });
});

test.after.always(async () => {
  await started?.node.stop();
  await environment?.cleanup();
});

const post = (path: string, body: Uint8Array | string, contentType?: string) =>
  fetch(`${started.url}${path}`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });

async function expectTypedError(t: import('ava').ExecutionContext, response: Response, status: number, code: ErrorCode): Promise<void> {
  t.is(response.status, status);
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('application/json')) {
    t.is((await response.json() as { code: string }).code, ErrorCode[code]);
  } else {
    t.true(type.startsWith('application/x-protobuf'));
    t.is(common.common.Error.decode(new Uint8Array(await response.arrayBuffer())).code, code);
  }
}

test('protobuf requests reach the actor and the reply comes back as protobuf', async (t) => {
  const client = new CounterHttpClient(started.url);
  t.is((await client.add('proto', 4, 1)).total, 4);
  t.deepEqual((await client.get('proto')).log, [1]);
});

test('proto3 JSON is accepted on the same route and answered as JSON', async (t) => {
  const response = await post('/v1/counter/Add', JSON.stringify({ counter: 'json', amount: 6, seq: 2 }), 'application/json');
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { total: 6, count: 1 });
});

test('refused requests get typed 4xx errors and change nothing', async (t) => {
  const client = new CounterHttpClient(started.url);
  await client.add('guarded', 10);
  const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
  await expectTypedError(t, await post('/v1/counter/Add', garbage, 'application/x-protobuf'), 400, ErrorCode.BAD_REQUEST);
  await expectTypedError(t, await post('/v1/counter/Add', '{"counter": "guarded", "amount": ', 'application/json'), 400, ErrorCode.BAD_REQUEST);
  await expectTypedError(t, await post('/v1/counter/Add', '[1, 2]', 'application/json'), 400, ErrorCode.BAD_REQUEST);
  await expectTypedError(t, await post('/v1/counter/Add', JSON.stringify({ counter: 'guarded', amount: 'many' }), 'application/json'), 400, ErrorCode.BAD_REQUEST);
  await expectTypedError(t, await post('/v1/counter/Add', 'counter=guarded', 'text/plain'), 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE);
  await expectTypedError(t, await post('/v1/counter/Add', hs.testing.AddRequest.encode({ counter: 'guarded', amount: 1 }).finish()), 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE);
  const oversized = hs.testing.AddRequest.encode({ counter: 'guarded'.repeat(400), amount: 1 }).finish();
  await expectTypedError(t, await post('/v1/counter/Add', oversized, 'application/x-protobuf'), 413, ErrorCode.PAYLOAD_TOO_LARGE);
  await expectTypedError(t, await post('/v1/counter/Nope', hs.testing.GetRequest.encode({ counter: 'guarded' }).finish(), 'application/x-protobuf'), 404, ErrorCode.NOT_FOUND);
  await expectTypedError(t, await post('/v1/nothing/Add', new Uint8Array(), 'application/x-protobuf'), 404, ErrorCode.NOT_FOUND);
  await expectTypedError(t, await fetch(`${started.url}/v2/anything`), 404, ErrorCode.NOT_FOUND);
  const state = await client.get('guarded');
  t.is(state.total, 10);
  t.is(state.log.length, 1);
});

test('the SDK transport turns error replies back into HsError', async (t) => {
  const client = new CounterHttpClient(started.url);
  const error = await t.throwsAsync(client.add('sdk', 0), { instanceOf: HsError });
  t.is(error?.code, ErrorCode.BAD_REQUEST);
});

test('health, readiness and metrics endpoints answer', async (t) => {
  t.deepEqual(await (await fetch(`${started.url}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${started.url}/readyz`);
  t.is(ready.status, 200);
  t.like(await ready.json(), { bus: true, database: true });
  await new CounterHttpClient(started.url).add('metered', 1);
  const metrics = await (await fetch(`${started.url}/metrics`)).text();
  t.regex(metrics, /hs_http_requests_total\{route="counter\/Add",status="200"\} \d+/);
  t.regex(metrics, /hs_actors_active\{kind="test-counter"\} [1-9]/);
  t.regex(metrics, /hs_bus_round_trip_seconds_count [1-9]/);
});

test('a WebSocket stream forwards bus messages once authorised, and refusals close it with a typed code', async (t) => {
  const subject = `${environment.domain.replace(/\./g, '_')}.test.stream`;
  started.node.gateway.addStream('echo', async (frame) => {
    if (new TextDecoder().decode(frame) !== 'let me in') throw permissionDenied('not the owner');
    return { subject };
  });
  const wsUrl = started.url.replace('http', 'ws');

  const refused = new WebSocket(`${wsUrl}/v1/stream/echo`);
  refused.on('open', () => refused.send(Buffer.from('wrong')));
  const [code] = await new Promise<[number]>((resolve) => refused.on('close', (closeCode) => resolve([closeCode])));
  t.is(code, 4403);

  const unknown = new WebSocket(`${wsUrl}/v1/stream/nope`);
  t.is(await new Promise<number>((resolve) => unknown.on('close', (closeCode) => resolve(closeCode))), 4404);

  const socket = new WebSocket(`${wsUrl}/v1/stream/echo`);
  const received: string[] = [];
  const ready = new Promise<void>((resolve) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary && data.toString() === 'ready') resolve();
      else received.push(data.toString());
    });
  });
  socket.on('open', () => socket.send(Buffer.from('let me in')));
  await ready;
  started.node.bus.publish(subject, new TextEncoder().encode('hello'));
  for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(received, ['hello']);
  socket.close();
});

test('a stream renews while open: a transient failure is retried, a refusal closes the socket with its code', async (t) => {
  const subject = `${environment.domain.replace(/\./g, '_')}.test.renewed`;
  // Renewals answer: ok, unavailable (transient), ok, then not found (the thing listened to is gone).
  const answers = [undefined, unavailable('busy'), undefined, notFound('gone')];
  let renewals = 0;
  started.node.gateway.addStream('renewed', async () => ({
    subject,
    renew: {
      everyMs: 30,
      run: async () => {
        const answer = answers[Math.min(renewals++, answers.length - 1)];
        if (answer) throw answer;
      },
    },
  }));
  const socket = new WebSocket(`${started.url.replace('http', 'ws')}/v1/stream/renewed`);
  socket.on('open', () => socket.send(Buffer.from('hello')));
  const code = await new Promise<number>((resolve) => socket.on('close', (closeCode) => resolve(closeCode)));
  // 4404, not 4503: the transient failure before the refusal did not end the stream.
  t.is(code, 4404);
  t.true(renewals >= 4);
});
