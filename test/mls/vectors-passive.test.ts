// Both IETF passive-client files replayed through the public view. Every epoch must be accepted, and
// where the ts-mls passive client can follow (suites 1-3 are checked against it here; the CLI replay
// checks all suites) the view's epoch, tree hash and transcript hash must equal the client's.
import test from 'ava';
import { replayPassiveCase, type PassiveVector } from './helpers/passive.js';
import { loadVectors } from './helpers/vectors.js';

for (const file of ['passive-client-welcome.json', 'passive-client-handling-commit.json']) {
  test(`${file}: every epoch accepted and in step with the reference client`, async (t) => {
    const cases = loadVectors<PassiveVector>(file);
    let epochs = 0;
    let compared = 0;
    for (const [i, v] of cases.entries()) {
      const r = await replayPassiveCase(v, v.cipher_suite <= 3);
      t.deepEqual(r.failures, [], `case ${i} (suite ${v.cipher_suite})`);
      t.is(r.accepted, r.epochs, `case ${i}`);
      epochs += r.epochs;
      compared += r.compared;
    }
    t.log(`${cases.length} cases, ${epochs} epochs, ${compared} compared with ts-mls`);
    if (epochs > 0) t.true(compared > 0, 'the reference client followed some epochs');
  });
}
