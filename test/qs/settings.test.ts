// QS settings: defaults, and every bad value reported at once.
import test from 'ava';
import { SettingsError } from '../../actors/runtime/settings.js';
import { readQsSettings } from '../../actors/qs/settings.js';

test('defaults follow the spec and the docs', (t) => {
  const settings = readQsSettings({});
  t.is(settings.maxDequeue, 500);
  t.is(settings.tokenWindowMs, 60_000);
  t.is(settings.keyUpdateMessages, 1000);
  t.is(settings.queueHeadInterval, 64);
});

test('bad values are all reported in one SettingsError', (t) => {
  const error = t.throws(() => readQsSettings({ QS_MAX_DEQUEUE: '0', QS_TOKEN_WINDOW_SECONDS: 'soon', QS_KEY_UPDATE_MESSAGES: '5' }), { instanceOf: SettingsError });
  t.is(error?.problems.length, 2);
  t.regex(error!.message, /QS_MAX_DEQUEUE must be an integer from 1 to 100000/);
  t.regex(error!.message, /QS_TOKEN_WINDOW_SECONDS/);
});
