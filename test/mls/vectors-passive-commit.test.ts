// IETF passive-client-handling-commit vectors through the public view.
import test from 'ava';
import { replayFile } from './helpers/passive-test.js';

test('passive-client-handling-commit.json: every epoch accepted, in step with the reference client', (t) =>
  replayFile(t, 'passive-client-handling-commit.json'));
