// The sets and comparisons that find random byte strings (HPKE encs) by a numeric hint: a member is
// only ever matched by the same bytes, and a member is a copy, unaffected by later changes to the
// buffer it came from.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { bytesHint, RandomBytesSet, sameBytes } from '../../actors/qs/random-bytes-keys.js';

test('a member matches only its own bytes, even when another string shares its hint', (t) => {
  const set = new RandomBytesSet();
  const member = randomBytes(32);
  set.add(member);
  t.true(set.has(Uint8Array.from(member)));
  const lookalike = Uint8Array.from(member);
  lookalike[31]! ^= 1;
  t.is(bytesHint(lookalike), bytesHint(member));
  t.false(set.has(lookalike));
  t.false(set.has(member.subarray(0, 31)));
  set.clear();
  t.false(set.has(member));
});

test('a member is a copy: changing the buffer it came from changes nothing', (t) => {
  const pool = randomBytes(64);
  const view = pool.subarray(16, 48);
  const original = Uint8Array.from(view);
  const set = new RandomBytesSet();
  set.add(view);
  pool.fill(7);
  t.true(set.has(original));
  t.false(set.has(view));
});

test('short strings have distinct hints and compare by length and content', (t) => {
  t.not(bytesHint(new Uint8Array(0)), bytesHint(new Uint8Array(7)));
  t.true(sameBytes(Uint8Array.of(1, 2), Buffer.from([1, 2])));
  t.false(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0)));
  t.false(sameBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
});
