// Stopping a node drains its actors: a message of a stateless kind still in its handler is answered
// before the node stops (stateless messages are counted in flight like any other).
import test from 'ava';
import { setTimeout as delay } from 'node:timers/promises';
import { counterModule, joinMeeting } from '../fixtures/counter-module.js';
import { createTestEnvironment, startTestNode } from '../helpers/node.js';
import { hs } from '../generated/proto.js';

test('a node stops only after the stateless message in flight has been answered', async (t) => {
  const environment = await createTestEnvironment('embedded');
  t.teardown(() => environment.cleanup());
  const { node } = await startTestNode(environment, [counterModule]);
  const meeting = 'drain-stateless';
  const request = hs.testing.MeetRequest.encode({ counter: 'drain', meeting, parties: 2 }).finish();
  let answered = false;
  const inFlight = node.actors.call('counter', 'drain', 'EchoMeet', request).then(() => { answered = true; });
  await delay(50);
  let stopped = false;
  const stopping = node.stop().then(() => { stopped = true; });
  await delay(200);
  t.false(stopped, 'the node waits for the message still in its handler');
  t.false(answered);
  await joinMeeting(meeting, 2);
  await inFlight;
  await stopping;
  t.true(answered);
  t.true(stopped);
});
