// IETF passive-client-welcome vectors through the public view.
import test from 'ava';
import { replayFile } from './helpers/passive-test.js';

test('passive-client-welcome.json: every Welcome yields an accepted view', (t) => replayFile(t, 'passive-client-welcome.json'));
