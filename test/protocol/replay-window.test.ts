// The replay window shared by the AS (request nonces) and the QS (QsAuthToken ids).
import test from 'ava';
import { ErrorCode, HsError } from '../../protocol/errors.js';
import { MAX_SEEN_VALUES, rememberOnce } from '../../protocol/replay-window.js';

const id = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 255, 7, 7);

test('a value is accepted once within its validity and forgotten after it', (t) => {
  const seen = rememberOnce([], id(1), 1_000, 0, 'token');
  const replay = t.throws(() => rememberOnce(seen, id(1), 1_000, 999, 'token'), { instanceOf: HsError });
  t.is(replay?.code, ErrorCode.UNAUTHENTICATED);
  t.regex(replay!.message, /token was already used/);
  // Past its expiry the entry is dropped (its request would fail the timestamp check anyway).
  t.deepEqual(rememberOnce(seen, id(2), 3_000, 1_001, 'token').map((entry) => [...entry.id]), [[...id(2)]]);
});

test('a full window refuses new values with RATE_LIMITED until entries expire', (t) => {
  let seen = Array.from({ length: MAX_SEEN_VALUES }, (_, n) => ({ id: id(n), expiresMs: 500 }));
  const full = t.throws(() => rememberOnce(seen, id(MAX_SEEN_VALUES + 1), 1_000, 100, 'token'), { instanceOf: HsError });
  t.is(full?.code, ErrorCode.RATE_LIMITED);
  seen = rememberOnce(seen, id(MAX_SEEN_VALUES + 1), 1_000, 501, 'token');
  t.is(seen.length, 1);
});
